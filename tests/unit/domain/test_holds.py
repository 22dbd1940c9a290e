import pytest
from hypothesis import given
from hypothesis import strategies as st

from fahuo.domain.holds import (
    DEFAULT_IGNORE_REMARKS, AuditRules, Hold, HoldReason, audit, reaudit,
    remark_needs_a_look, summary, unwaivable,
)
from fahuo.domain.orders import Order, Receiver, SubOrder

R = HoldReason
NOW = 1_732_000_000  # 2024-11-19 15:06 Beijing


def sub(sku_order_id="7000000000000000001", **kw):
    base = dict(sku_order_id=sku_order_id, product_id="p1", sku_id="s1", merchant_code="TEE-W-M",
                product_name="纯棉T恤", quantity=1, pay_amount=5900, order_status=2, spec="白色;M")
    base.update(kw)
    return SubOrder(**base)


def receiver(**kw):
    base = dict(name_cipher="##nameX*abc#1##", phone_cipher="$$telX*def$1$$",
                detail_cipher="##detailX#1##", name_mask="张*", phone_mask="138****1234",
                address_mask="科技园****", province="广东省", city="深圳市", district="南山区",
                street="粤海街道")
    base.update(kw)
    return Receiver(**base)


def order(**kw):
    base = dict(order_id="6925621234567891234", shop_id="shop1", order_status=2, main_status=None,
                create_time=NOW - 3600, pay_time=NOW - 3500, update_time=NOW - 3000,
                exp_ship_time=NOW + 2 * 86400, order_amount=5900, pay_amount=5900, post_amount=0,
                buyer_words="", seller_words="", seller_remark_stars=0, presale_type=0,
                receiver=receiver(), sub_orders=[sub()], buyer_id="buyer-open-id-1")
    base.update(kw)
    return Order(**base)


def reasons(holds):
    return [h.reason for h in holds]


def test_a_plain_paid_order_is_approved_with_no_holds():
    assert audit(order(), AuditRules(), NOW) == []


def test_every_reason_has_the_merchant_label():
    assert R.BUYER_REMARK.label == "买家留言"
    assert R.SELLER_REMARK.label == "商家备注/旗标"
    assert R.OUT_OF_RANGE.label == "超区"
    assert R.RISK_CONTROL.label == "风控审核中"
    assert R.ADDRESS_CHANGED.label == "地址变更待确认"
    assert all(r.label for r in HoldReason)
    assert Hold(R.BUYER_REMARK, "发顺丰").text == "买家留言：发顺丰"


@pytest.mark.parametrize("remark", ["尽快发货", "尽快发货，谢谢！", "  谢谢老板~ 🙏", "早点发货!!", ""])
def test_courtesy_remarks_do_not_hold(remark):
    assert audit(order(buyer_words=remark), AuditRules(), NOW) == []


@pytest.mark.parametrize("remark", ["发顺丰", "尽快发货，要黑色的", "谢谢，地址改成公司",
                                    "送个小礼物"])
def test_remarks_asking_for_something_hold_and_show_the_remark(remark):
    holds = audit(order(buyer_words=remark), AuditRules(), NOW)
    assert holds == [Hold(R.BUYER_REMARK, remark)]


def test_buyer_remark_hold_can_be_switched_off():
    assert audit(order(buyer_words="发顺丰"), AuditRules(hold_on_buyer_remark=False), NOW) == []


def test_longer_courtesy_phrases_are_removed_before_their_prefixes():
    # "谢谢" first would leave "老板" behind and hold a harmless remark.
    assert not remark_needs_a_look("谢谢老板", ["谢谢", "谢谢老板"])


def test_full_width_courtesy_text_is_still_recognised():
    assert not remark_needs_a_look("尽快发货！！谢谢。", DEFAULT_IGNORE_REMARKS)


def test_seller_remark_and_flag_hold_with_both_in_the_detail():
    holds = audit(order(seller_words="送贴纸", seller_remark_stars=5), AuditRules(), NOW)
    assert holds == [Hold(R.SELLER_REMARK, "送贴纸；旗标红")]


