import pytest
from hypothesis import given
from hypothesis import strategies as st

from fahuo.domain.imports import (
    ImportHeaderError, ImportRow, clean_order_id, map_headers, parse_import,
)

OID = "6925621234567891234"
OID2 = "6925621234567899999"


def row(order_id=OID, courier="中通", number="78474409893076", *, headers=("订单号", "快递公司",
                                                                      "快递单号")):
    return dict(zip(headers, (order_id, courier, number)))


def test_a_clean_sheet_with_chinese_headers():
    plan = parse_import([row(), row(OID2, "圆通速递", "YT9693083639795")])
    assert plan.valid == [ImportRow(2, OID, "zhongtong", "78474409893076"),
                          ImportRow(3, OID2, "yuantong", "YT9693083639795")]
    assert plan.invalid == [] and plan.duplicate_lines == []


@pytest.mark.parametrize("headers", [
    ("订单编号", "物流公司", "运单号"), ("主订单号", "快递", "物流单号"),
    ("order_id", "company", "tracking_no"), ("\ufeff订单号", " 快递公司 ", "快递单号"),
])
def test_header_aliases(headers):
    plan = parse_import([row(headers=headers)])
    assert [r.order_id for r in plan.valid] == [OID]


def test_a_missing_column_is_named_with_the_accepted_names():
    with pytest.raises(ImportHeaderError) as e:
        parse_import([{"订单号": OID, "快递公司": "中通", "备注": "x"}])
    assert "缺少“快递单号”列" in str(e.value)
    assert "快递单号、运单号、物流单号" in str(e.value)


def test_two_columns_for_the_same_thing_are_refused():
    with pytest.raises(ImportHeaderError, match="“订单号”和“订单编号”都表示订单号"):
        map_headers(["订单号", "订单编号", "快递公司", "快递单号"])


def test_headers_can_be_given_for_an_empty_sheet():
    assert parse_import([], headers=["订单号", "快递公司", "快递单号"]).valid == []
    with pytest.raises(ImportHeaderError):
        parse_import([], headers=["订单号"])


@pytest.mark.parametrize("raw", [OID, f" {OID}\t", f"'{OID}", f'="{OID}"', f"{OID}.0",
                                 "６９２５６２１２３４５６７８９１２３４", f"{OID}A"])
def test_order_ids_as_excel_mangles_them_are_cleaned(raw):
    assert clean_order_id(raw) == (OID, None)


@pytest.mark.parametrize("raw, says", [
    ("6.92562E+18", "订单号被Excel改成科学计数法"), ("6.925621234567891e+18", "科学计数法"),
    ("692562123456789123", "订单号应为19位数字"), ("", "订单号为空"), ("订单号", "19位数字"),
])
def test_broken_order_ids(raw, says):
    oid, reason = clean_order_id(raw)
    assert oid is None and says in reason


def test_each_row_problem_is_reported_with_its_excel_line_and_all_reasons():
    plan = parse_import([row(), row(OID2, "菜鸟驿站", "SF1673179789153"),
                         row("6.92562E+18", "中通", "SF1673179789153")])
    assert [r.line_no for r in plan.valid] == [2]
    assert [(p.line_no, p.reason_zh) for p in plan.invalid] == [
        (3, "无法识别快递公司“菜鸟驿站”"),
        (4, "订单号被Excel改成科学计数法（6.92562E+18），请把该列设为“文本”格式后重新粘贴订单号；"
            "快递单号与中通快递的格式不符，应为以7开头的14位数字，旧单号为12–13位数字"),
    ]
    assert plan.invalid[0].raw["快递公司"] == "菜鸟驿站"
    assert [p.order_id for p in plan.invalid] == [OID2, "6.92562E+18"]


def test_tracking_number_in_scientific_notation():
    plan = parse_import([row(number="7.84744E+13")])
    assert "快递单号被Excel改成科学计数法" in plan.invalid[0].reason_zh


def test_tracking_numbers_are_normalised():
    plan = parse_import([row(courier="圆通", number=" yt 9693083639795 ")])
    assert plan.valid[0].tracking_no == "YT9693083639795"


def test_blank_rows_are_skipped_but_line_numbers_stay_true():
    plan = parse_import([row(), {"订单号": "", "快递公司": " ", "快递单号": None},
                         row(OID2, "韵达", "3967950525457")])
    assert [r.line_no for r in plan.valid] == [2, 4] and plan.invalid == []


def test_identical_repeats_keep_one_row():
    plan = parse_import([row(), row(OID2, "韵达", "3967950525457"), row(f"'{OID}", "中通快递",
                                                                     "78474409893076")])
    assert [r.line_no for r in plan.valid] == [2, 3]
    assert plan.duplicate_lines == [4]


def test_one_order_with_two_different_numbers_makes_both_rows_invalid():
    plan = parse_import([row(), row(OID2, "韵达", "3967950525457"),
                         row(OID, "中通", "73100000000001")])
    assert [r.order_id for r in plan.valid] == [OID2]
    assert [p.line_no for p in plan.invalid] == [2, 4]
    assert all("同一订单在第2、4行有不同的快递单号" in p.reason_zh for p in plan.invalid)


def test_a_good_row_of_an_order_with_a_bad_row_does_not_ship():
    plan = parse_import([row(), row(OID, "中通", "SF1673179789153")])
    assert plan.valid == []
    assert [(p.line_no, p.reason_zh) for p in plan.invalid][0] == (
        2, "同一订单第3行有误，请一并修正后再导入")


def test_one_tracking_number_for_two_orders_is_a_merged_parcel_and_fine():
    plan = parse_import([row(), row(OID2)])
    assert len(plan.valid) == 2


def test_cells_that_are_not_text_are_tolerated():
    plan = parse_import([{"订单号": 6.925621234567891e18, "快递公司": "中通",
                          "快递单号": 78474409893076}])
    assert plan.valid == [] and "科学计数法" in plan.invalid[0].reason_zh


@given(st.lists(st.tuples(st.sampled_from([OID, OID2, "6925621234567890001", "bad"]),
                          st.sampled_from(["中通", "圆通", "xx"]),
                          st.sampled_from(["78474409893076", "73100000000001",
                                           "YT9693083639795"])), max_size=12))
def test_every_non_blank_line_is_accounted_for_exactly_once(raw):
    rows = [row(*r) for r in raw]
    plan = parse_import(rows)
    lines = ([r.line_no for r in plan.valid] + [p.line_no for p in plan.invalid]
             + plan.duplicate_lines)
    assert sorted(lines) == list(range(2, 2 + len(rows)))
    assert len({r.order_id for r in plan.valid}) == len(plan.valid)
