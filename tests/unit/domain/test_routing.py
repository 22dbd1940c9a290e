import pytest
from hypothesis import given
from hypothesis import strategies as st

from fahuo.domain.routing import (
    CostTable, CourierRule, ParcelFacts, choose_courier,
)


def facts(**kw):
    base = dict(province="广东省", city="深圳市", weight_g=800, sku_codes=frozenset({"TEE"}),
                product_tags=frozenset(), amount_fen=5900)
    base.update(kw)
    return ParcelFacts(**base)


REMOTE = CourierRule("偏远地区走邮政", "youzhengguonei",
                     provinces=frozenset({"新疆维吾尔自治区", "西藏自治区"}))
HEAVY = CourierRule("3公斤以上德邦", "debangwuliu", min_weight_g=3000)
FRAGILE = CourierRule("易碎品顺丰", "shunfeng", product_tags=frozenset({"易碎"}))
NEAR = CourierRule("珠三角中通", "zhongtong", provinces=frozenset({"广东省"}),
                   cities=frozenset({"深圳", "广州", "东莞"}))
RULES = [REMOTE, HEAVY, FRAGILE, NEAR]


def test_first_matching_rule_wins_and_says_why():
    d = choose_courier(facts(), RULES, "yuantong")
    assert (d.courier_code, d.rule_name) == ("zhongtong", "珠三角中通")
    assert "省份广东省" in d.reason_zh and "城市深圳市" in d.reason_zh


def test_rule_order_matters():
    heavy_fragile = facts(weight_g=5000, product_tags=frozenset({"易碎"}))
    assert choose_courier(heavy_fragile, RULES, None).courier_code == "debangwuliu"
    assert choose_courier(heavy_fragile, [FRAGILE, HEAVY], None).courier_code == "shunfeng"


def test_no_rule_matches_falls_back_to_the_default():
    d = choose_courier(facts(province="浙江省", city="杭州市"), RULES, "yuantong")
    assert (d.courier_code, d.rule_name) == ("yuantong", None)
    assert "默认快递圆通速递" in d.reason_zh


def test_unreachable_rule_courier_is_skipped_and_recorded():
    d = choose_courier(facts(province="新疆", city="乌鲁木齐市"), RULES, "yuantong",
                       reachable=lambda c: c != "youzhengguonei")
    assert d.courier_code == "yuantong"
    assert d.considered == (("youzhengguonei", "规则「偏远地区走邮政」匹配，但邮政快递包裹超区"),)


def test_nothing_reachable_means_no_courier_and_the_caller_holds_out_of_range():
    d = choose_courier(facts(province="西藏", city="拉萨市"), RULES, "yuantong",
                       reachable=lambda c: False)
    assert d.courier_code is None and d.out_of_range
    assert [c for c, _ in d.considered] == ["youzhengguonei", "yuantong"]
    d = choose_courier(facts(province="浙江省"), [], None)
    assert d.courier_code is None and "没有设置默认快递" in d.reason_zh


def test_weight_bounds_are_inclusive():
    light = CourierRule("1公斤以内", "zhongtong", max_weight_g=1000)
    assert choose_courier(facts(weight_g=1000), [light], None).courier_code == "zhongtong"
    assert choose_courier(facts(weight_g=1001), [light], None).courier_code is None
    assert choose_courier(facts(weight_g=3000), [HEAVY], None).courier_code == "debangwuliu"
    assert choose_courier(facts(weight_g=2999), [HEAVY], None).courier_code is None


def test_unknown_weight_never_matches_a_weight_rule():
    d = choose_courier(facts(weight_g=None), [HEAVY], "yuantong")
    assert d.courier_code == "yuantong"


def test_sku_and_amount_conditions():
    gold = CourierRule("贵重顺丰", "shunfeng", min_amount_fen=50000)
    sku = CourierRule("床垫德邦", "debangwuliu", sku_codes=frozenset({"MATTRESS-1.8"}))
    assert choose_courier(facts(amount_fen=50000), [gold], None).courier_code == "shunfeng"
    assert choose_courier(facts(amount_fen=49999), [gold], None).courier_code is None
    f = facts(sku_codes=frozenset({"TEE", "MATTRESS-1.8"}))
    assert choose_courier(f, [sku], None).courier_code == "debangwuliu"


def test_disabled_rules_are_ignored():
    off = CourierRule("停用", "shunfeng", enabled=False)
    assert choose_courier(facts(), [off], "yuantong").courier_code == "yuantong"


# ---------------------------------------------------------------- cost table

COSTS = CostTable.from_dict({
    "zhongtong": {"广东": [1000, 300, 100], "*": [1000, 500, 200]},
    "yuantong": {"*": [1000, 350, 150]},
    "shunfeng": {"*": [1000, 1200, 500]},
})
ALL_CHINA = [CourierRule("全国圆通", "yuantong"), CourierRule("全国中通", "zhongtong"),
             CourierRule("全国顺丰", "shunfeng")]


def test_cost_is_first_weight_plus_every_started_kilogram():
    assert COSTS.cost("zhongtong", "广东省", 1000) == 300
    assert COSTS.cost("zhongtong", "广东省", 1001) == 400
    assert COSTS.cost("zhongtong", "广东省", 2500) == 500
    assert COSTS.cost("zhongtong", "浙江省", 500) == 500  # default row
    assert COSTS.cost("jd", "广东省", 500) is None
    assert COSTS.cost("zhongtong", "广东省", None) is None


