"""PDF labels: page sizes, scannable barcodes at 203 dpi, extractable Chinese, fitting, fonts."""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np
import pymupdf
import pytest
import structlog
import zxingcpp

from fahuo.adapters.labels import fonts as fonts_mod
from fahuo.adapters.labels.model import SIZES, Custom, LabelError, Party
from fahuo.adapters.labels.pdf import find_font, render_pdf
from fahuo.adapters.labels.templates import check_template, template_for

MM = 72 / 25.4
TRACK_NOS = {  # typical numbers (tracking-and-couriers.md §5)
    "zhongtong": "78" + "123456789012",
    "yuantong": "YT" + "1234567890123",
    "shunfeng": "SF" + "1402345678901",
    "jtexpress": "JT" + "5012345678901",
}
CJK_TTF = find_font()  # resolved once, for the skip markers
# Skipped on a developer machine without a CJK font; in CI (CI=true) they run and fail, so a
# missing `apt-get install fonts-wqy-zenhei` in .ci/run cannot hide behind a green run.
needs_ttf = pytest.mark.skipif(not CJK_TTF.embedded and not os.environ.get("CI"),
                               reason="no embeddable CJK TrueType font "
                               "(apt-get install fonts-wqy-zenhei)")


def open_pdf(data: bytes) -> pymupdf.Document:
    return pymupdf.open(stream=data, filetype="pdf")


def code128_on(page: pymupdf.Page, dpi: int = 203) -> list[str]:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    img = img[:, :pix.width]
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.Code128)]


@pytest.mark.parametrize("size", list(SIZES))
def test_page_size_exact_to_a_tenth_of_a_mm(size, label_factory):
    prof = SIZES[size]
    doc = open_pdf(render_pdf([label_factory(), label_factory()], size))
    assert len(doc) == 2
    for page in doc:
        assert page.rect.x0 == 0 and page.rect.y0 == 0
        assert abs(page.mediabox.width / MM - prof.width_mm) < 0.1
        assert abs(page.mediabox.height / MM - prof.height_mm) < 0.1
        assert page.cropbox == page.mediabox  # no margins / crop


@pytest.mark.parametrize("size", list(SIZES))
def test_templates_stay_inside_the_page(size):
    check_template(template_for(size))


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("courier", list(TRACK_NOS))
def test_barcode_decodes_to_the_tracking_number_at_203_dpi(size, courier, label_factory):
    track = TRACK_NOS[courier]
    doc = open_pdf(render_pdf([label_factory(track, courier)], size))
    found = code128_on(doc[0])
    parts = SIZES[size].parts  # a two-part label carries the number on both parts
    assert found == [track] * parts, found


@pytest.mark.parametrize("printer_dpi", [203, 300])
def test_bars_are_whole_printer_dots_with_quiet_zones(printer_dpi, label_factory):
    dot = 72 / printer_dpi
    doc = open_pdf(render_pdf([label_factory()], "76x130", printer_dpi=printer_dpi))
    page = doc[0]
    bars = sorted((it[1] for d in page.get_drawings() if d.get("fill") is not None
                   for it in d["items"] if it[0] == "re" and it[1].height > 10 * MM),
                  key=lambda r: r.x0)
    assert len(bars) > 20
    widths = [b.width / dot for b in bars]
    assert all(abs(w - round(w)) < 1e-3 for w in widths), widths[:5]
    narrow = min(round(w) for w in widths)  # the module, in dots
    assert narrow >= 1
    assert all(round(w) % narrow == 0 for w in widths)
    lefts = [b.x0 / dot for b in bars]
    assert all(abs(x - round(x)) < 1e-3 for x in lefts)  # on the dot grid
    x0, x1 = min(b.x0 for b in bars), max(b.x1 for b in bars)
    quiet = 10 * narrow * dot
    assert x0 - quiet >= 0 and x1 + quiet <= page.rect.width
    # nothing else drawn or written inside the quiet zones beside the bars
    band = pymupdf.Rect(x0 - quiet, bars[0].y0, x1 + quiet, bars[0].y1)
    for b in page.get_text("dict")["blocks"]:
        assert not pymupdf.Rect(b["bbox"]).intersects(band), b


@needs_ttf
def test_chinese_text_is_extractable(label_factory):
    lb = label_factory(receiver=Party("欧阳娜娜", "139****1234", ("上海市 浦东新区", "世纪大道 100 号")),
                       short_address="上海转 浦东")
    text = open_pdf(render_pdf([lb], "100x180"))[0].get_text()
    for s in ("欧阳娜娜", "上海市 浦东新区", "世纪大道 100 号", "上海转 浦东", "300-A12 05",
              "中通快递", "张三旗舰店", "1/2", "打印时间 2024-05-01 12:30"):
        assert s in text, s


