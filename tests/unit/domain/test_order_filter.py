"""The workbench filter: every field parsed in one place, bad input named in Chinese."""

from __future__ import annotations

import pytest

from fahuo.domain.order_filter import (
    Cursor, FilterError, OrderFilter, parse_cursor, parse_filter, parse_limit,
)
from fahuo.domain.search import phone_tail, query_terms, terms

# 2024-06-18 00:00 in Beijing is 2024-06-17 16:00 UTC
MIDNIGHT_0618 = 1718640000


def test_empty_means_everything():
    assert parse_filter({}) == OrderFilter()
    assert parse_filter({"q": "  ", "shop": "", "sort": ""}).empty


def test_every_field():
    f = parse_filter({"q": " SF123 ", "shop": "2", "state": "held", "hold": "manual",
                      "courier": "中通", "printed": "no", "confirmed": "yes", "due": "6h",
                      "paid_from": "2024-06-18", "paid_to": "2024-06-18T09:30",
                      "amount_min": "9.9", "amount_max": "¥100", "province": "浙江",
                      "aftersale": "open", "presale": "yes", "sort": "amount"})
    assert f == OrderFilter(q="SF123", shop=2, state="held", hold="manual", courier="zhongtong",
                            printed=False, confirmed=True, due="6h", paid_from=MIDNIGHT_0618,
                            paid_to=MIDNIGHT_0618 + 9 * 3600 + 1800, amount_min=990,
                            amount_max=10000, province="浙江", aftersale="open", presale=True,
                            sort="amount")
    # and back to the URL it came from, so a link keeps the filter
    assert parse_filter(f.params()) == f


def test_a_day_alone_as_the_end_takes_the_whole_day():
    f = parse_filter({"paid_from": "2024-06-18", "paid_to": "2024-06-18"})
    assert (f.paid_from, f.paid_to) == (MIDNIGHT_0618, MIDNIGHT_0618 + 86400)


@pytest.mark.parametrize("params,field,words", [
    ({"shop": "abc"}, "shop", "店铺"),
    ({"state": "nope"}, "state", "状态不认识"),
    ({"hold": "x"}, "hold", "挂起原因不认识"),
    ({"courier": "火星快递"}, "courier", "快递公司不认识"),
    ({"printed": "maybe"}, "printed", "已打印不认识"),
    ({"due": "7h"}, "due", "截止时间不认识"),
    ({"paid_from": "yesterday"}, "paid_from", "付款时间（起）不是日期时间"),
    ({"paid_from": "2024-06-19", "paid_to": "2024-06-18T00:00"}, "paid_to", "应晚于"),
    ({"amount_min": "abc"}, "amount_min", "金额（最低）不是金额"),
    ({"amount_min": "-1"}, "amount_min", "不小于 0"),
    ({"amount_max": "1.234"}, "amount_max", "最多两位小数"),
    ({"amount_max": "inf"}, "amount_max", "金额（最高）"),
    ({"amount_min": "10", "amount_max": "5"}, "amount_max", "应不小于"),
    ({"aftersale": "x"}, "aftersale", "售后不认识"),
    ({"sort": "updated"}, "sort", "排序不认识"),
    ({"q": "x" * 201}, "q", "搜索内容太长"),
])
def test_bad_input_names_the_field_in_chinese(params, field, words):
    with pytest.raises(FilterError) as exc:
        parse_filter(params)
    assert exc.value.field == field and words in str(exc.value), str(exc.value)


def test_cursor_and_limit():
    assert parse_cursor("after", "1718640000~6900000000000000001") == Cursor(
        1718640000, "6900000000000000001")
    assert str(Cursor(5, "69")) == "5~69"
    assert parse_cursor("after", "") is None
    with pytest.raises(FilterError, match="翻页位置不对"):
        parse_cursor("before", "1;drop")
    assert parse_limit("20") == 20 and parse_limit(None) == 50
    with pytest.raises(FilterError, match="每页条数"):
        parse_limit("0")


def test_terms_cut_what_the_merchant_sees():
    assert terms("碎花连衣裙 SKU-001") == {"碎花", "花连", "连衣", "衣裙", "sku", "001"}
    assert terms("张**") == {"张"}
    assert terms("ＳＦ１２３") == {"sf123"}
    assert phone_tail("138****5678") == "5678" and phone_tail("") is None
    # the query: a long CJK run needs every other bigram; short ASCII is exact, longer prefix
    assert {(t.term, t.prefix) for t in query_terms("连衣裙 sf")} == {
        ("连衣", False), ("衣裙", False), ("sf", False)}
    assert [(t.term, t.prefix) for t in query_terms("ZT778")] == [("zt778", True)]
    assert [(t.term, t.prefix) for t in query_terms("李")] == [("李", True)]
