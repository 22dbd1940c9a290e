"""Warehouse documents: pick lists (拣货单) for a wave and packing slips (发货单).

Pure rendering, no database: callers pass the rows, these functions return bytes.

- ``aggregate_pick_lines`` turns the order items of a wave into one line per SKU with the
  total quantity and the orders it goes to, sorted by pick route (merchant-expectations §6).
- ``render_picklist_pdf``: A4 portrait, a table (序号, 库位, 商家编码, 商品, 规格, 数量, 订单数)
  that continues over pages with its header row repeated, a 合计 row (total units, distinct
  orders) at the end, batch name / print time / page number in each page's footer.
- ``render_picklist_xlsx``: the same columns plus 订单号 (order ids joined with ", ").
- ``render_slips_pdf``: one packing slip per page, **A5 portrait** (148 × 210 mm): laser
  and inkjet printers take A5 (or A4 cut in two) without a special roll, and a slip with
  many items stays readable; 100 × 150 thermal stock is kept for the shipping label. A slip
  whose items do not fit one page continues on the next with the items header repeated
  and the order id in every footer.

Fonts: the CJK font of the labels (``pdf.find_font``: ``font_path``, ``$FAHUO_LABEL_FONT``,
the usual paths, fontconfig, the CID fallback). Both PDFs are deterministic: reportlab
``invariant=1`` (fixed dates and document id), so the same input gives the same bytes.

Receiver and address on a ``Slip`` are printed as given: masking is the caller's decision.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .model import CODE128_CHARS, LabelError
from .model import _clean as _clean_text  # private: strips control characters
from .fonts import LabelFont, find_font

__all__ = [
    "PICKLIST_COLUMNS",
    "PickLine",
    "Slip",
    "SlipLine",
    "aggregate_pick_lines",
    "render_picklist_pdf",
    "render_picklist_xlsx",
    "render_slips_pdf",
]

PICKLIST_COLUMNS = ("序号", "库位", "商家编码", "商品", "规格", "数量", "订单数")
XLSX_COLUMNS = (*PICKLIST_COLUMNS, "订单号")
SLIP_COLUMNS = ("序号", "商品", "规格", "商家编码", "数量")
SLIP_PAGE = A5  # (width, height) in pt, portrait


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class PickLine:
    merchant_code: str
    product_name: str
    spec: str
    bin_location: str  # "" = no bin known (picked last)
    quantity: int
    order_ids: list[str] = field(default_factory=list)  # distinct, in first-seen order


@dataclass(frozen=True, slots=True)
class SlipLine:
    product_name: str
    spec: str
    merchant_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Slip:
    order_id: str
    pack_no: int
    receiver_masked: str
    address_masked: str
    buyer_words: str
    seller_words: str
    lines: list[SlipLine]
    printed_at: datetime
    shop_name: str
    pack_count: int = 1  # printed as "pack_no/pack_count"


# --------------------------------------------------------------------------- aggregation

_NUM = re.compile(r"(\d+)")


def _natural(s: str) -> tuple:
    """"A-2-9" before "A-2-10": digit runs compare as numbers, the rest case-insensitively."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.casefold())
                 for p in _NUM.split(s) if p)