def test_a_flag_colour_the_shop_uses_for_checked_does_not_hold():
    rules = AuditRules(hold_on_star_flags=frozenset({5}))
    assert audit(order(seller_remark_stars=3), rules, NOW) == []
    assert reasons(audit(order(seller_remark_stars=5), rules, NOW)) == [R.SELLER_REMARK]


def test_risk_control_is_platform_status_105_and_cannot_be_waived():
    holds = audit(order(order_status=105), AuditRules(), NOW)
    assert reasons(holds) == [R.RISK_CONTROL]
    assert unwaivable(holds)


@pytest.mark.parametrize("change, missing", [
    (dict(province=""), "缺少省份"),
    (dict(province="火星省"), "无法识别省份“火星省”"),
    (dict(city=""), "缺少城市"),
    (dict(district=""), "缺少区县"),
    (dict(detail_cipher="", detail_plain="", address_mask=""), "缺少详细地址"),
])
def test_incomplete_address_says_which_part_is_missing(change, missing):
    holds = audit(order(receiver=receiver(**change)), AuditRules(), NOW)
    assert holds == [Hold(R.ADDRESS_INCOMPLETE, missing)]


def test_short_province_names_and_autonomous_regions_are_recognised():
    for p in ("广西", "广西壮族自治区", "内蒙古", "北京", "北京市", "新疆维吾尔自治区", "香港"):
        assert audit(order(receiver=receiver(province=p)), AuditRules(), NOW) == [], p


def test_dongguan_without_a_district_is_a_real_address():
    r = receiver(city="东莞市", district="", street="虎门镇")
    assert audit(order(receiver=r), AuditRules(), NOW) == []
    assert reasons(audit(order(receiver=receiver(city="东莞市", district="", street="")),
                         AuditRules(), NOW)) == [R.ADDRESS_INCOMPLETE]


def test_masked_detail_is_enough_when_no_ciphertext():
    r = receiver(detail_cipher="", address_mask="科技园****")
    assert audit(order(receiver=r), AuditRules(), NOW) == []


def test_out_of_range_is_passed_in_by_the_caller():
    holds = audit(order(), AuditRules(), NOW, out_of_range=True)
    assert reasons(holds) == [R.OUT_OF_RANGE]
    assert unwaivable(holds)


def test_presale_is_held_until_lead_time_before_the_deadline():
    deadline = NOW + 10 * 86400
    o = order(presale_type=1, exp_ship_time=deadline,
              sub_orders=[sub(presale_type=1, exp_ship_time=deadline)])
    rules = AuditRules(presale_lead_s=2 * 86400)
    held = audit(o, rules, NOW)
    assert reasons(held) == [R.PRESALE_NOT_DUE]
    assert "自动放行" in held[0].detail
    assert audit(o, rules, deadline - 2 * 86400) == []  # exactly at release time
    assert reasons(audit(o, rules, deadline - 2 * 86400 - 1)) == [R.PRESALE_NOT_DUE]


def test_presale_release_time_is_shown_in_beijing_time():
    deadline = 1_732_118_399  # 2024-11-20 23:59:59 +08:00 (doc §6.1 sample)
    o = order(presale_type=1, exp_ship_time=deadline, sub_orders=[sub(presale_type=1)])
    held = audit(o, AuditRules(presale_lead_s=86400), deadline - 5 * 86400)
    assert held[0].detail == "预计于2024-11-19 23:59自动放行（最晚发货2024-11-20 23:59）"


def test_presale_without_a_deadline_needs_a_person():
    o = order(presale_type=1, exp_ship_time=None, sub_orders=[sub(presale_type=1)])
    assert reasons(audit(o, AuditRules(), NOW)) == [R.PRESALE_NOT_DUE]


def test_a_presale_line_in_a_mixed_order_holds_the_order():
    o = order(sub_orders=[sub("1"), sub("2", presale_type=1, exp_ship_time=NOW + 20 * 86400)])
    assert reasons(audit(o, AuditRules(), NOW)) == [R.PRESALE_NOT_DUE]


