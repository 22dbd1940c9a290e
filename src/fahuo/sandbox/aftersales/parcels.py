"""The parcels that carry a case's line, and where each one is on its courier timeline."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..couriers.timeline import due

if TYPE_CHECKING:
    from ..core import Sandbox


def parcels_of(order: dict[str, Any], sku_order_id: str | None = None) -> list[dict[str, Any]]:
    return [pk for pk in order.get("logistics_info") or []
            if sku_order_id is None or any(str(p["sku_order_id"]) == sku_order_id for p in pk["product_info"])]


def parcel_state(sb: Sandbox, tn: str) -> tuple[str | None, int]:
    """(last due step of the courier timeline, its time); (None, 0) when nothing happened / unknown."""
    row = sb.couriers.track(tn)
    if row is None:
        return None, 0
    now = sb.now()
    happened = [e for e in row["events"] if due(e) <= now]
    return (happened[-1]["step"], happened[-1]["at"]) if happened else (None, 0)


# afterSale.List ``order_logistics[].logistics_state`` (GO request comment for order_logistics_state):
# 1 买家已拒签, 2 买家已签收, 3 快递退回中（含拦截成功）, 4 商家已签收; 0 = on its way / unknown.
def _logistics_state(step: str | None) -> int:
    if step == "signed":
        return 2
    if step == "refused":
        return 1
    if step == "returned":
        return 4
    if step and step.startswith("return:"):
        return 3
    return 0


def order_logistics(sb: Sandbox, order: dict[str, Any], sku_order_id: str) -> list[dict[str, Any]]:
    out = []
    for pk in parcels_of(order, sku_order_id):
        step, at = parcel_state(sb, pk["tracking_no"])
        out.append({"tracking_no": pk["tracking_no"], "company_name": pk["company_name"],
                    "company_code": pk["company"], "logistics_time": at or pk["ship_time"],
                    "logistics_state": _logistics_state(step)})
    return out