def _spans(page: pymupdf.Page) -> list[dict]:
    return [s for b in page.get_text("dict")["blocks"] for line in b.get("lines", ())
            for s in line["spans"] if s["text"].strip()]


def _field_rect(size: str, source: str) -> pymupdf.Rect:
    f = next(f for f in template_for(size).fields if f.source == source)
    return pymupdf.Rect(f.x * MM, f.y * MM, (f.x + f.w) * MM, (f.y + f.h) * MM)


@needs_ttf
@pytest.mark.parametrize("size", list(SIZES))
def test_long_receiver_address_shrinks_then_wraps_inside_its_box(size, label_factory):
    long_addr = ("新疆维吾尔自治区 伊犁哈萨克自治州 霍尔果斯市 经济开发区 卡拉苏河路 "
                 "国际物流园区 第三仓储中心 B 区 17 号库 二楼东侧 收发室 转 李师傅")
    lb = label_factory(receiver=Party("李晓明", "139****1234", (long_addr,)))
    page = open_pdf(render_pdf([lb], size))[0]
    box = _field_rect(size, "receiver_address")
    nominal = next(f.font_size for f in template_for(size).fields
                   if f.source == "receiver_address")
    spans = [s for s in _spans(page) if pymupdf.Rect(s["bbox"]).intersects(box)]
    assert len(spans) >= 2, "a long address wraps onto several lines"
    assert "".join(s["text"].replace(" ", "") for s in spans) == long_addr.replace(" ", "")
    for s in spans:
        assert s["size"] < nominal
        r = pymupdf.Rect(s["bbox"])
        assert page.rect.contains(r)
        assert box.x0 - 0.5 <= r.x0 and r.x1 <= box.x1 + 0.5, (r, box)
        assert box.y0 - 1 <= r.y0 and r.y1 <= box.y1 + 1, (r, box)
    for s in _spans(page):  # and nothing at all leaves the page
        assert page.rect.contains(pymupdf.Rect(s["bbox"])), s


def test_receiver_that_cannot_fit_is_a_clear_error(label_factory):
    lb = label_factory(receiver=Party("李晓明", "139", ("很长的地址" * 60,)))
    with pytest.raises(LabelError, match=r"label 1 \(78123456789012\): receiver_address is too "
                                         r"long for its box"):
        render_pdf([lb], "76x130")


@needs_ttf
def test_long_items_summary_is_cut_with_an_ellipsis(label_factory):
    lb = label_factory(items_summary="纯棉短袖T恤 白色 XL ×1; " * 40)
    page = open_pdf(render_pdf([lb], "76x130"))[0]
    assert "…" in page.get_text()
    box = _field_rect("76x130", "items")
    items = [s for s in _spans(page) if "纯棉" in s["text"]]
    assert items and all(box.y0 - 1 <= s["bbox"][1] and s["bbox"][3] <= box.y1 + 1
                         for s in items)


def _embedded_font_files(data: bytes) -> list[str]:
    doc = open_pdf(data)
    names = []
    for xref in range(1, doc.xref_length()):
        obj = doc.xref_object(xref)
        if "/FontFile2" in obj or "/FontFile3" in obj or "/FontFile " in obj:
            names.append(re.search(r"/FontName\s*/(\S+)", obj).group(1))
    return names


@needs_ttf
def test_batch_is_one_page_per_label_and_embeds_the_font_once(label_factory):
    labels = [label_factory(f"78{i:012d}", pack_no=i + 1, pack_count=3) for i in range(3)]
    data = render_pdf(labels, "100x150")
    doc = open_pdf(data)
    assert len(doc) == 3
    assert [code128_on(p)[0] for p in doc] == [lb.track_no for lb in labels]
    assert ["%d/3" % (i + 1) in p.get_text() for i, p in enumerate(doc)] == [True] * 3
    files = _embedded_font_files(data)
    assert files, "the CJK font is embedded"
    assert len(files) == len(set(files)), files  # each subset once, not once per page
    single = _embedded_font_files(render_pdf(labels[:1], "100x150"))
    assert len(files) == len(single)  # same glyph set → same number of subsets
    xrefs = [{f[0] for f in doc.get_page_fonts(i) if f[1] == "ttf"} for i in range(3)]
    assert xrefs[0] == xrefs[1] == xrefs[2]  # every page uses the same font objects


def test_same_input_gives_byte_identical_pdf(label_factory):
    labels = [label_factory(), label_factory("YT1234567890123", "yuantong")]
    a = render_pdf(labels, "76x130")
    b = render_pdf(list(labels), "76x130")
    assert a == b
    assert render_pdf(labels[:1], "76x130") != a


