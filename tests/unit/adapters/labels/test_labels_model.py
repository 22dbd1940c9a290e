"""Templates, text fitting and validation shared by the PDF and ZPL renderers."""

from __future__ import annotations

import pytest

from fahuo.adapters.labels.fitting import fit_text, wrap
from fahuo.adapters.labels.model import (
    SIZES,
    Field,
    LabelError,
    Party,
    check_label,
    field_text,
    get_size,
)
from fahuo.adapters.labels.templates import template_for


def em(ch: str) -> float:
    return 0.5 if ord(ch) < 0x100 else 1.0


def test_sizes_and_parts():
    assert {k: (v.width_mm, v.height_mm, v.parts) for k, v in SIZES.items()} == {
        "76x130": (76.0, 130.0, 1), "100x150": (100.0, 150.0, 2),
        "100x180": (100.0, 180.0, 2), "4x6": (101.6, 152.4, 1)}
    with pytest.raises(LabelError, match="known sizes: 76x130, 100x150, 100x180, 4x6"):
        get_size("100x100")
    with pytest.raises(LabelError, match="unknown label size"):
        template_for("")


@pytest.mark.parametrize("size", list(SIZES))
def test_every_template_carries_the_required_fields(size):
    sources = {f.source for f in template_for(size).fields}
    for s in ("track_no", "sort_code", "short_address", "receiver_name_phone",
              "receiver_address", "items", "order_ids", "pack", "printed_at", "custom_text",
              "custom_qr", "custom_logo"):
        assert s in sources, s
    assert {"sender_name_phone", "sender_address"} <= sources or "sender_line" in sources
    assert any(f.kind == "barcode" for f in template_for(size).fields)


def test_field_rejects_unknown_kind_and_source():
    with pytest.raises(LabelError, match="unknown field kind 'circle'"):
        Field("circle", 0, 0, 1, 1)
    with pytest.raises(LabelError, match="unknown field source 'receiver_email'"):
        Field("text", 0, 0, 1, 1, source="receiver_email")


def test_field_text(label_factory):
    lb = label_factory(pack_no=2, pack_count=3, order_ids=("A1", "B2"))
    f = lambda src: field_text(lb, Field("text", 0, 0, 1, 1, source=src))  # noqa: E731
    assert f("courier") == "中通快递"
    assert f("pack") == "2/3"
    assert f("order_ids") == "订单号 A1, B2"
    assert f("printed_at") == "打印时间 2024-05-01 12:30"
    assert f("receiver_address") == "广东省 深圳市 南山区\n科技园南区 高新南七道 18 号 3 栋 1201"
    assert f("sender_line").startswith("张三旗舰店 138****0000 浙江省")
    lb2 = label_factory(items_summary="a\x00b\x1bc", printed_at=None)
    assert field_text(lb2, Field("text", 0, 0, 1, 1, source="items")) == "abc"
    assert field_text(lb2, Field("text", 0, 0, 1, 1, source="printed_at")) == ""


def test_wrap_breaks_cjk_anywhere_and_latin_at_spaces():
    assert wrap("一二三四五六", 3.0, em) == ["一二三", "四五六"]
    assert wrap("abc def ghi", 3.0, em) == ["abc", "def", "ghi"]
    assert wrap("abcdefghijkl", 3.0, em) == ["abcdef", "ghijkl"]  # no space: break anyway
    assert wrap("第一行\n第二行", 10, em) == ["第一行", "第二行"]


def test_fit_text_keeps_size_then_shrinks_then_wraps_then_fails():
    one = fit_text("一二三四", 40, 12, 10, 5, em, 1.2, overflow="error", what="t")
    assert one.size == 10 and one.lines == ("一二三四",)
    shrunk = fit_text("一二三四", 30, 12, 10, 5, em, 1.2, overflow="error", what="t")
    assert shrunk.size == 7.5 and shrunk.lines == ("一二三四",)
    wrapped = fit_text("一二三四五六七八九十" * 2, 30, 30, 10, 5, em, 1.2, overflow="error",
                       what="t")
    assert len(wrapped.lines) > 1 and 5 <= wrapped.size < 10
    assert all(len(line) * wrapped.size <= 30 for line in wrapped.lines)
    assert len(wrapped.lines) * wrapped.line_height <= 30
    with pytest.raises(LabelError, match="receiver is too long for its box"):
        fit_text("长" * 500, 30, 30, 10, 5, em, 1.2, overflow="error", what="receiver")
    cut = fit_text("长" * 500, 30, 30, 10, 5, em, 1.2, overflow="truncate", what="items")
    assert cut.truncated and cut.lines[-1].endswith("…") and cut.size == 5
    assert len(cut.lines) * cut.line_height <= 30


def test_check_label(label_factory):
    check_label(label_factory())
    with pytest.raises(LabelError, match=r"'78１２３' \(U\+FF11\)|U\+FF11"):
        check_label(label_factory("78１２３"))
    with pytest.raises(LabelError, match="receiver name and address are required"):
        check_label(label_factory(receiver=Party("李", "1", ())))
