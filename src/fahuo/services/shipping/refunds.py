"""Stopping refunded parcels (截停): an order whose buyer asked for a refund before its parcel
left stops wherever it is. Numbers not printed yet are given back; a printed parcel keeps its
label and is refused at the scanner. A line refunded after packing voids the label."""

from __future__ import annotations

from typing import Any, TYPE_CHECKING

from fahuo.domain.holds import OPEN_AFTER_SALE_STATUSES, HoldReason
from fahuo.domain.orders import HOLDABLE, ORDER, OrderState
from fahuo.domain.packs import PACK, PackState
from fahuo.services.shipping.context import LABELLED_ORDERS, Lines, Pack, Shipping, order_ids
from fahuo.services.shipping.recycle import cancel_numbers
from fahuo.services.shipping.report import StepReport
from fahuo.domain.waybills import WaybillState

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork


def stop_refunds(ctx: Shipping, limit: int = 2000) -> StepReport:
    """截停 at once: an order whose buyer asked for a refund stops wherever it is. Numbers
    not printed yet are given back; a printed parcel keeps its label and is refused at the
    scanner ("intercepted — do not ship")."""
    r = StepReport()
    with ctx.uow() as u:
        ids = u.pipeline.open_after_sale_orders(
            [OrderState.APPROVED.value, OrderState.WAYBILL_TAKEN.value,
             OrderState.PRINTED.value], sorted(OPEN_AFTER_SALE_STATUSES), limit)
        if not ids:
            return r
        loaded = u.pipeline.load_orders(ids)
        cfgs = {ref: u.settings.get(ref) for ref in {v[0] for v in loaded.values()}}
        ids = [oid for oid in ids if cfgs[loaded[oid][0]]["refund_policy"] != "reject"]
        packs = [p for p in u.pipeline.packs_of_orders(ids)
                 if p["state"] not in ("cancelled", "confirmed", "stale", "failed")]
        lines = u.pipeline.lines([p["id"] for p in packs])
    r.seen = len(ids)
    units: dict[str, list[dict[str, Any]]] = {}
    for p in packs:  # a split order's packs (same main order) stop together
        units.setdefault(p["main_order_id"], []).append(p)
    printed_orders: set[str] = set()
    for unit in units.values():
        refunding = sorted({ln["order_id"] for p in unit for ln in lines[p["id"]]} & set(ids))
        if any(p["state"] in ("printed", "scanned") for p in unit):
            printed_orders.update(refunding)
            continue
        stop_for_refund(ctx, unit, lines, refunding, r)
    packed = {ln["order_id"] for ls in lines.values() for ln in ls}
    hold_only = sorted((set(ids) - packed) | printed_orders)
    if hold_only:
        with ctx.uow() as u:
            u.pipeline.lock_orders(hold_only)
            moves = ORDER.moves_to(u.pipeline.order_states(hold_only), OrderState.HELD,
                                   HOLDABLE)
            u.pipeline.add_holds([{
                "order_id": oid, "reason": HoldReason.AFTER_SALE_OPEN.value,
                "detail": ("面单已打印：扫描发货时会拦截，请勿发出" if oid in printed_orders
                           else "买家申请退款，已截停"), "source": "pipeline"}
                for oid in hold_only if oid in moves])
            u.pipeline.move_orders(moves)
            r.held += len(moves)
    return r


def stop_for_refund(ctx: Shipping, unit: list[Pack], lines: Lines, refund_open: list[str],
                    r: StepReport) -> None:
    """截停: the buyer asked for money back before the parcel left."""
    with ctx.uow() as u:
        shop = u.shops.require(unit[0]["shop_ref"])
    api = ctx.platform_for(shop)
    # A number the platform already shipped with stays live: its pack waits as stale and
    # the next recycle saves it confirmed.
    recycled, kept, live = cancel_numbers(api, unit, lines, r)
    kept |= set(live)
    with ctx.uow() as u:
        ids = sorted({ln["order_id"] for p in unit for ln in lines[p["id"]]})
        u.pipeline.lock_orders(ids)
        current = u.pipeline.order_states(ids)
        # the refunding order waits; a merged partner whose label is void is planned
        # again (one a person holds stays held)
        states = ORDER.moves_to({o: st for o, st in current.items() if o in refund_open},
                                OrderState.HELD, HOLDABLE)
        states |= ORDER.moves_to({o: st for o, st in current.items()
                                  if o not in refund_open},
                                 OrderState.APPROVED, LABELLED_ORDERS)
        note = "买家申请退款，已截停 (refund requested: stopped)"
        u.pipeline.move_packs_from([p["id"] for p in unit if p["id"] not in kept],
                                   PACK.sources(PackState.CANCELLED), PackState.CANCELLED,
                                   last_error=note)
        u.pipeline.move_packs_from(sorted(kept), PACK.sources(PackState.STALE),
                                   PackState.STALE, last_error=note)
        u.pipeline.move_waybills(recycled, WaybillState.RECYCLED)
        u.pipeline.add_holds([{"order_id": oid, "reason": HoldReason.AFTER_SALE_OPEN.value,
                               "detail": "发货前买家申请售后，已截停并回收面单",
                               "source": "pipeline"} for oid in refund_open])
        u.pipeline.move_orders(states)
    r.held += len(refund_open)


def refunding(unit: list[Pack], lines: Lines, message: str) -> list[str]:
    """The orders of a unit the platform named as having an after-sale (all if unsure)."""
    named = {ln["order_id"] for p in unit for ln in lines[p["id"]]
             if ln["sku_order_id"] in message}
    return sorted(named) or order_ids(unit, lines)


def void_labels(u: UnitOfWork, unit: list[Pack], r: StepReport) -> None:
    """A line of the parcel was refunded after it was packed: the label is void.
    recycle() takes the number back and the orders are planned again with what is
    left, or closed when nothing is."""
    u.pipeline.move_packs_from([p["id"] for p in unit], PACK.sources(PackState.STALE),
                               PackState.STALE,
                               last_error="包裹中有商品已退款，面单作废 "
                                          "(a line was refunded after packing)")
    r.notes.append(f"{unit[0]['main_order_id']}: 包裹中有商品已退款，面单作废")