def test_logo_is_embedded_once_for_the_batch(tmp_path, label_factory):
    from PIL import Image
    logo = tmp_path / "logo.png"
    img = Image.new("RGB", (120, 60), "white")
    img.paste((0, 0, 0), (10, 10, 110, 50))
    img.save(logo)
    lb = label_factory(custom=Custom(text="谢谢", qr_text="https://example.com", logo_path=str(logo)))
    doc = open_pdf(render_pdf([lb, lb, lb], "76x130"))
    imgs = [{i[0] for i in doc.get_page_images(n)} for n in range(3)]
    assert len(imgs[0]) == 1 and imgs[0] == imgs[1] == imgs[2]


def test_missing_logo_is_a_clear_error(label_factory):
    lb = label_factory(custom=Custom(logo_path="/nonexistent/logo.png"))
    with pytest.raises(LabelError, match="logo file '/nonexistent/logo.png' does not exist"):
        render_pdf([lb], "76x130")


def test_unknown_size_lists_the_known_ones(label_factory):
    with pytest.raises(LabelError, match=r"unknown label size '80x120'; known sizes: 76x130, "
                                         r"100x150, 100x180, 4x6"):
        render_pdf([label_factory()], "80x120")


@pytest.mark.parametrize("bad", ["78１２３４５６７８", "SF 1234567890", "中通123456", "78\t1234"])
def test_tracking_number_code128_cannot_carry_is_rejected(bad, label_factory):
    with pytest.raises(LabelError, match="Code 128 cannot carry"):
        render_pdf([label_factory(bad)], "76x130")


def test_tracking_number_too_long_for_the_field_is_rejected(label_factory):
    with pytest.raises(LabelError, match="tracking number too long"):
        render_pdf([label_factory("X1" * 40)], "76x130")


@pytest.mark.parametrize("changes, message", [
    ({"track_no": ""}, "tracking number is empty"),
    ({"pack_no": 3, "pack_count": 2}, "pack 3/2"),
    ({"receiver": Party("", "1", ("x",))}, "receiver name and address are required"),
])
def test_bad_label_data_is_rejected(changes, message, label_factory):
    with pytest.raises(LabelError, match=re.escape(message)):
        render_pdf([label_factory(**changes)], "76x130")


def test_empty_batch_and_bad_dpi_are_rejected(label_factory):
    with pytest.raises(LabelError, match="no labels"):
        render_pdf([], "76x130")
    with pytest.raises(LabelError, match="printer_dpi"):
        render_pdf([label_factory()], "76x130", printer_dpi=150)


def test_explicit_font_that_does_not_exist_is_an_error(label_factory, monkeypatch):
    with pytest.raises(LabelError, match="does not exist"):
        render_pdf([label_factory()], "76x130", font_path="/no/such/font.ttf")
    monkeypatch.setenv("FAHUO_LABEL_FONT", "/no/such/env-font.ttf")
    with pytest.raises(LabelError, match="FAHUO_LABEL_FONT"):
        render_pdf([label_factory()], "76x130")


@needs_ttf
def test_font_from_the_environment_is_used(label_factory, monkeypatch):
    monkeypatch.setenv("FAHUO_LABEL_FONT", CJK_TTF.path)
    data = render_pdf([label_factory()], "76x130")
    assert _embedded_font_files(data)


def test_without_a_cjk_font_falls_back_to_the_cid_font_with_a_warning(label_factory,
                                                                      monkeypatch):
    monkeypatch.delenv("FAHUO_LABEL_FONT", raising=False)
    monkeypatch.setattr(fonts_mod, "FONT_CANDIDATES", ())
    monkeypatch.setattr(fonts_mod, "_fontconfig_paths", lambda: [])
    monkeypatch.setattr(fonts_mod, "_fonts", {})
    with structlog.testing.capture_logs() as logs:
        data = render_pdf([label_factory()], "76x130")
    assert any(e["log_level"] == "warning" and "STSong-Light" in e["event"] for e in logs)
    doc = open_pdf(data)
    assert any("STSong-Light" in f[3] for f in doc.get_page_fonts(0))
    assert code128_on(doc[0]) == ["78123456789012"]


def test_two_part_labels_have_a_perforation_line(label_factory):
    for size in ("100x150", "100x180"):
        assert any(f.kind == "line" and f.dashed for f in template_for(size).fields)
    assert not any(f.dashed for f in template_for("76x130").fields)


def test_plain_and_masked_receivers_are_printed_as_given(label_factory):
    masked = label_factory(receiver=Party("李*", "139****1234", ("广东省深圳市南山区****",)))
    plain = dataclasses.replace(masked, receiver=Party("李晓明", "13912341234",
                                                       ("广东省深圳市南山区科技园 18 号",)))
    t_masked = open_pdf(render_pdf([masked], "76x130"))[0].get_text()
    t_plain = open_pdf(render_pdf([plain], "76x130"))[0].get_text()
    if CJK_TTF.embedded:
        assert "李* 139****1234" in t_masked and "13912341234" not in t_masked
        assert "李晓明 13912341234" in t_plain
