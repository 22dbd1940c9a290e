"""Stock for orders: reserve, release and deduct; reservations follow the lines; orders held
for stock get it when it arrives.

Reservation happens just before an order is packed (every way an order becomes ready passes
there), inside the pipeline's transaction: ``reserve_in`` / ``release_in`` / ``ship_in`` take
the caller's unit of work. Only SKU codes the merchant manages (that have a stock item) are
reserved; an order of unmanaged SKUs needs nothing. Rows are locked in id order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import OrderState
from fahuo.domain.orders import PRE_SHIPMENT, SENT
from fahuo.domain.packs import units_sent, units_to_keep, units_to_ship
from fahuo.domain.reservations import Parcel, ReservationState as RS, boxed, kept, release_reason
from fahuo.domain.stock import Demand, Move, expand, plan_reservations
from fahuo.services.ports import UowFactory
from fahuo.services.stock.lines import WAREHOUSE

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

STOCK_HOLD_SOURCE = "stock"


@dataclass
class Reserved:
    reserved: list[str] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)  # order → what is missing (Chinese)


def _demands(u: UnitOfWork, order_ids: list[str], units: Callable[[Any], int] = units_to_ship
             ) -> tuple[list[Demand], dict[str, int]]:
    """Demands deadline-first (each line's ``units``), and the stock item id per code they
    touch."""
    bundles = u.stock.bundles()
    raw: list[tuple[int, str, dict[str, int]]] = []
    codes: set[str] = set()
    for oid, (deadline, subs) in u.pipeline.stock_lines(order_ids).items():
        need = expand(((s.merchant_code, units(s)) for s in subs
                       if units(s) > 0 and s.merchant_code), bundles)
        raw.append((deadline or 2**62, oid, need))
        codes.update(need)
    items = u.stock.items(codes, WAREHOUSE)
    ids = {code: items[(code, WAREHOUSE)]["id"] for code in codes if (code, WAREHOUSE) in items}
    demands = [Demand(oid, {c: q for c, q in need.items() if c in ids})
               for _, oid, need in sorted(raw)]
    return demands, ids


def reserve_in(u: UnitOfWork, order_ids: Iterable[str], *, actor: str = "pipeline"
               ) -> Reserved:
    """Reserve stock for these orders (all lines of an order or none), deadline first.
    Orders already holding a reservation are left as they are."""
    ids = sorted(set(order_ids))
    out = Reserved()
    if not ids:
        return out
    if not u.stock.any_items():  # fahuo keeps no stock for this merchant: nothing to hold
        out.reserved += ids
        return out
    done = {r["order_id"] for r in u.stock.reservations(ids, ("reserved", "shipped"))}
    todo = [i for i in ids if i not in done]
    out.reserved += [i for i in ids if i in done]
    if not todo:
        return out
    demands, item_of = _demands(u, todo)
    locked = u.stock.lock_ids(item_of.values())
    available = {code: locked[i]["on_hand"] - locked[i]["reserved"] for code, i in item_of.items()}
    plan = plan_reservations(demands, available)
    rows, moves = [], []
    for d in plan.reserved:
        out.reserved.append(d.order_id)
        for code, q in d.need.items():
            rows.append({"order_id": d.order_id, "item_id": item_of[code], "quantity": q})
            moves.append({"item_id": item_of[code], "move": Move.RESERVE.value, "on_hand": 0,
                          "reserved": q, "damaged": 0, "ref_type": "order",
                          "ref_id": d.order_id, "actor": actor})
    for oid, missing in plan.short.items():
        out.short[oid] = "、".join(f"{code} 需要{need}件，可用{max(0, have)}件"
                                  for code, (need, have) in sorted(missing.items()))
    u.stock.add_reservations(rows)
    u.stock.apply(moves)
    return out


def _settle(u: UnitOfWork, order_ids: Iterable[str], move: Move, to_state: RS,
            reason: str, actor: str,
            shipped: dict[tuple[str, int], int] | None = None) -> int:
    """Settle live reservations. With ``shipped`` ((order, item) → units that left), only
    those units leave on hand; the rest of the reservation goes back (a line refunded after
    its units were reserved never left the shelf)."""
    order_ids = list(order_ids)
    live = u.stock.reservations(order_ids, ("reserved",))
    if not live:
        return 0
    u.stock.lock_ids(r["item_id"] for r in live)
    # Read again under the item locks: a worker settling the same orders meanwhile has
    # committed by now, and what it settled is no longer "reserved".
    live = u.stock.reservations(order_ids, ("reserved",))
    if not live:
        return 0
    moves = []
    for r in live:
        base = {"item_id": r["item_id"], "damaged": 0, "ref_type": "order",
                "ref_id": r["order_id"], "reason": reason, "actor": actor}
        out = (min(r["quantity"], shipped.get((r["order_id"], r["item_id"]), 0))
               if shipped is not None else r["quantity"] if move is Move.SHIP else 0)
        if out:
            moves.append({**base, "move": Move.SHIP.value, "on_hand": -out, "reserved": -out})
        if r["quantity"] - out:
            moves.append({**base, "move": Move.RELEASE.value, "on_hand": 0,
                          "reserved": -(r["quantity"] - out)})
    u.stock.apply(moves)
    u.stock.settle_reservations([(r["order_id"], r["item_id"]) for r in live], to_state)
    return len({r["order_id"] for r in live})


def release_in(u: UnitOfWork, order_ids: Iterable[str], reason: str,
               actor: str = "pipeline") -> int:
    """Give reserved stock back (cancelled, refunded). Returns orders released."""
    return _settle(u, order_ids, Move.RELEASE, RS.RELEASED, reason, actor)


def ship_in(u: UnitOfWork, order_ids: Iterable[str], actor: str = "pipeline") -> int:
    """The parcel left: the units of its lines still going to the buyer leave on hand too."""
    order_ids = sorted({r["order_id"] for r in u.stock.reservations(list(order_ids),
                                                                     ("reserved",))})
    if not order_ids:
        return 0  # nothing reserved: nothing to deduct (and no lines to read)
    demands, item_of = _demands(u, order_ids)
    shipped = {(d.order_id, item_of[c]): q for d in demands for c, q in d.need.items()}
    return _settle(u, order_ids, Move.SHIP, RS.SHIPPED, "shipped", actor, shipped)


def settle_in(u: UnitOfWork, limit: int = 5000) -> dict[str, int]:
    """Reservations of orders that left or were called off some other way (shipped on the
    platform, cancelled, refunded) are deducted or released; those of orders with a line
    refunded before it left shrink to what the order still sends."""
    gone = u.stock.reserved_orders_in_states(
        [OrderState.CANCELLED.value, OrderState.REFUNDED.value], limit)
    left = u.stock.reserved_orders_in_states(sorted(s.value for s in SENT), limit)
    refunded = u.stock.reserved_orders_with_refunded_lines(limit)
    followed = follow_lines_in(u, sorted(set(gone) | set(refunded)))
    # called off after the platform showed lines sent (shipped in the back office, then
    # refunded): what it sent leaves on hand, the rest goes back
    sent = sorted(o for o in gone if o in followed.sent)
    return {"released": len(followed.orders), "shipped": ship_in(u, left) + _ship_sent(u, sent)}


def _ship_sent(u: UnitOfWork, order_ids: list[str]) -> int:
    if not order_ids:
        return 0
    bundles = u.stock.bundles()
    shipped: dict[tuple[str, str], int] = {}
    for oid, (_, subs) in u.pipeline.stock_lines(order_ids).items():
        for code, q in expand(((s.merchant_code, units_sent(s)) for s in subs
                               if s.merchant_code and units_sent(s)), bundles).items():
            shipped[(oid, code)] = q
    items = u.stock.items({c for _, c in shipped}, WAREHOUSE)
    by_item = {(oid, items[(c, WAREHOUSE)]["id"]): q for (oid, c), q in shipped.items()
               if (c, WAREHOUSE) in items}
    return _settle(u, order_ids, Move.SHIP, RS.SHIPPED, "shipped", "pipeline", by_item)


@dataclass
class Followed:
    orders: dict[str, dict[str, int]] = field(default_factory=dict)  # order → code → units
    # back on the shelf
    sent: set[str] = field(default_factory=set)  # orders the platform shows partly sent:
    # left to the shipping settlement
    units: int = 0


def _boxed_items(u: UnitOfWork, order_ids: list[str], lines: dict[str, Any],
                 bundles: dict[str, dict[str, int]], item_of: dict[str, int]
                 ) -> dict[tuple[str, int], int]:
    """(order, stock item) → units in printed parcels that neither left nor were unpacked."""
    packs = u.pipeline.packs_of_orders(order_ids)
    if not packs:
        return {}
    ids = [p["id"] for p in packs]
    plines = u.pipeline.lines(ids)
    printed = u.prints.printed_before(ids, "labels")
    parcels = [Parcel(p["id"], p["id"] in printed or p["state"] in ("printed", "scanned"),
                      p["state"] == "confirmed", p.get("unpacked_at") is not None,
                      tuple((ln["order_id"], ln["sku_order_id"], ln["quantity"])
                            for ln in plines[p["id"]])) for p in packs]
    out: dict[tuple[str, int], int] = {}
    for (oid, sku_order_id), units in boxed(parcels).items():
        code = lines.get(sku_order_id)
        if not code:
            continue
        for part, q in expand([(code, units)], bundles).items():
            if part in item_of:
                key = (oid, item_of[part])
                out[key] = out.get(key, 0) + q
    return out


def follow_lines_in(u: UnitOfWork, order_ids: Iterable[str], *, actor: str = "pipeline",
                    unpacked: frozenset[str] = frozenset(), note: str = "") -> Followed:
    """Reservations follow the lines (docs/architecture.md, "Stock"): per stock item an
    order keeps what it still sends, or what sits in its printed parcels not yet unpacked,
    whichever is more; the rest goes back at once, the journal saying why (退款释放,
    取消释放, or 拆包放回 for orders in ``unpacked``, with ``note``). Only orders that
    never left: once the platform shows a line sent, the shipping settlement decides."""
    out = Followed()
    ids = sorted(set(order_ids))
    if not ids or not u.stock.reservations(ids, ("reserved",)):
        return out
    ids = sorted({r["order_id"] for r in u.stock.reservations(ids, ("reserved",))})
    u.pipeline.lock_orders(ids)  # orders before stock items (docs/architecture.md, "Locks")
    states = u.pipeline.order_states(ids)
    stock_lines = u.pipeline.stock_lines(ids)
    out.sent = {oid for oid, (_, subs) in stock_lines.items() if any(units_sent(s) for s in subs)}
    closed_states = (OrderState.CANCELLED.value, OrderState.REFUNDED.value)
    ids = [oid for oid in ids if oid not in out.sent
           and (states.get(oid) in closed_states
                or OrderState(states.get(oid, "synced")) in PRE_SHIPMENT)]
    if not ids:
        return out
    demands, item_of = _demands(u, ids, units_to_keep)
    need = {(d.order_id, item_of[c]): q for d in demands for c, q in d.need.items()}
    codes = {s.sku_order_id: s.merchant_code for oid in ids for s in stock_lines[oid][1]}
    bundles = u.stock.bundles()
    live = u.stock.reservations(ids, ("reserved",))
    by_id = {r["item_id"] for r in live}
    locked = u.stock.lock_ids(by_id)
    item_code = {i: row["sku_code"] for i, row in locked.items()}
    in_boxes = _boxed_items(u, ids, codes, bundles, {row["sku_code"]: i
                                                      for i, row in locked.items()})
    live = u.stock.reservations(ids, ("reserved",))  # again under the item locks
    moves, keep = [], []
    for r in live:
        oid, iid = r["order_id"], r["item_id"]
        closed = states[oid] if states.get(oid) in closed_states else None
        k = kept(r["quantity"], 0 if closed else need.get((oid, iid), 0),
                 in_boxes.get((oid, iid), 0))
        back = r["quantity"] - k
        if back <= 0:
            continue
        why = release_reason(closed, oid in unpacked)
        moves.append({"item_id": iid, "move": Move.RELEASE.value, "on_hand": 0,
                      "reserved": -back, "damaged": 0, "ref_type": "order", "ref_id": oid,
                      "reason": f"{why}：{note}" if note else why, "actor": actor})
        keep.append((oid, iid, k))
        got = out.orders.setdefault(oid, {})
        got[item_code[iid]] = got.get(item_code[iid], 0) + back
        out.units += back
    u.stock.apply(moves)
    u.stock.keep_reserved(keep)
    return out


def retry_short(uow: UowFactory, limit: int = 2000) -> Reserved:
    """Orders held only for stock get it when it arrives, deadline first."""
    with uow() as u:
        return retry_short_in(u, limit)


def retry_short_in(u: UnitOfWork, limit: int = 2000) -> Reserved:
    """``retry_short`` inside the caller's unit of work."""
    waiting = u.pipeline.held_for(HoldReason.STOCK_SHORT.value, limit)
    u.pipeline.lock_orders(waiting)  # orders before stock items (docs/architecture.md)
    holds = u.pipeline.open_holds(waiting)
    res = reserve_in(u, waiting, actor="stock")  # deadline first (reserve_in orders them)
    if res.reserved:
        u.pipeline.release_holds(res.reserved, "system: stock arrived",
                                 [HoldReason.STOCK_SHORT.value])
        free = [oid for oid in res.reserved
                if all(h["reason"] == HoldReason.STOCK_SHORT.value for h in holds[oid])]
        u.pipeline.move_orders_from(free, frozenset({OrderState.HELD}), OrderState.APPROVED)
    return res


__all__ = ["STOCK_HOLD_SOURCE", "Followed", "Reserved", "follow_lines_in", "release_in",
           "reserve_in", "retry_short", "retry_short_in", "settle_in", "ship_in"]
