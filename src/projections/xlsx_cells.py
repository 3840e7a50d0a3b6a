"""XLSX workbooks safe to open in a spreadsheet (Excel, WPS, LibreOffice), written with openpyxl.

The same rule as the CSVs (:mod:`projections.csv_cells`): a text cell that starts with a formula
trigger gets a leading single quote. openpyxl would otherwise store a string starting with ``=``
as a *formula* (a host unit named ``=HYPERLINK(…)`` would be a live link in the finance office),
and every text cell is written with the string type explicitly, so none is ever read as a
formula or a number. Amounts are numeric cells (``Decimal``, exact to the fen) shown with the
``0.00`` format, so the spreadsheet sums them; years and other integers are numeric too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .csv_cells import Text, csv_cell

MONEY_FORMAT = "0.00"
INTEGER_FORMAT = "0"


def _put(cell: Cell | MergedCell, value: Any) -> None:
    """One cell: a number stays a number (two places for a ``Decimal``), anything else is text,
    neutralised as :func:`~projections.csv_cells.csv_cell` does; ``None`` leaves it empty."""
    if value is None:
        return
    # A string cell is text already: a Text needs no quote to stay one (csv_cells.Text).
    safe = csv_cell(str(value) if isinstance(value, Text) else value)
    if isinstance(safe, Decimal):
        cell.value = safe
        cell.number_format = MONEY_FORMAT
    elif isinstance(safe, int):
        cell.value = safe
        cell.number_format = INTEGER_FORMAT
    else:
        # The type said, never openpyxl's guess (it takes a leading "=" for a formula).
        cell.value = str(safe)
        cell.data_type = "s"


def spreadsheet_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
                     totals: Sequence[Any] | None = None) -> bytes:
    """A one-sheet workbook: ``header`` in bold and frozen above ``rows``, then ``totals`` in
    bold (a totals row) when given."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook has its one sheet
    ws.title = title[:31]  # Excel's limit on a sheet's name
    bold = Font(bold=True)
    lines = [(header, True), *((r, False) for r in rows)]
    if totals is not None:
        lines.append((totals, True))
    for r, (values, strong) in enumerate(lines, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            _put(cell, value)
            if strong:
                cell.font = bold
    ws.freeze_panes = "A2"
    for c, name in enumerate(header, start=1):
        # A width that fits the Chinese header (two columns a character) or a long amount.
        ws.column_dimensions[get_column_letter(c)].width = max(14, 2 * len(name) + 2)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

__all__ = ["spreadsheet_xlsx", "MONEY_FORMAT", "INTEGER_FORMAT", "XLSX_MEDIA_TYPE"]
