"""After-sale cases as they bear on stock: which refunds took units off a line before it left,
which cases bring goods back, and how many units a return may put back on the shelf.

Pure: no SQL, no clock. Figures are in stock units (bundles already expanded to parts).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from fahuo.domain.lifecycle import Lifecycle

# afterSale aftersale_type (§12.1)
RETURN_REFUND, REFUND_SHIPPED, REFUND_UNSHIPPED, EXCHANGE = 0, 1, 2, 3
TYPE_NAMES = {0: "退货退款", 1: "已发货仅退款", 2: "未发货仅退款", 3: "换货", 6: "价保",
              7: "补寄", 8: "维修"}
SUCCEEDED, MONEY_BACK = 12, 3  # aftersale_status 售后成功, refund_status 退款成功


class InterceptState(StrEnum):
    """An after-shipment case's interception (拦截), as ``after_sales.intercept_state``."""

    NONE = ""                 # nothing offered or asked
    OFFERED = "offered"       # refund wanted, parcel still travelling: may be called back
    REQUESTING = "requesting"  # claimed: a request is being sent right now
    REQUESTED = "requested"   # a path took the request
    RETURNING = "returning"   # every parcel is on its way back
    RETURNED = "returned"     # every parcel is back with the sender
    FAILED = "failed"         # refused, or the buyer signed for it after all
    UNAVAILABLE = "unavailable"  # no path can intercept this parcel
    UNSURE = "unsure"         # an answer was lost: the courier may have taken it


I = InterceptState  # noqa: E741
# A final answer to a request, or the state it was claimed from (nothing was sent).
_ANSWERS = frozenset({I.REQUESTED, I.FAILED, I.UNAVAILABLE, I.UNSURE, I.NONE, I.OFFERED})
INTERCEPT_TRANSITIONS: dict[InterceptState, frozenset[InterceptState]] = {
    # → REQUESTED without a claim: the same order's other case was requested (same parcels)
    I.NONE: frozenset({I.OFFERED, I.REQUESTING, I.REQUESTED}),
    I.OFFERED: frozenset({I.REQUESTING, I.REQUESTED}),
    I.REQUESTING: _ANSWERS,
    # read from the parcels' own tracking
    I.REQUESTED: frozenset({I.RETURNING, I.RETURNED, I.FAILED}),
    I.RETURNING: frozenset({I.RETURNED, I.FAILED}),
    I.RETURNED: frozenset(),
    # asked again (an explicit path for unsure), or covered by the order's other case
    I.FAILED: frozenset({I.REQUESTING, I.REQUESTED}),
    I.UNAVAILABLE: frozenset({I.REQUESTING, I.REQUESTED}),
    I.UNSURE: frozenset({I.REQUESTING, I.REQUESTED}),
}
INTERCEPT: Lifecycle[InterceptState] = Lifecycle("interception", INTERCEPT_TRANSITIONS,
                                                 frozenset({I.NONE}))
# Asked for (or already coming back): a second request would pay twice.
ASKED = frozenset({I.REQUESTED, I.RETURNING, I.RETURNED})
# Claimed, asked or coming back: nobody else may ask for the order's parcels.
BUSY = ASKED | {I.REQUESTING}
# A refund-only case whose parcel was intercepted brings the goods back all the same.
PARCEL_CAME_BACK = frozenset({I.RETURNING, I.RETURNED})


def goods_come_back(aftersale_type: int, intercept_state: str = "") -> str | None:
    """None when the case brings goods back to the merchant (退货退款, 换货, or a refund-only
    case whose parcel was intercepted and turned round); else why not, in Chinese."""
    if aftersale_type in (RETURN_REFUND, EXCHANGE):
        return None
    if aftersale_type == REFUND_SHIPPED and intercept_state in PARCEL_CAME_BACK:
        return None
    name = TYPE_NAMES.get(aftersale_type, f"类型{aftersale_type}")
    if aftersale_type == REFUND_UNSHIPPED:
        return f"这是{name}：商品没有发出，没有退货可收"
    if aftersale_type == REFUND_SHIPPED:
        return f"这是{name}：买家不退货（包裹也没有被拦截退回），没有退货可收"
    return f"这是{name}售后，不退回商品，没有退货可收"


def receipt_problems(asked: Mapping[str, int], shipped: Mapping[str, int],
                     returned: Mapping[str, int]) -> list[str]:
    """Each code of a receipt may bring back at most the units the order sent out less the
    units already received back on it. Every code over its limit is named, with the limit."""
    problems = []
    for code in sorted(asked):
        want = asked[code]
        if want < 0:
            problems.append(f"{code}：数量不能为负（{want}）")
            continue
        out, back = shipped.get(code, 0), returned.get(code, 0)
        left = max(0, out - back)
        if want > left:
            if not out:
                problems.append(f"{code}：本订单没有发出过这个商品，不能退货入库 {want} 件")
            else:
                problems.append(f"{code}：最多还能退货入库 {left} 件（本订单发出 {out} 件，"
                                f"已退回 {back} 件），这次填了 {want} 件")
    return problems


__all__ = ["ASKED", "BUSY", "EXCHANGE", "INTERCEPT", "InterceptState", "MONEY_BACK",
           "PARCEL_CAME_BACK", "REFUND_SHIPPED", "REFUND_UNSHIPPED",
           "RETURN_REFUND", "SUCCEEDED", "TYPE_NAMES", "goods_come_back", "receipt_problems"]
