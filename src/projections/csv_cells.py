"""CSV cells safe to open in a spreadsheet (Excel, WPS, LibreOffice).

A spreadsheet that opens a CSV evaluates any cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some of them, after a leading tab or carriage return) as a formula: a host unit named
``=HYPERLINK("http://…","点此")`` would become a live link in the bureau's finance office.
Every CSV the system writes goes through :func:`csv_cell`, which neutralises such a text cell as
OWASP recommends (a leading single quote, so the spreadsheet shows it as text) and leaves
numbers as numbers: a negative amount is a number, not a formula. A :class:`Text` value (a
unified social credit code) stays text even when it is all digits: a spreadsheet would make it a
number of 18 digits and lose the last three, so it gets the same leading quote.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_LIKE = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


class Text(str):
    """A text cell that a spreadsheet must not read as a number (统一社会信用代码: digits only
    in some codes)."""


def csv_cell(value: Any) -> Any:
    """The value to write in one CSV cell: ints and decimals as they are, ``None`` as empty,
    any other value as text, prefixed with ``'`` when it starts with a formula trigger (or, a
    :class:`Text`, when it reads as a number)."""
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) or (isinstance(value, Text) and NUMBER_LIKE.fullmatch(text)):
        return "'" + text
    return text


class SpreadsheetCsvWriter:
    """A ``csv.writer`` (CRLF line ends, as Excel writes them) whose every cell passes
    :func:`csv_cell`."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(v) for v in row])


__all__ = ["csv_cell", "SpreadsheetCsvWriter", "FORMULA_TRIGGERS", "Text"]
