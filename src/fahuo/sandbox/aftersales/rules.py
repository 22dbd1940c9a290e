"""After-sale rules, pure: status / type / refund names, who may move a case where, deadlines, push tags."""
from __future__ import annotations

from typing import Any


DAY = 86400


STATUS_TEXT = {6: "待商家同意", 7: "待买家退货", 8: "待商家发货", 11: "待商家二次同意", 12: "售后成功",
               13: "换货/补寄/维修待买家收货", 14: "换货/补寄/维修成功", 27: "商家一次拒绝", 28: "售后失败",
               29: "商家二次拒绝"}
TYPE_TEXT = {0: "退货退款", 1: "已发货仅退款", 2: "未发货仅退款", 3: "换货", 6: "价保", 7: "补寄", 8: "维修"}
REFUND_TEXT = {1: "待退款", 2: "退款中", 3: "退款成功", 4: "退款失败", 5: "追缴成功"}
REASONS = {1: "不想要了", 2: "商品质量问题", 3: "发错货/漏发", 4: "未按约定时间发货", 5: "快递一直未送达",
           6: "与商品描述不符", 7: "尺码不合适", 8: "收到商品破损"}
# Who may move a case where (the sandbox runs types 0/1/2 only; 8/13/14 are exchange/补寄/维修 states).
# 7 → 11 happens only through the buyer's return parcel (``return_shipped``).
NEXT: dict[int, set[int]] = {6: {7, 12, 27, 28}, 7: {28}, 11: {12, 28, 29}, 27: {6, 12, 28}, 29: {12, 28},
                             12: {12}, 28: set()}


DEADLINE = {6: 2 * DAY, 7: 7 * DAY, 11: 2 * DAY, 27: 3 * DAY, 29: 3 * DAY}  # 当前节点逾期时间


def tags_for(old: int, new: int, old_refund: int, new_refund: int, a_type: int) -> list[int]:
    """Push tags (§10.5) for one change of a case."""
    if new == 12:
        out = [] if old == 12 else [201]  # RefundAgreed
        if new_refund == 3 and (old != 12 or old_refund != 3):
            out.append(206)  # RefundSuccess
        elif old == 12 and new_refund != old_refund:
            out.append(208)  # RefundModified (e.g. the refund failed)
        return out
    if new == old:
        return [208] if new_refund != old_refund else []
    return {7: [202], 11: [203], 27: [205] if a_type == 0 else [204], 29: [204], 28: [207], 6: [208]}.get(new, [])


def default_refund(status: int) -> int:
    return 3 if status == 12 else (4 if status in (27, 28, 29) else 1)


def check_transition(case: dict[str, Any], new: int, refund: int | None) -> int:
    """Validate a merchant / platform decision; return the refund_status to store."""
    old, a_type = case["aftersale_status"], case["aftersale_type"]
    if new not in NEXT:
        raise ValueError(f"aftersale_status {new} is not simulated (6, 7, 11, 12, 27, 28, 29; 8/13/14 are "
                         "exchange / 补寄 / 维修 states)")
    if refund is not None and refund not in REFUND_TEXT:
        raise ValueError(f"refund_status must be one of {sorted(REFUND_TEXT)}")
    if old == 7 and new == 11:
        raise ValueError("7 → 11 happens when the buyer sends the goods back: "
                         "POST /sandbox/aftersales/{id}/return_shipped")
    if new not in NEXT[old]:
        raise ValueError(f"aftersale {case['aftersale_id']} cannot go from {old} ({STATUS_TEXT[old]}) to {new}"
                         f" ({STATUS_TEXT.get(new, '?')}); allowed: {sorted(NEXT[old]) or 'none (closed)'}")
    if old == 6 and new == 7 and a_type != 0:
        raise ValueError("only a return-refund (aftersale_type 0) waits for the buyer's return (7)")
    if old == 6 and new == 12 and a_type == 0:
        raise ValueError("a return-refund (aftersale_type 0) is agreed in two steps: 7, then 11 → 12")
    rs = default_refund(new) if refund is None else refund
    if new != 12 and rs not in (1, 4):
        raise ValueError(f"refund_status {rs} needs aftersale_status 12 (1 or 4 otherwise)")
    if new == old and rs == case["refund_status"]:
        raise ValueError(f"aftersale {case['aftersale_id']} is already {old} / refund {rs}")
    return rs
