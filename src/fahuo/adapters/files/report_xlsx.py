"""The report's tables as an .xlsx workbook (openpyxl, write-only): one sheet per table."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font


class ReportXlsx:
    def render(self, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]
               ) -> bytes:
        wb = Workbook(write_only=True)
        for title, header, rows in sheets:
            ws = wb.create_sheet(title[:31])  # Excel's limit on a sheet name
            bold = []
            for h in header:
                c = WriteOnlyCell(ws, value=h)
                c.font = Font(bold=True)
                bold.append(c)
            ws.append(bold)
            for row in rows:
                ws.append(list(row))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