def test_cheapest_reachable_matching_courier_wins():
    d = choose_courier(facts(weight_g=1500), ALL_CHINA, None, costs=COSTS)
    assert d.courier_code == "zhongtong" and "运费最低4.00元" in d.reason_zh
    assert ("yuantong", "规则「全国圆通」匹配，运费5.00元不是最低") in d.considered
    d = choose_courier(facts(province="浙江省", weight_g=1500), ALL_CHINA, None, costs=COSTS)
    assert d.courier_code == "yuantong"
    d = choose_courier(facts(weight_g=1500), ALL_CHINA, None, costs=COSTS,
                       reachable=lambda c: c != "zhongtong")
    assert d.courier_code == "yuantong"


def test_cost_ties_go_to_the_earlier_rule():
    table = CostTable.from_dict({"yuantong": {"*": [1000, 300, 100]},
                                 "zhongtong": {"*": [1000, 300, 100]}})
    assert choose_courier(facts(), ALL_CHINA[:2], None, costs=table).courier_code == "yuantong"


def test_unpriced_couriers_win_only_when_nothing_is_priced():
    rules = [CourierRule("京东", "jd"), CourierRule("全国中通", "zhongtong")]
    assert choose_courier(facts(), rules, None, costs=COSTS).courier_code == "zhongtong"
    d = choose_courier(facts(weight_g=None), rules, None, costs=COSTS)
    assert d.courier_code == "jd" and "按规则顺序" in d.reason_zh


# ---------------------------------------------------------------- validation

def test_rules_from_settings_normalise_names():
    rule = CourierRule.from_dict({"name": "广东中通", "courier_code": "中通",
                                  "provinces": ["广东"], "max_weight_g": 3000})
    assert rule.courier_code == "zhongtong" and rule.provinces == frozenset({"广东省"})
    assert CourierRule.from_dict(rule.to_dict()) == rule
    # A code from the platform's runtime list that fahuo does not know yet is kept.
    assert CourierRule.from_dict({"name": "x", "courier_code": "fengwang"}).courier_code == "fengwang"


@pytest.mark.parametrize("data, field", [
    ({"courier_code": "zhongtong"}, "name"),
    ({"name": "a"}, "courier_code"),
    ({"name": "a", "courier_code": "菜鸟驿站"}, "courier_code"),
    ({"name": "a", "courier_code": "zhongtong", "provinces": ["火星"]}, "provinces"),
    ({"name": "a", "courier_code": "zhongtong", "provinces": "广东"}, "provinces"),
    ({"name": "a", "courier_code": "zhongtong", "min_weight_g": -5}, "min_weight_g"),
    ({"name": "a", "courier_code": "zhongtong", "min_weight_g": 3000, "max_weight_g": 1000},
     "min_weight_g"),
    ({"name": "a", "courier_code": "zhongtong", "max_amount_fen": "100"}, "max_amount_fen"),
    ({"name": "a", "courier_code": "zhongtong", "enabled": 1}, "enabled"),
    ({"name": "a", "courier_code": "zhongtong", "weight": 1}, "weight"),
])
def test_bad_rules_name_the_field(data, field):
    with pytest.raises(ValueError, match=field):
        CourierRule.from_dict(data)


@pytest.mark.parametrize("data", [
    {"zhongtong": {"火星": [1000, 300, 100]}},
    {"zhongtong": {"*": [0, 300, 100]}},
    {"zhongtong": {"*": [1000, 300]}},
    {"zhongtong": {"*": [1000, -1, 100]}},
    {"zhongtong": [1000, 300, 100]},
])
def test_bad_cost_tables_are_refused(data):
    with pytest.raises(ValueError, match="运费表"):
        CostTable.from_dict(data)


# ---------------------------------------------------------------- properties

couriers = st.sampled_from(["zhongtong", "yuantong", "shunfeng", "jd", "yunda"])
rules_st = st.lists(st.builds(
    CourierRule, name=st.text(min_size=1, max_size=4), courier_code=couriers,
    provinces=st.frozensets(st.sampled_from(["广东省", "浙江省", "新疆维吾尔自治区"]), max_size=2),
    min_weight_g=st.none() | st.integers(0, 5000), max_weight_g=st.none() | st.integers(0, 5000),
    enabled=st.booleans()), max_size=6)
facts_st = st.builds(ParcelFacts, province=st.sampled_from(["广东省", "浙江省", "新疆"]),
                     city=st.just("某市"), weight_g=st.none() | st.integers(0, 6000))


@given(facts_st, rules_st, st.none() | couriers, st.frozensets(couriers))
def test_the_chosen_courier_is_always_reachable_and_comes_from_a_matching_rule_or_default(
        f, rules, default, blocked):
    d = choose_courier(f, rules, default, reachable=lambda c: c not in blocked, costs=COSTS)
    if d.courier_code is None:
        assert not any(r.enabled and r.mismatch(f) is None and r.courier_code not in blocked
                       for r in rules)
        assert default is None or default in blocked
        return
    assert d.courier_code not in blocked
    if d.rule_name is None:
        assert d.courier_code == default
        assert not any(r.enabled and r.mismatch(f) is None and r.courier_code not in blocked
                       for r in rules)
    else:
        assert any(r.name == d.rule_name and r.courier_code == d.courier_code and r.enabled
                   and r.mismatch(f) is None for r in rules)
