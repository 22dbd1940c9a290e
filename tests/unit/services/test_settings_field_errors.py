"""Settings errors name the field they are about, so a form can put each beside its input;
every wrong field of every rule comes back at once and nothing is taken."""

from __future__ import annotations

import pytest

from fahuo.domain.holds import AuditRules
from fahuo.domain.routing import CourierRule
from fahuo.domain.rule_errors import FieldErrors
from fahuo.entrypoints.web.console import settings_forms as sf
from fahuo.services.settings import SettingsError, validate


def test_a_rule_names_each_bad_field_at_once_in_chinese():
    with pytest.raises(FieldErrors) as bad:
        CourierRule.from_dict({"name": " ", "courier_code": "火箭快递", "provinces": ["火星"],
                               "min_amount_fen": 500, "max_amount_fen": 100})
    p = bad.value.problems
    assert set(p) == {"name", "courier_code", "provinces", "min_amount_fen"}
    assert "规则名称（name）不能为空" in p["name"]
    assert "未知省份 '火星'" in p["provinces"]
    assert "最低金额（min_amount_fen）(500) 大于最高金额（max_amount_fen）(100)" in p["min_amount_fen"]


def test_validate_keys_problems_by_rule_place_and_field():
    with pytest.raises(SettingsError) as bad:
        validate({"courier_rules": [{"name": "好", "courier_code": "zhongtong"},
                                    {"name": "坏", "courier_code": "zhongtong",
                                     "max_weight_g": "1kg", "speed": 1}],
                  "audit_rules": {"hold_on_star_flags": [9], "amount_threshold_fen": -1},
                  "merge_window_s": -5})
    p = bad.value.problems
    assert set(p) == {"courier_rules.1.max_weight_g", "courier_rules.1",
                      "audit_rules.hold_on_star_flags", "audit_rules.amount_threshold_fen",
                      "merge_window_s"}
    assert p["courier_rules.1.max_weight_g"].startswith("第2条：")
    assert "未知字段 speed" in p["courier_rules.1"]
    assert "挂起的旗标颜色" in p["audit_rules.hold_on_star_flags"]


def test_audit_rules_collect_every_bad_field():
    with pytest.raises(FieldErrors) as bad:
        AuditRules.from_dict({"check_address": "yes", "presale_lead_s": -1, "nope": 1})
    assert set(bad.value.problems) == {"check_address", "presale_lead_s", ""}


def test_form_units_become_the_stored_units_and_bad_numbers_are_named():
    typed = [{"name": "a", "courier_code": "zhongtong", "provinces": ["浙江省"],
              "cities": "杭州，宁波", "sku_codes": "A-1 A-2", "product_tags": "",
              "min_weight_g": "3000", "max_weight_g": "3kg", "min_amount": "99.5",
              "max_amount": "1,000", "enabled": True}]
    rules, problems = sf.rules_changes(typed)
    assert rules[0]["cities"] == ["杭州", "宁波"] and rules[0]["sku_codes"] == ["A-1", "A-2"]
    assert rules[0]["min_weight_g"] == 3000 and rules[0]["min_amount_fen"] == 9950
    assert set(problems) == {"courier_rules.0.max_weight_g", "courier_rules.0.max_amount_fen"}
    back = sf.rule_view(CourierRule.from_dict({**rules[0], "max_weight_g": None,
                                               "max_amount_fen": 20000}).to_dict())
    assert (back["min_amount"], back["max_amount"], back["cities"]) == ("99.50", "200",
                                                                       "宁波、杭州")


def test_rule_buttons_reorder_remove_and_add():
    rules = [{"name": n} for n in "abc"]
    assert [r["name"] for r in sf.apply_op(rules, "up-2")[0]] == ["a", "c", "b"]
    assert [r["name"] for r in sf.apply_op(rules, "down-0")[0]] == ["b", "a", "c"]
    assert [r["name"] for r in sf.apply_op(rules, "remove-1")[0]] == ["a", "c"]
    assert [r["name"] for r in sf.apply_op(rules, "up-0")[0]] == ["a", "b", "c"]  # no-op
    added, save = sf.apply_op(rules, "add")
    assert len(added) == 4 and added[3]["name"] == "" and save is False
