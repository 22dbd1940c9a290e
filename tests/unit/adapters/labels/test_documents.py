"""Pick lists (拣货单) and packing slips (发货单): aggregation, PDF text/pages, xlsx, bytes."""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import datetime

import numpy as np
import openpyxl
import pymupdf
import pytest
import zxingcpp

from fahuo.adapters.labels.documents import (
    PICKLIST_COLUMNS,
    XLSX_COLUMNS,
    PickLine,
    Slip,
    SlipLine,
    aggregate_pick_lines,
    render_picklist_pdf,
    render_picklist_xlsx,
    render_slips_pdf,
)
from fahuo.adapters.labels.model import LabelError
from fahuo.adapters.labels.pdf import find_font

MM = 72 / 25.4
PRINTED = datetime(2024, 5, 1, 9, 30)
CJK_TTF = find_font()
needs_ttf = pytest.mark.skipif(not CJK_TTF.embedded and not os.environ.get("CI"),
                               reason="no embeddable CJK TrueType font "
                               "(apt-get install fonts-wqy-zenhei)")


def open_pdf(data: bytes) -> pymupdf.Document:
    return pymupdf.open(stream=data, filetype="pdf")


def page_text(page: pymupdf.Page) -> str:
    return page.get_text().replace("\n", " ")


def make_slip(order_id: str = "6920000000000000001", **changes) -> Slip:
    base = Slip(order_id=order_id, pack_no=1, receiver_masked="李**",
                address_masked="广东省 深圳市 南山区 科技园****", buyer_words="请尽快发货",
                seller_words="送小样", lines=[SlipLine("连衣裙", "红色 M", "DRESS-R-M", 1),
                                            SlipLine("T恤", "白色 L", "TEE-W-L", 2)],
                printed_at=PRINTED, shop_name="张三旗舰店", pack_count=2)
    return dataclasses.replace(base, **changes)


def many_lines(n: int) -> list[PickLine]:
    return [PickLine(f"SKU-{i:04d}", f"商品{i} 雪纺碎花连衣裙", "红色 M", f"A-{i:03d}", i % 5 + 1,
                     [f"69{i:017d}"]) for i in range(n)]


# --------------------------------------------------------------------------- aggregation


def test_same_sku_in_two_orders_is_one_line_with_summed_quantity_and_both_orders():
    items = [("o1", "DRESS-R-M", "连衣裙", "红色 M", 1),
             ("o2", "DRESS-R-M", "连衣裙", "红色 M", 2),
             ("o2", "TEE-W-L", "T恤", "白色 L", 1),
             ("o1", "DRESS-R-M", "连衣裙", "红色 M", 1)]  # the same order twice: one order id
    lines = aggregate_pick_lines(items, {"DRESS-R-M": "B-01", "TEE-W-L": "A-03"})
    assert [(pl.merchant_code, pl.quantity, pl.order_ids) for pl in lines] == [
        ("TEE-W-L", 1, ["o2"]), ("DRESS-R-M", 4, ["o1", "o2"])]
    assert lines[1].bin_location == "B-01" and lines[1].product_name == "连衣裙"


def test_route_order_bin_natural_then_code_then_no_bin_last():
    items = [("o1", "Z", "z", "", 1), ("o1", "NOBIN", "n", "", 1), ("o1", "B", "b", "", 1),
             ("o1", "A", "a", "", 1), ("o1", "C", "c", "", 1), ("o1", "", "无编码", "x", 1)]
    bins = {"Z": "A-2-9", "B": "A-2-10", "A": "A-2-10", "C": "A-1-1"}
    codes = [pl.merchant_code or pl.product_name for pl in aggregate_pick_lines(items, bins)]
    assert codes == ["C", "Z", "A", "B", "NOBIN", "无编码"]


def test_items_without_code_group_by_name_and_spec():
    items = [("o1", "", "手工皂", "薰衣草", 1), ("o2", "", "手工皂", "薰衣草", 3),
             ("o3", "", "手工皂", "玫瑰", 1)]
    lines = aggregate_pick_lines(items, {})
    assert sorted((pl.spec, pl.quantity) for pl in lines) == [("玫瑰", 1), ("薰衣草", 4)]


@pytest.mark.parametrize("qty", [0, -1, 1.5, True])
def test_bad_quantity_raises(qty):
    with pytest.raises(ValueError, match="positive integer"):
        aggregate_pick_lines([("o1", "A", "a", "", qty)], {})


# --------------------------------------------------------------------------- pick list PDF


@needs_ttf
def test_picklist_pdf_chinese_text_extractable_with_total():
    lines = aggregate_pick_lines([("o1", "DRESS-R-M", "连衣裙", "红色 M", 1),
                                  ("o2", "DRESS-R-M", "连衣裙", "红色 M", 2),
                                  ("o2", "TEE-W-L", "T恤", "白色 L", 4)], {"TEE-W-L": "A-03"})
    doc = open_pdf(render_picklist_pdf(lines, batch_name="波次-0501-01", printed_at=PRINTED))
    assert len(doc) == 1
    page = doc[0]
    assert abs(page.rect.width / MM - 210) < 0.1 and abs(page.rect.height / MM - 297) < 0.1
    text = page_text(page)
    for word in (*PICKLIST_COLUMNS, "拣货单", "波次-0501-01", "连衣裙", "红色 M", "T恤", "A-03",
                 "2024-05-01 09:30", "合计 7 件"):
        assert word in text, word


