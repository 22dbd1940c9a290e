"""What a person does with held orders: hold, release; every act in the audit log."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from fahuo.services.stock.orders import reserve_in
from fahuo.domain.holds import AuditRules, HoldReason, audit, unwaivable
from fahuo.domain.names import ORDER_STATE
from fahuo.domain.orders import HOLDABLE, OrderState
from fahuo.domain.packs import PackState
from fahuo.services.ports import UowFactory


@dataclass
class HoldResult:
    changed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # order_id → why not


def hold_orders(uow_factory: UowFactory, order_ids: Sequence[str], note: str,
                actor: str) -> HoldResult:
    res = HoldResult()
    if not note.strip():
        raise ValueError("挂起需要写明原因")
    with uow_factory() as u:
        loaded = u.pipeline.load_orders(list(order_ids))
        states: dict[str, tuple[str, str]] = {}
        for oid in order_ids:
            if oid not in loaded:
                res.refused[oid] = "fahuo 里没有这个订单"
                continue
            st = OrderState(loaded[oid][1])
            if st != OrderState.HELD and st not in HOLDABLE:
                res.refused[oid] = f"订单{ORDER_STATE.get(st, st)} ({st.value})，不能挂起"
                continue
            if st != OrderState.HELD:
                states[oid] = (st.value, OrderState.HELD.value)
            res.changed.append(oid)
        u.pipeline.add_holds([{"order_id": oid, "reason": HoldReason.MANUAL.value,
                               "detail": note.strip(), "source": "human"}
                              for oid in res.changed])
        u.pipeline.move_orders(states)
        for oid in res.changed:
            u.audit.add(actor=actor, action="order.hold", subject_type="order", subject_id=oid,
                        detail={"note": note.strip()})
    return res


def release_orders(uow_factory: UowFactory, order_ids: Sequence[str],
                   actor: str, note: str = "") -> HoldResult:
    """Clear the open holds a person may waive; the order goes back into the pipeline.

    The audit runs again first: what a person cannot waive (risk control, an unusable
    address) refuses the release until the platform's facts change. A pack that failed only
    at shipment confirmation keeps its number and is retried; one that never got a number is
    planned again (a split pack keeps its key so its siblings still ship together).
    """
    res = HoldResult()
    with uow_factory() as u:
        loaded = u.pipeline.load_orders(list(order_ids))
        holds = u.pipeline.open_holds(list(order_ids))
        states: dict[str, tuple[str, str]] = {}
        rules: dict[int, AuditRules] = {}
        for oid in order_ids:
            if oid not in loaded:
                res.refused[oid] = "fahuo 里没有这个订单"
                continue
            if OrderState(loaded[oid][1]) != OrderState.HELD:
                res.refused[oid] = f"not held (it is {loaded[oid][1]})"
                continue
            shop_ref, _, order = loaded[oid]
            if shop_ref not in rules:
                rules[shop_ref] = AuditRules.from_dict(u.settings.get(shop_ref)["audit_rules"])
            # The person waives what they looked at; facts they cannot waive are checked anew.
            blocking = unwaivable(audit(order, rules[shop_ref], int(time.time())))
            if blocking:
                res.refused[oid] = "不能放行：" + "；".join(h.text for h in blocking)
                continue
            if any(h["reason"] == HoldReason.STOCK_SHORT.value for h in holds.get(oid, [])):
                # Releasing past missing stock would oversell: it needs stock, not a click.
                got = reserve_in(u, [oid], actor=actor)
                if oid in got.short:
                    res.refused[oid] = f"不能放行：库存不足（{got.short[oid]}），请先入库或盘点"
                    continue
            states[oid] = (OrderState.HELD.value, OrderState.APPROVED.value)
            res.changed.append(oid)
        if res.changed:
            u.pipeline.release_holds(res.changed, actor)
            failed = [p for p in u.pipeline.packs_of_orders(res.changed)
                      if p["state"] == PackState.FAILED]
            u.pipeline.move_packs({p["id"]: (p["state"], PackState.WAYBILL_TAKEN.value
                                             if p["track_no"] else PackState.PLANNED.value
                                             if p["kind"] == "split"
                                             else PackState.CANCELLED.value)
                                   for p in failed})
            u.pipeline.move_orders(states)
        for oid in res.changed:
            u.audit.add(actor=actor, action="order.release", subject_type="order",
                        subject_id=oid, detail={"note": note, "released": [
                            h["reason"] for h in holds.get(oid, [])]})
    return res
