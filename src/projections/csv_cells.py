"""CSV cells safe to open in a spreadsheet (Excel, WPS, LibreOffice).

A spreadsheet that opens a CSV evaluates any cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some of them, after a leading tab or carriage return) as a formula: a host unit named
``=HYPERLINK("http://…","点此")`` would become a live link in the bureau's finance office.
Every CSV the system writes goes through :func:`csv_cell`, which neutralises such a text cell as
OWASP recommends (a leading single quote, so the spreadsheet shows it as text) and leaves
numbers as numbers: a negative amount is a number, not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value to write in one CSV cell: ints and decimals as they are, ``None`` as empty,
    any other value as text, prefixed with ``'`` when it starts with a formula trigger."""
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class SpreadsheetCsvWriter:
    """A ``csv.writer`` (CRLF line ends, as Excel writes them) whose every cell passes
    :func:`csv_cell`."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(v) for v in row])


__all__ = ["csv_cell", "SpreadsheetCsvWriter", "FORMULA_TRIGGERS"]