def aggregate_pick_lines(items: Iterable[tuple[str, str, str, str, int]],
                         bins: Mapping[str, str]) -> list[PickLine]:
    """One line per SKU from ``(order_id, merchant_code, product_name, spec, quantity)``.

    A SKU is its merchant code (商家编码); items without one are grouped by (name, spec).
    The first name/spec seen for a code is shown. ``bins`` maps merchant code → bin
    location (库位). Sorted by pick route: bin location (natural order, "A-2-9" before
    "A-2-10"), then merchant code; SKUs without a bin last, those without a code after
    them. A quantity that is not a positive integer raises ValueError (a pick list must not
    silently drop units)."""
    acc: dict[tuple[str, ...], list] = {}
    for order_id, code, name, spec, qty in items:
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise ValueError(f"order {order_id!r}, SKU {code or name!r}: quantity must be a "
                             f"positive integer, got {qty!r}")
        code = (code or "").strip()
        key = ("c", code) if code else ("n", (name or "").strip(), (spec or "").strip())
        entry = acc.get(key)
        if entry is None:
            entry = acc[key] = [code, name or "", spec or "", 0, {}]
        entry[3] += qty
        entry[4].setdefault(str(order_id), None)
    lines = [PickLine(code, name, spec, (bins.get(code, "") or "").strip() if code else "",
                      qty, list(orders))
             for code, name, spec, qty, orders in acc.values()]
    lines.sort(key=lambda pl: (not pl.bin_location, _natural(pl.bin_location),
                               not pl.merchant_code, _natural(pl.merchant_code),
                               pl.product_name, pl.spec))
    return lines


# --------------------------------------------------------------------------- PDF helpers

_GRID = colors.Color(0.35, 0.35, 0.35)
_HEAD_BG = colors.Color(0.88, 0.88, 0.88)


def _styles(font: LabelFont) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("cell", fontName=font.name, fontSize=9, leading=11.5,
                          wordWrap="CJK", splitLongWords=1)
    return {
        "cell": base,
        "num": ParagraphStyle("num", parent=base, alignment=TA_RIGHT),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "head": ParagraphStyle("head", parent=base, alignment=TA_CENTER, fontSize=9.5),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=20,
                                alignment=TA_CENTER, spaceAfter=2 * mm),
        "info": ParagraphStyle("info", parent=base, fontSize=10, leading=13),
        "big": ParagraphStyle("big", parent=base, fontSize=11, leading=14),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_clean_text(str(text))).replace("\n", "<br/>"), style)


def _table(rows: list[list], widths: Sequence[float], *, total_row: bool) -> Table:
    t = Table(rows, colWidths=list(widths), repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if total_row:
        style.append(("BACKGROUND", (0, -1), (-1, -1), _HEAD_BG))
    t.setStyle(TableStyle(style))
    return t


def _doc(buf: io.BytesIO, pagesize: tuple[float, float], margin: float, title: str,
         on_page_end) -> BaseDocTemplate:
    doc = BaseDocTemplate(buf, pagesize=pagesize, leftMargin=margin, rightMargin=margin,
                          topMargin=margin, bottomMargin=margin + 6 * mm, title=title,
                          author="fahuo", creator="fahuo", producer="fahuo", invariant=1,
                          pageCompression=1, initialFontName=None)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("page", [frame], onPageEnd=on_page_end,
                                       pagesize=pagesize)])
    return doc


def _footer(canv, font: LabelFont, margin: float, left: str, right: str) -> None:
    canv.saveState()
    canv.setFont(font.name, 8)
    canv.setFillColor(colors.Color(0.3, 0.3, 0.3))
    y = margin
    canv.drawString(margin, y, _clean_text(left))
    canv.drawRightString(canv._pagesize[0] - margin, y, _clean_text(right))
    canv.restoreState()


def _fmt_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------- pick list


