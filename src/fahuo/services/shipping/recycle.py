"""Giving numbers back (``logistics.cancelOrder``) that will not ship: a cancelled or refunded
order in the pack, a label gone stale, an order shipped another way. Before a number goes
back, the packages of each of its pack's orders are read back (``order_packages``): a number
the platform shipped with is saved confirmed instead, and none is cancelled while the
platform cannot answer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TYPE_CHECKING

import structlog

from fahuo.adapters.platforms.doudian.errors import DoudianError, WaybillAlreadyCancelled
from fahuo.adapters.platforms.doudian.shipping import OrderPackages
from fahuo.domain.orders import SENT, OrderState
from fahuo.domain.packs import PACK, PackState, units_to_ship
from fahuo.services.shipping.context import LABELLED_ORDERS, TRANSIENT, Lines, Pack, Shipping
from fahuo.services.shipping.report import StepReport
from fahuo.services.shipping.shipped import save_confirmed
from fahuo.domain.waybills import WaybillState

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)


def recycle(ctx: Shipping, limit: int = 2000) -> StepReport:
    """Take back numbers that will not ship: a cancelled or refunded order in the pack, an
    address changed after the label (stale), or an order already shipped another way.
    Orders of the pack that still want their parcel are planned again. A number the
    platform shipped with (a crash after the confirmation call, or the label confirmed in
    the Douyin back office) is not given back: its pack is saved as confirmed."""
    r = StepReport()
    with ctx.uow() as u:
        packs = u.pipeline.packs_in_state(
            ["stale", "waybill_taken", "printed", "scanned", "failed"], limit=limit)
        lines = u.pipeline.lines([p["id"] for p in packs])
        known = u.pipeline.order_states(sorted({ln["order_id"] for ls in lines.values()
                                                for ln in ls}))
        # a printed label waiting for a scan that will never come (the parcel was put
        # aside) is void as soon as its lines are refunded, whatever the confirm mode
        void = refunded_since_packed(u, packs, lines, sorted(known))
        shops = {s.id: s for s in u.shops.list()}
    gone = (OrderState.CANCELLED.value, OrderState.REFUNDED.value)
    shipped = tuple(s.value for s in SENT)
    # A cancelled order never left (a refund may come after shipping: those are read).
    never_shipped = frozenset(oid for oid, st in known.items()
                              if st == OrderState.CANCELLED.value)
    read: dict[str, OrderPackages | None] = {}  # one read-back per order per pass
    found = 0
    for p in packs:
        ids = {ln["order_id"] for ln in lines[p["id"]]}
        states = {oid: known[oid] for oid in ids if oid in known}
        dead = (p["state"] == "stale" or any(st in gone + shipped for st in states.values())
                or any(ln["sku_order_id"] in void for ln in lines[p["id"]]))
        if not dead:
            continue
        r.seen += 1
        recycled, kept, used = cancel_numbers(
            ctx.platform_for(shops[p["shop_ref"]]), [p], lines, r, read=read,
            never_shipped=never_shipped)
        if used:
            carried = used[p["id"]]
            save_confirmed(ctx, [([p], sorted(x.order_id for x in carried))], StepReport(),
                           partly=frozenset(x.order_id for x in carried if x.partly))
            found += 1
            continue
        if kept:
            continue  # the platform was busy or could not say: next pass
        with ctx.uow() as u:
            u.pipeline.lock_orders(sorted(ids))
            u.pipeline.move_packs_from([p["id"]], PACK.sources(PackState.CANCELLED),
                                       PackState.CANCELLED,
                                       last_error="面单已回收 (number recycled)")
            u.pipeline.move_waybills(recycled, WaybillState.RECYCLED)
            if p["kind"] == "split":
                void_siblings(u, p)
            # label voided: its orders are planned again
            u.pipeline.move_orders_from(sorted(ids), LABELLED_ORDERS, OrderState.APPROVED)
        r.done += 1
    if found:
        r.notes.append(f"{found} 个包裹已在平台用该单号发货：记为已发货")
    return r


def void_siblings(u: UnitOfWork, pack: Pack) -> None:
    """A split order is planned as a whole: once one of its parcels is void, the others
    not yet shipped are void too, so the order is planned again with every line it still
    sends. Shipping them alone left the void parcel's other lines packed by nobody (the
    order stayed 部分发货 for good)."""
    going = [x for x in u.pipeline.packs_of_orders([pack["main_order_id"]])
             if x["id"] != pack["id"] and x["kind"] == "split"
             and x["state"] not in (PackState.CONFIRMED, PackState.CANCELLED, PackState.MANUAL)]
    note = "同一订单的另一个包裹面单作废，整单重新分包 (a sibling parcel was voided)"
    u.pipeline.move_packs_from([x["id"] for x in going if x["state"] == PackState.PLANNED],
                               frozenset({PackState.PLANNED}), PackState.CANCELLED,
                               last_error=note)
    u.pipeline.move_packs_from([x["id"] for x in going if x["state"] != PackState.PLANNED],
                               PACK.sources(PackState.STALE), PackState.STALE, last_error=note)


def refunded_since_packed(u: UnitOfWork, packs: list[Pack], lines: Lines,
                          order_ids: list[str]) -> set[str]:
    """sku_order_ids that these live packs carry more of than the line still sends: refunded
    (in whole or in part) after the pack was made, maybe asked and agreed between two syncs
    and so never seen open. Such a label is void."""
    refunded = u.pipeline.refund_asked(order_ids, [12])
    if not refunded:
        return set()
    packed: dict[str, int] = defaultdict(int)
    for p in {x["id"]: x for x in packs}.values():
        if p["state"] != "cancelled":
            for ln in lines.get(p["id"], []):
                packed[ln["sku_order_id"]] += ln["quantity"]
    return {s.sku_order_id for _, (_, subs) in u.pipeline.stock_lines(sorted(refunded)).items()
            for s in subs if packed.get(s.sku_order_id, 0) > units_to_ship(s)}


def _read_back(api: Any, order_id: str, read: dict[str, OrderPackages | None],
               r: StepReport) -> OrderPackages | None:
    """The order's parcels on the platform, once per pass; None when it cannot say now."""
    if order_id not in read:
        try:
            r.calls += 1
            read[order_id] = api.order_packages(order_id)
        except DoudianError as exc:
            if not isinstance(exc, TRANSIENT):
                log.warning("order_packages_read_failed", order_id=order_id, error=str(exc))
            r.notes.append(f"{order_id}: {exc}")
            read[order_id] = None
    return read[order_id]


