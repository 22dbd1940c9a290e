"""Pure rules of the sandbox after-sale: push tags per change (doc §10.5), allowed decisions, interception
timelines."""
from __future__ import annotations

import pytest

from fahuo.sandbox.aftersales.rules import check_transition, tags_for
from fahuo.sandbox.couriers.timeline import TimelineClosed, make_plan, timeline

HZ = {"province": "浙江省", "city": "杭州市", "district": "西湖区"}
URUMQI = {"province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区"}


@pytest.mark.parametrize("old,new,old_rs,new_rs,a_type,tags", [
    (6, 7, 1, 1, 0, [202]),           # 同意退货申请
    (7, 11, 1, 1, 0, [203]),          # 买家退货
    (6, 12, 1, 3, 2, [201, 206]),     # 同意退款, money back at once
    (11, 12, 1, 2, 0, [201]),         # agreed, refund still running
    (12, 12, 2, 3, 0, [206]),         # the refund arrives
    (12, 12, 2, 4, 1, [208]),         # the refund failed: modified
    (6, 27, 1, 4, 1, [204]),          # 拒绝退款
    (6, 27, 1, 4, 0, [205]),          # 拒绝退货申请
    (11, 29, 1, 4, 0, [204]),         # refused after the goods came back
    (7, 28, 1, 4, 0, [207]),          # closed
    (27, 6, 4, 1, 2, [208]),          # the buyer modifies and applies again
    (27, 12, 4, 3, 1, [201, 206]),    # the platform rules for the buyer
])
def test_tags_per_change(old, new, old_rs, new_rs, a_type, tags):
    assert tags_for(old, new, old_rs, new_rs, a_type) == tags


def case(status: int, a_type: int, refund: int = 1) -> dict:
    return {"aftersale_id": "1", "aftersale_status": status, "aftersale_type": a_type, "refund_status": refund}


def test_decisions_follow_the_state_machine_with_default_refund_status():
    assert check_transition(case(6, 2), 12, None) == 3
    assert check_transition(case(6, 0), 7, None) == 1
    assert check_transition(case(6, 1), 27, None) == 4
    assert check_transition(case(11, 0), 12, 2) == 2
    assert check_transition(case(12, 0, 2), 12, 3) == 3
    for c, new, rs, words in [
        (case(6, 0), 12, None, "two steps"),           # a return-refund waits for the goods
        (case(6, 1), 7, None, "only a return-refund"),  # refund-only never waits for a parcel
        (case(7, 0), 11, None, "return_shipped"),       # only the buyer's parcel moves 7 → 11
        (case(28, 1), 6, None, r"none \(closed\)"),
        (case(6, 1), 13, None, "not simulated"),
        (case(6, 1), 27, 3, "needs aftersale_status 12"),
        (case(12, 1, 3), 12, 3, "already"),
        (case(6, 1), 12, 9, "refund_status must be"),
    ]:
        with pytest.raises(ValueError, match=words):
            check_transition(c, new, rs)


def test_an_intercepted_parcel_turns_back_from_where_it_is():
    no = "78000000000042"
    plan = make_plan(no, "zhongtong", HZ, URUMQI)
    normal = timeline(no, plan, 1_700_000_000, "none")
    kept = normal[:2]  # collected, first hub
    back = timeline(no, plan, 1_700_000_000, "intercepted", kept, now=kept[-1]["at"] + 60)
    steps = [e["step"] for e in back]
    assert steps == ["collected", "hub:0", "return:intercept", "return:hub:0", "return:out", "returned"]
    assert back[2]["douyin"] == "退回" and "拦截" in back[2]["context"]
    assert all(a["at"] < b["at"] for a, b in zip(back, back[1:]))
    assert timeline(no, plan, 1_700_000_000, "intercepted") == []  # before pickup: never collected
    with pytest.raises(TimelineClosed):
        timeline(no, plan, 1_700_000_000, "intercepted", normal)  # signed: too late
