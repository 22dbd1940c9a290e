"""交接单 as the merchant prints and signs it: A4 PDF (reportlab) or an .xlsx workbook.

Pure rendering: the ``Sheet`` carries every text already in Chinese and shop time. The PDF
has the list's facts, a table of 序号 / 运单号 / 订单号 over as many pages as it needs (header
row repeated), the count, and the lines both sides sign. Deterministic like the pick list
(reportlab ``invariant=1``): the same list gives the same bytes.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table, TableStyle

from fahuo.domain.handover import Sheet

from .documents import _doc, _footer, _p, _SHEET_BAD, _styles, _table
from .fonts import find_font
from .model import LabelError
from .model import _clean as _clean_text

COLUMNS = ("序号", "运单号", "订单号")


class HandoverDocuments:
    """``ports.HandoverDocuments``: one list as PDF or Excel bytes."""

    def __init__(self, font_path: str | None = None) -> None:
        self.font_path = font_path

    def render(self, sheet: Sheet, fmt: str) -> bytes:
        if fmt == "pdf":
            return render_pdf(sheet, font_path=self.font_path)
        if fmt == "xlsx":
            return render_xlsx(sheet)
        raise LabelError(f"格式应为 pdf 或 xlsx，收到 {fmt!r} (format must be pdf or xlsx)")


def _facts(sheet: Sheet) -> list[tuple[str, str]]:
    return [("店铺", sheet.shop_name or "—"), ("快递公司", sheet.courier),
            ("网点", sheet.netsite), ("包裹数", f"{len(sheet.lines)} 件"),
            ("生成", sheet.created), ("状态", sheet.state),
            ("交接", sheet.handed_over or "未交接")]


def render_pdf(sheet: Sheet, *, font_path: str | None = None) -> bytes:
    font = find_font(font_path)
    st = _styles(font)
    margin = 14 * mm
    facts = _facts(sheet)
    info = [[_p(k, st["cell"]), _p(v, st["big"])] for k, v in facts]
    it = Table(info, colWidths=[24 * mm, 158 * mm])
    it.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                            ("LEFTPADDING", (0, 0), (-1, -1), 2),
                            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    rows: list[list] = [[_p(h, st["head"]) for h in COLUMNS]]
    for ln in sheet.lines:
        rows.append([_p(ln.seq, st["center"]), _p(ln.track_no, st["big"]),
                     _p(ln.order_id, st["cell"])])
    rows.append([_p("合计", st["center"]), _p(f"{len(sheet.lines)} 件", st["big"]), ""])
    table = _table(rows, [16 * mm, 86 * mm, 80 * mm], total_row=True)
    sign = Table([[_p("交件人签字：", st["big"]), "", _p("揽收人签字：", st["big"]), ""],
                  [_p("日期时间：", st["big"]), "", _p("揽收件数：", st["big"]), ""]],
                 colWidths=[28 * mm, 63 * mm, 28 * mm, 63 * mm], rowHeights=[12 * mm] * 2)
    sign.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, -1), 0.5, (0, 0, 0)),
                              ("LINEBELOW", (3, 0), (3, -1), 0.5, (0, 0, 0)),
                              ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    story = [_p(sheet.title, st["title"]), it, Spacer(1, 4 * mm), table, Spacer(1, 8 * mm),
             sign]

    def page_end(canv, doc) -> None:
        _footer(canv, font, margin, f"{sheet.title}  {sheet.courier}  {sheet.netsite}",
                f"第 {canv.getPageNumber()} 页")

    buf = io.BytesIO()
    _doc(buf, A4, margin, sheet.title, page_end).build(story)
    return buf.getvalue()


def render_xlsx(sheet: Sheet) -> bytes:
    """One sheet: the list's facts, a blank row, then a bold header (序号, 运单号, 订单号) and
    one row per parcel. Numbers are stored as text (a 14-digit number is not a float)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = (_SHEET_BAD.sub("_", _clean_text(sheet.title)).strip("'") or "交接单")[:31]
    bold = Font(bold=True)
    for k, v in _facts(sheet):
        ws.append([k, _clean_text(v)])
        ws.cell(ws.max_row, 1).font = bold
    ws.append([])
    ws.append(list(COLUMNS))
    header = ws.max_row
    for cell in ws[header]:
        cell.font = bold
    for ln in sheet.lines:
        ws.append([ln.seq, _clean_text(ln.track_no), _clean_text(ln.order_id)])
        for cell in ws[ws.max_row][1:]:
            cell.data_type = "s"  # text, never a number or a formula
    for letter, width in zip("ABC", (10, 28, 28), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(header + 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["COLUMNS", "HandoverDocuments", "render_pdf", "render_xlsx"]