def numbers_in_use(api: Any, packs: list[Pack], lines: Lines, r: StepReport, *,
                   read: dict[str, OrderPackages | None] | None = None,
                   never_shipped: frozenset[str] = frozenset()
                   ) -> tuple[dict[int, list[OrderPackages]], set[int]]:
    """Check each pack's number against the packages of each of its orders (a merged pack
    has several orders, a split order several packs): (pack id → the orders' read-backs
    that carry its number, ids of packs the platform could not answer for)."""
    read = {} if read is None else read
    used: dict[int, list[OrderPackages]] = {}
    unsure: set[int] = set()
    for p in packs:
        if not p["track_no"]:
            continue
        ids = sorted({ln["order_id"] for ln in lines.get(p["id"], [])} - never_shipped)
        got = [_read_back(api, oid, read, r) for oid in ids]
        carried = [x for x in got if x is not None and x.carries(p["track_no"])]
        if carried:
            used[p["id"]] = carried
        elif any(x is None for x in got):
            unsure.add(p["id"])
    return used, unsure


def cancel_numbers(api: Any, packs: list[Pack], lines: Lines, r: StepReport, *,
                   read: dict[str, OrderPackages | None] | None = None,
                   never_shipped: frozenset[str] = frozenset()
                   ) -> tuple[list[tuple[str, str]], set[int], dict[int, list[OrderPackages]]]:
    """Give numbers back, only those the platform shows unused by every order of their
    pack. Returns (recycled keys, ids of packs to try again later, pack id → read-backs
    of the orders the platform shipped with that pack's number: never cancelled)."""
    recycled: list[tuple[str, str]] = []
    # Nothing taken, or the merchant's own number: nothing to read, nothing to give back.
    ours = [p for p in packs if p["track_no"] and p["courier_rule"] != "import"]
    used, kept = numbers_in_use(api, ours, lines, r, read=read, never_shipped=never_shipped)
    for p in ours:
        if p["id"] in used or p["id"] in kept:
            continue  # live on a parcel, or the platform cannot say now: never cancel
        try:
            r.calls += 1
            api.cancel_waybill(p["courier_code"], p["track_no"])
            recycled.append((p["courier_code"], p["track_no"]))
        except WaybillAlreadyCancelled:
            recycled.append((p["courier_code"], p["track_no"]))  # a retry after a crash
        except DoudianError as exc:
            if isinstance(exc, TRANSIENT):
                kept.add(p["id"])
            else:
                log.warning("waybill_recycle_refused", track_no=p["track_no"],
                            error=str(exc))  # e.g. picked up: nothing more to do
    return recycled, kept, used