@needs_ttf
def test_picklist_many_lines_span_pages_with_header_on_each():
    lines = many_lines(120)
    doc = open_pdf(render_picklist_pdf(lines, batch_name="W1", printed_at=PRINTED))
    assert len(doc) >= 3
    seen = []
    for n, page in enumerate(doc, 1):
        words = [w[4] for w in page.get_text("words")]
        for h in PICKLIST_COLUMNS:
            assert h in words, (n, h)
        assert f"第 {n} 页" in page_text(page)
        seen += [w for w in words if w.startswith("SKU-")]
    assert seen == [pl.merchant_code for pl in lines]  # every line once, in order
    total = sum(pl.quantity for pl in lines)
    assert f"合计 {total} 件" in page_text(doc[-1])


def test_picklist_pdf_identical_input_identical_bytes():
    lines = many_lines(50)
    a = render_picklist_pdf(lines, batch_name="W1", printed_at=PRINTED)
    b = render_picklist_pdf(list(lines), batch_name="W1", printed_at=PRINTED)
    assert a == b
    assert a != render_picklist_pdf(lines, batch_name="W2", printed_at=PRINTED)


def test_picklist_pdf_escapes_markup_and_handles_empty():
    lines = [PickLine("A&B<1>", "买<b>一</b>送一 & 包邮", "", "", 1, ["o1"])]
    text = page_text(open_pdf(render_picklist_pdf(lines, batch_name="<x>",
                                                  printed_at=PRINTED))[0])
    assert "A&B<1>" in text
    empty = open_pdf(render_picklist_pdf([], batch_name="W0", printed_at=PRINTED))
    assert len(empty) == 1 and "合计 0 件" in page_text(empty[0])


# --------------------------------------------------------------------------- pick list xlsx


def test_picklist_xlsx_round_trip():
    lines = aggregate_pick_lines([("o1", "DRESS-R-M", "连衣裙", "红色 M", 1),
                                  ("o2", "DRESS-R-M", "连衣裙", "红色 M", 2),
                                  ("o2", "=CMD()", "=HYPERLINK(\"x\")", "", 1)],
                                 {"DRESS-R-M": "A-01"})
    wb = openpyxl.load_workbook(io.BytesIO(render_picklist_xlsx(lines, batch_name="波次:1/2")))
    ws = wb.active
    assert ws.title == "波次_1_2"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == XLSX_COLUMNS
    assert rows[1:] == [
        (1, "A-01", "DRESS-R-M", "连衣裙", "红色 M", 3, 2, "o1, o2"),
        (2, None, "=CMD()", "=HYPERLINK(\"x\")", None, 1, 1, "o2"),
    ]
    assert all(c.font.bold for c in ws[1])
    assert all(c.data_type == "s" for c in ws[3][1:5] if c.value)  # text, not formulas
    assert ws.column_dimensions["D"].width >= 30 and ws.freeze_panes == "A2"


# --------------------------------------------------------------------------- packing slips


@needs_ttf
def test_slips_one_a5_page_each_with_chinese_text():
    slips = [make_slip("6920000000000000001"), make_slip("6920000000000000002", pack_no=2)]
    doc = open_pdf(render_slips_pdf(slips))
    assert len(doc) == 2
    for page, slip in zip(doc, slips, strict=True):
        assert abs(page.rect.width / MM - 148) < 0.1 and abs(page.rect.height / MM - 210) < 0.1
        text = page_text(page)
        for word in ("张三旗舰店", "发货单", slip.order_id, f"{slip.pack_no}/2", "李**",
                     "广东省 深圳市 南山区 科技园****", "连衣裙", "T恤", "DRESS-R-M",
                     "买家留言：请尽快发货", "卖家备注：送小样", "2024-05-01 09:30"):
            assert word in text, word
    assert "6920000000000000002" not in page_text(doc[0])


def test_slip_order_barcode_scans():
    doc = open_pdf(render_slips_pdf([make_slip()]))
    pix = doc[0].get_pixmap(dpi=203, colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, :pix.width]
    found = [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.Code128)]
    assert found == ["6920000000000000001"]


@needs_ttf
def test_long_slip_continues_with_header_and_order_id():
    lines = [SlipLine(f"商品{i}", "规格", f"SKU-{i}", 1) for i in range(80)]
    doc = open_pdf(render_slips_pdf([make_slip(lines=lines), make_slip("O-2")]))
    assert len(doc) >= 3
    *first, last = doc
    for page in first:
        text = page_text(page)
        assert "6920000000000000001" in text and "商家编码" in text
    assert "（续 2）" in page_text(first[1])
    assert "O-2" in page_text(last)


def test_slips_identical_input_identical_bytes():
    slips = [make_slip(), make_slip("6920000000000000002")]
    assert render_slips_pdf(slips) == render_slips_pdf(list(slips))


@pytest.mark.parametrize("changes, match", [
    ({"order_id": " "}, "order id is empty"),
    ({"pack_no": 3}, "3/2"),
    ({"lines": [SlipLine("x", "", "", 0)]}, "positive integer"),
])
def test_bad_slips_raise(changes, match):
    with pytest.raises(LabelError, match=match):
        render_slips_pdf([make_slip(**changes)])
    with pytest.raises(LabelError, match="no packing slips"):
        render_slips_pdf([])