def render_picklist_pdf(lines: Sequence[PickLine], *, batch_name: str, printed_at: datetime,
                        font_path: str | None = None) -> bytes:
    """The pick list of a wave as an A4 PDF (see the module docstring)."""
    font = find_font(font_path)
    st = _styles(font)
    margin = 12 * mm
    total_units = sum(pl.quantity for pl in lines)
    all_orders = {o for pl in lines for o in pl.order_ids}
    head = [_p(h, st["head"]) for h in PICKLIST_COLUMNS]
    rows: list[list] = [head]
    for i, pl in enumerate(lines, 1):
        rows.append([_p(i, st["center"]), _p(pl.bin_location or "—", st["cell"]),
                     _p(pl.merchant_code, st["cell"]), _p(pl.product_name, st["cell"]),
                     _p(pl.spec, st["cell"]), _p(pl.quantity, st["num"]),
                     _p(len(pl.order_ids), st["num"])])
    rows.append([_p("合计", st["center"]), "", _p(f"{len(lines)} 种商品", st["cell"]), "", "",
                 _p(total_units, st["num"]), _p(len(all_orders), st["num"])])
    widths = [10 * mm, 26 * mm, 32 * mm, 62 * mm, 30 * mm, 13 * mm, 13 * mm]  # 186 mm
    table = _table(rows, widths, total_row=True)
    table.setStyle(TableStyle([("SPAN", (0, -1), (1, -1)), ("SPAN", (2, -1), (4, -1))]))
    story = [
        _p(f"拣货单 {batch_name}", st["title"]),
        _p(f"批次 {batch_name}\u3000打印时间 {_fmt_time(printed_at)}\u3000商品 {len(lines)} 种"
           f"\u3000订单 {len(all_orders)} 个\u3000总件数 {total_units}", st["info"]),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 3 * mm),
        _p(f"合计 {total_units} 件", st["big"]),
    ]

    def page_end(canv, doc) -> None:
        _footer(canv, font, margin, f"拣货单 {batch_name}  {_fmt_time(printed_at)}",
                f"第 {canv.getPageNumber()} 页")

    buf = io.BytesIO()
    _doc(buf, A4, margin, f"拣货单 {batch_name}", page_end).build(story)
    return buf.getvalue()


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def render_picklist_xlsx(lines: Sequence[PickLine], *, batch_name: str) -> bytes:
    """The pick list as an .xlsx workbook: one sheet, a bold header row (frozen), one row
    per line (``XLSX_COLUMNS``: the PDF's columns plus the order ids joined with ", ").
    Text cells are always stored as text, so a product name starting with "=" is not a
    formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = (_SHEET_BAD.sub("_", _clean_text(batch_name)).strip("'") or "拣货单")[:31]
    ws.append(list(XLSX_COLUMNS))
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
    for i, pl in enumerate(lines, 1):
        values = [i, pl.bin_location, pl.merchant_code, pl.product_name, pl.spec,
                  pl.quantity, len(pl.order_ids), ", ".join(pl.order_ids)]
        ws.append([_clean_text(v) if isinstance(v, str) else v for v in values])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
    for letter, width in zip("ABCDEFGH", (6, 14, 18, 40, 20, 8, 8, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- packing slips


class _SlipMark(Flowable):
    """Zero-size marker at the start of each slip: tells the footer which slip it is on."""

    def __init__(self, state: dict, slip: Slip) -> None:
        super().__init__()
        self.state = state
        self.slip = slip

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.state["slip"] = self.slip
        self.state["page"] = 1


def _check_slip(s: Slip, idx: int) -> None:
    where = f"slip {idx + 1} (order {s.order_id!r})"
    if not str(s.order_id).strip():
        raise LabelError(f"slip {idx + 1}: order id is empty / 订单号为空")
    if not 1 <= s.pack_no <= s.pack_count:
        raise LabelError(f"{where}: pack {s.pack_no}/{s.pack_count} is not a valid 'n of N'")
    for ln in s.lines:
        if isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int) or ln.quantity <= 0:
            raise LabelError(f"{where}: quantity of {ln.product_name!r} must be a positive "
                             f"integer, got {ln.quantity!r}")


def render_slips_pdf(slips: Sequence[Slip], *, font_path: str | None = None) -> bytes:
    """Packing slips (发货单), one per A5 portrait page, in the given order.

    Each: shop name, 发货单, order id (also as a Code 128 barcode for scan-verify when it is
    printable ASCII), pack "n/N", masked receiver and address, print time, an items table
    with a 合计 row, buyer message and seller remark when present. Raises LabelError for no
    slips, an empty order id, an invalid pack number or a non-positive quantity."""
    slips = list(slips)
    if not slips:
        raise LabelError("no packing slips to render / 没有发货单")
    for i, s in enumerate(slips):
        _check_slip(s, i)
    font = find_font(font_path)
    st = _styles(font)
    margin = 10 * mm
    width = SLIP_PAGE[0] - 2 * margin  # 128 mm
    state: dict = {"slip": None, "page": 1}
    story: list = []
    for i, s in enumerate(slips):
        if i:
            story.append(PageBreak())
        story.append(_SlipMark(state, s))
        story.append(_p(s.shop_name, st["title"]))
        story.append(_p("发货单", ParagraphStyle("sub", parent=st["big"], alignment=TA_CENTER,
                                                spaceAfter=2 * mm)))
        oid = str(s.order_id)
        if all(ch in CODE128_CHARS for ch in oid) and len(oid) <= 40:
            bc = Code128(oid, barHeight=10 * mm, barWidth=0.3 * mm, humanReadable=0,
                         quiet=1, lquiet=3 * mm, rquiet=3 * mm)
            bc.hAlign = "CENTER"
            if bc.width > width:  # long ids: thinner bars, still ≥ 0.19 mm
                bc = Code128(oid, barHeight=10 * mm, barWidth=0.3 * mm * width / bc.width,
                             humanReadable=0, quiet=1, lquiet=3 * mm, rquiet=3 * mm)
                bc.hAlign = "CENTER"
            story += [bc, Spacer(1, 2 * mm)]
        info = [
            [_p("订单号", st["cell"]), _p(oid, st["big"]),
             _p("包裹", st["cell"]), _p(f"{s.pack_no}/{s.pack_count}", st["big"])],
            [_p("收件人", st["cell"]), _p(s.receiver_masked, st["cell"]),
             _p("打印时间", st["cell"]), _p(_fmt_time(s.printed_at), st["cell"])],
            [_p("地址", st["cell"]), _p(s.address_masked, st["cell"]), "", ""],
        ]
        it = Table(info, colWidths=[16 * mm, 60 * mm, 18 * mm, 34 * mm])
        it.setStyle(TableStyle([("SPAN", (1, 2), (3, 2)), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                ("LINEBELOW", (0, -1), (-1, -1), 0.5, _GRID),
                                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
        story += [it, Spacer(1, 3 * mm)]
        rows: list[list] = [[_p(h, st["head"]) for h in SLIP_COLUMNS]]
        for n, ln in enumerate(s.lines, 1):
            rows.append([_p(n, st["center"]), _p(ln.product_name, st["cell"]),
                         _p(ln.spec, st["cell"]), _p(ln.merchant_code, st["cell"]),
                         _p(ln.quantity, st["num"])])
        rows.append([_p("合计", st["center"]), _p(f"{len(s.lines)} 种", st["cell"]), "", "",
                     _p(sum(ln.quantity for ln in s.lines), st["num"])])
        t = _table(rows, [9 * mm, 52 * mm, 28 * mm, 27 * mm, 12 * mm], total_row=True)
        t.setStyle(TableStyle([("SPAN", (1, -1), (3, -1))]))
        story += [t, Spacer(1, 3 * mm)]
        if s.buyer_words.strip():
            story.append(_p(f"买家留言：{s.buyer_words.strip()}", st["info"]))
        if s.seller_words.strip():
            story.append(_p(f"卖家备注：{s.seller_words.strip()}", st["info"]))

    def page_end(canv, doc) -> None:
        slip = state["slip"]
        if slip is None:  # pragma: no cover - the marker is the first flowable
            return
        cont = f"（续 {state['page']}）" if state["page"] > 1 else ""
        _footer(canv, font, margin, f"{slip.shop_name}  订单 {slip.order_id}{cont}",
                f"打印时间 {_fmt_time(slip.printed_at)}")
        state["page"] += 1

    buf = io.BytesIO()
    _doc(buf, SLIP_PAGE, margin, "发货单", page_end).build(story)
    return buf.getvalue()