@pytest.mark.parametrize("status", [6, 7, 11, 13, 14, 29])
def test_open_after_sale_holds(status):
    o = order(sub_orders=[sub(after_sale_status=status, refund_status=1)])
    holds = audit(o, AuditRules(), NOW)
    assert holds == [Hold(R.AFTER_SALE_OPEN, "纯棉T恤（白色;M）")]
    assert not unwaivable(holds)  # the merchant may ship anyway (is_reject_refund)


@pytest.mark.parametrize("status", [0, 12, 27, 28, 51, 53])
def test_closed_after_sale_does_not_hold(status):
    assert audit(order(sub_orders=[sub(after_sale_status=status)]), AuditRules(), NOW) == []


def test_buyer_cancelled_after_sale_keeps_refund_status_1_but_is_closed():
    # Doc §6.2: a cancelled after-sale shows after_sale_status 28 with refund_status 1.
    o = order(sub_orders=[sub(after_sale_status=28, refund_status=1)])
    assert audit(o, AuditRules(), NOW) == []


def test_amount_above_threshold_holds_only_when_set():
    o = order(pay_amount=68800)
    assert audit(o, AuditRules(), NOW) == []
    holds = audit(o, AuditRules(amount_threshold_fen=50000), NOW)
    assert holds == [Hold(R.AMOUNT_ABOVE, "实付688.00元，超过500.00元")]
    assert audit(order(pay_amount=50000), AuditRules(amount_threshold_fen=50000), NOW) == []


def test_blacklisted_buyer_and_receiver():
    rules = AuditRules(blacklist_buyer_ids=frozenset({"buyer-open-id-1"}))
    assert reasons(audit(order(), rules, NOW)) == [R.BLACKLISTED]
    rules = AuditRules(blacklist_address_keys=frozenset({"$$telX*def$1$$"}))
    assert audit(order(), rules, NOW) == [Hold(R.BLACKLISTED, "收件人电话或地址在黑名单")]


def test_a_masked_phone_never_matches_the_blacklist():
    rules = AuditRules(blacklist_address_keys=frozenset({"138****1234"}))
    assert audit(order(), rules, NOW) == []


def test_stock_short_names_the_products():
    o = order(sub_orders=[sub("1"), sub("2", product_name="帆布包", spec="")])
    assert audit(o, AuditRules(), NOW, stock_short=["2"]) == [Hold(R.STOCK_SHORT, "帆布包")]
    assert audit(o, AuditRules(), NOW, stock_short=["999"]) == []


def test_several_reasons_stand_together_in_a_fixed_order():
    o = order(order_status=105, buyer_words="发顺丰", seller_remark_stars=1,
              receiver=receiver(district=""), pay_amount=99900)
    holds = audit(o, AuditRules(amount_threshold_fen=10000), NOW, stock_short=[
        "7000000000000000001"], out_of_range=True)
    assert reasons(holds) == [R.RISK_CONTROL, R.BUYER_REMARK, R.SELLER_REMARK,
                              R.ADDRESS_INCOMPLETE, R.OUT_OF_RANGE, R.AMOUNT_ABOVE,
                              R.STOCK_SHORT]
    assert summary(holds).startswith("风控审核中、买家留言、商家备注/旗标")
    assert [h.reason for h in unwaivable(holds)] == [R.RISK_CONTROL, R.ADDRESS_INCOMPLETE,
                                                      R.OUT_OF_RANGE]


def test_release_after_fixing_the_address_is_allowed_when_only_waivable_holds_remain():
    before = audit(order(receiver=receiver(district=""), buyer_words="发顺丰"), AuditRules(), NOW)
    assert unwaivable(before)
    after = audit(order(buyer_words="发顺丰"), AuditRules(), NOW)
    assert not unwaivable(after)


def test_reaudit_keeps_event_holds_and_replaces_audit_holds():
    current = [Hold(R.BUYER_REMARK, "旧留言"), Hold(R.WAYBILL_FAILED, "10701 电子面单库存不足"),
               Hold(R.MANUAL, "客服要求等通知")]
    fresh = [Hold(R.STOCK_SHORT, "帆布包")]
    assert reaudit(current, fresh) == [Hold(R.STOCK_SHORT, "帆布包"), Hold(R.MANUAL, "客服要求等通知"),
                                       Hold(R.WAYBILL_FAILED, "10701 电子面单库存不足")]


