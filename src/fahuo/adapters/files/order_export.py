"""The order workbench's Excel export: the rows as the list shows them (masked), one sheet."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font


def orders_xlsx(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """An .xlsx of these rows under a bold header; ids stay text (19 digits lose their
    tail as numbers)."""
    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = "订单"
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([v if v is not None else "" for v in row])
    widths = (22, 12, 10, 34, 6, 16, 30, 16, 18, 10, 17, 17, 10, 16, 20, 20)
    for col, width in zip("ABCDEFGHIJKLMNOP", widths, strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