# ---------------------------------------------------------------- settings round trip

def test_rules_round_trip_through_a_dict():
    rules = AuditRules(amount_threshold_fen=30000, hold_on_star_flags=frozenset({4, 5}),
                       blacklist_buyer_ids=frozenset({"b1"}), ignore_remark_patterns=("谢谢",))
    assert AuditRules.from_dict(rules.to_dict()) == rules
    assert AuditRules.from_dict({}) == AuditRules()


@pytest.mark.parametrize("data, field", [
    ({"hold_on_buyer_remarks": True}, "hold_on_buyer_remarks"),
    ({"hold_on_buyer_remark": "yes"}, "hold_on_buyer_remark"),
    ({"hold_on_star_flags": [0]}, "hold_on_star_flags"),
    ({"hold_on_star_flags": [6]}, "hold_on_star_flags"),
    ({"presale_lead_s": -1}, "presale_lead_s"),
    ({"amount_threshold_fen": 99.5}, "amount_threshold_fen"),
    ({"ignore_remark_patterns": "谢谢"}, "ignore_remark_patterns"),
    ({"ignore_remark_patterns": ["谢谢", ""]}, "ignore_remark_patterns"),
    ({"blacklist_buyer_ids": [123]}, "blacklist_buyer_ids"),
])
def test_bad_settings_name_the_field(data, field):
    with pytest.raises(ValueError, match=field):
        AuditRules.from_dict(data)


# ---------------------------------------------------------------- properties

REMARK_CHARS = st.sampled_from(list("，。！!~ 🙏") + list(DEFAULT_IGNORE_REMARKS))


@given(st.lists(REMARK_CHARS, max_size=8))
def test_any_mix_of_courtesy_phrases_and_punctuation_never_holds(parts):
    assert not remark_needs_a_look("".join(parts), DEFAULT_IGNORE_REMARKS)


@given(st.lists(REMARK_CHARS, max_size=4), st.sampled_from(["顺丰", "黑色", "改地址", "XL"]),
       st.lists(REMARK_CHARS, max_size=4))
def test_a_real_request_hidden_among_courtesy_phrases_always_holds(before, ask, after):
    assert remark_needs_a_look("".join(before) + ask + "".join(after), DEFAULT_IGNORE_REMARKS)


@given(st.sampled_from(list(HoldReason)), st.sampled_from(list(HoldReason)))
def test_reaudit_never_loses_an_event_hold_nor_keeps_a_stale_audit_hold(a, b):
    out = reaudit([Hold(a, "old")], [Hold(b, "new")] if b.from_audit else [])
    assert (Hold(a, "old") in out) == (not a.from_audit)
    if b.from_audit:
        assert Hold(b, "new") in out


def test_a_refunded_presale_line_does_not_hold_the_lines_still_to_ship():
    # The presale line, due in ten days, was refunded: only the in-stock line is left, and
    # it has nothing to wait for.
    later = NOW + 10 * 86400
    refunded = sub("7000000000000000002", presale_type=1, exp_ship_time=later,
                   after_sale_status=12, refund_status=3)
    assert audit(order(sub_orders=[sub(), refunded]), AuditRules(), NOW) == []
    # while the refund is only asked for, the line still counts (and the request holds)
    asked = sub("7000000000000000002", presale_type=1, exp_ship_time=later,
                after_sale_status=6, refund_status=1)
    assert {h.reason for h in audit(order(sub_orders=[sub(), asked]), AuditRules(), NOW)} == {
        R.PRESALE_NOT_DUE, R.AFTER_SALE_OPEN}


def test_a_pipeline_error_is_an_event_a_person_may_release():
    assert R.PIPELINE_ERROR.label == "处理出错"
    assert R.PIPELINE_ERROR.waivable and not R.PIPELINE_ERROR.from_audit
    kept = reaudit([Hold(R.PIPELINE_ERROR, "取号：KeyError: '6925'")], [])
    assert [h.text for h in kept] == ["处理出错：取号：KeyError: '6925'"]
