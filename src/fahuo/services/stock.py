"""Stock use cases: reserve, release and deduct for orders; receive, count and adjust by hand
or by file; retry orders held for stock when stock arrives.

Reservation happens just before an order is packed (every way an order becomes ready passes
there), inside the pipeline's transaction: ``reserve_in`` / ``release_in`` / ``ship_in`` take
the caller's unit of work. Only SKU codes the merchant manages (that have a stock item) are
reserved; an order of unmanaged SKUs needs nothing. Rows are locked in id order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import OrderState
from fahuo.domain.orders import PRE_SHIPMENT
from fahuo.domain.packs import units_sent, units_to_keep, units_to_ship
from fahuo.domain.reservations import Parcel, boxed, kept, release_reason
from fahuo.domain.stock import (
    Demand, Level, Move, StockError, SyncRule, apply, entry_for, expand, plan_reservations,
)
from fahuo.services.uploads import UploadLimits, UploadRefused, chunks, read_table

log = structlog.get_logger(__name__)
UowFactory = Callable[..., UnitOfWork]
WAREHOUSE = "main"
STOCK_HOLD_SOURCE = "stock"


@dataclass
class Reserved:
    reserved: list[str] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)  # order → what is missing (Chinese)


def _level(row: dict[str, Any]) -> Level:
    return Level(row["on_hand"], row["reserved"], row["damaged"], row["safety"])


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


def _settle(u: UnitOfWork, order_ids: Iterable[str], move: Move, to_state: str,
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
    u.stock.set_reservations([(r["order_id"], r["item_id"]) for r in live], to_state)
    return len({r["order_id"] for r in live})


def release_in(u: UnitOfWork, order_ids: Iterable[str], reason: str,
               actor: str = "pipeline") -> int:
    """Give reserved stock back (cancelled, refunded). Returns orders released."""
    return _settle(u, order_ids, Move.RELEASE, "released", reason, actor)


def ship_in(u: UnitOfWork, order_ids: Iterable[str], actor: str = "pipeline") -> int:
    """The parcel left: the units of its lines still going to the buyer leave on hand too."""
    order_ids = sorted({r["order_id"] for r in u.stock.reservations(list(order_ids),
                                                                     ("reserved",))})
    if not order_ids:
        return 0  # nothing reserved: nothing to deduct (and no lines to read)
    demands, item_of = _demands(u, order_ids)
    shipped = {(d.order_id, item_of[c]): q for d in demands for c, q in d.need.items()}
    return _settle(u, order_ids, Move.SHIP, "shipped", "shipped", actor, shipped)


def settle_in(u: UnitOfWork, limit: int = 5000) -> dict[str, int]:
    """Reservations of orders that left or were called off some other way (shipped on the
    platform, cancelled, refunded) are deducted or released; those of orders with a line
    refunded before it left shrink to what the order still sends."""
    gone = u.stock.reserved_orders_in_states(
        [OrderState.CANCELLED.value, OrderState.REFUNDED.value], limit)
    left = u.stock.reserved_orders_in_states(
        [OrderState.SHIPPED.value, OrderState.IN_TRANSIT.value, OrderState.DELIVERED.value,
         "partly_shipped"], limit)
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
    return _settle(u, order_ids, Move.SHIP, "shipped", "shipped", "pipeline", by_item)


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


# ---- people and files move stock ---------------------------------------------------------------

@dataclass(frozen=True)
class StockLine:
    sku_code: str
    quantity: int
    warehouse: str = WAREHOUSE
    name: str = ""


class StockInputError(ValueError):
    """Names every bad line; nothing was applied."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


MOVES_BY_HAND = {m.value for m in (Move.RECEIVE, Move.COUNT, Move.ADJUST, Move.DAMAGE,
                                   Move.RETURN_GOOD, Move.RETURN_DAMAGED)}


@dataclass
class Moved:
    levels: list[dict[str, Any]]  # each line's SKU after the move
    released: list[str] = field(default_factory=list)  # held orders the stock went to


def move_stock(uow: UowFactory, move: str, lines: list[StockLine], *, actor: str,
               reason: str = "", ref_type: str = "adjust", ref_id: str = "") -> Moved:
    """Apply one kind of move to many SKUs, all or nothing, in its own transaction."""
    with uow() as u:
        return move_stock_in(u, move, lines, actor=actor, reason=reason, ref_type=ref_type,
                             ref_id=ref_id)


def move_stock_in(u: UnitOfWork, move: str, lines: list[StockLine], *, actor: str,
                  reason: str = "", ref_type: str = "adjust", ref_id: str = "") -> Moved:
    """``move_stock`` inside the caller's unit of work. New SKU codes are created by receipts
    and counts; other moves need an existing item. Raises before writing anything. Stock that
    arrives goes to orders held for it, deadline first, in the same transaction."""
    if move not in MOVES_BY_HAND:
        raise StockInputError([f"move must be one of {', '.join(sorted(MOVES_BY_HAND))}"])
    mv = Move(move)
    problems = []
    for i, ln in enumerate(lines, 1):
        if not ln.sku_code.strip():
            problems.append(f"line {i}: SKU code is empty")
        if isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int):
            problems.append(f"line {i} ({ln.sku_code}): quantity must be a whole number")
        elif not -MAX_QUANTITY <= ln.quantity <= MAX_QUANTITY:
            problems.append(f"line {i} ({ln.sku_code}): quantity must be between "
                            f"-{MAX_QUANTITY} and {MAX_QUANTITY}")
    if not lines:
        problems.append("no lines")
    if problems:
        raise StockInputError(problems)
    codes = sorted({ln.sku_code.strip() for ln in lines})
    items = _items(u, codes)
    missing = [ln.sku_code for ln in lines if (ln.sku_code.strip(), ln.warehouse) not in items]
    if missing and mv not in (Move.RECEIVE, Move.COUNT, Move.RETURN_GOOD, Move.RETURN_DAMAGED):
        raise StockInputError([f"unknown SKU code {c} (receive or count it first)"
                               for c in missing])
    levels: dict[int, Level] = {}
    pending: list[tuple[int, StockLine, object]] = []
    for n, ln in enumerate(lines, 1):
        key = (ln.sku_code.strip(), ln.warehouse)
        iid = items[key]["id"] if key in items else -n  # new item: checked on an empty level
        lv = levels.get(iid) or (_level(items[key]) if key in items else Level())
        try:
            e = entry_for(mv, ln.quantity, lv)
            levels[iid] = apply(lv, e)
        except StockError as exc:
            problems.append(f"line {n} ({ln.sku_code}): {exc}")
            continue
        pending.append((iid, ln, e))
    if problems:
        raise StockInputError(problems)  # nothing written yet
    if missing:
        new_items = [{"sku_code": ln.sku_code.strip(), "warehouse": ln.warehouse,
                      "name": ln.name} for ln in lines
                     if (ln.sku_code.strip(), ln.warehouse) not in items]
        for part in chunks(new_items):
            u.stock.ensure_items(list(part))
        items = _items(u, codes)
    locked: dict[int, dict[str, Any]] = {}
    for ids in chunks(sorted(r["id"] for r in items.values())):  # id order across chunks too
        locked.update(u.stock.lock_ids(ids))
    final: dict[int, Level] = {i: _level(r) for i, r in locked.items()}
    moves = []
    for n, (_, ln, _e) in enumerate(pending, 1):
        iid = items[(ln.sku_code.strip(), ln.warehouse)]["id"]
        try:  # again on the locked rows: another worker may have moved them meanwhile
            e = entry_for(mv, ln.quantity, final[iid])
            final[iid] = apply(final[iid], e)
        except StockError as exc:
            raise StockInputError([f"line {n} ({ln.sku_code}): {exc}"]) from exc
        moves.append({"item_id": iid, "move": mv.value, "on_hand": e.on_hand,
                      "reserved": e.reserved, "damaged": e.damaged, "ref_type": ref_type,
                      "ref_id": ref_id, "reason": reason, "actor": actor})
    u.stock.apply(moves)
    u.audit.add(actor=actor, action=f"stock.{mv.value}", subject_type="stock",
                subject_id=ref_id or "-", detail={"lines": len(lines), "reason": reason})
    levels = [{"sku_code": ln.sku_code, "warehouse": ln.warehouse,
               **_level_dict(final[items[(ln.sku_code.strip(), ln.warehouse)]["id"]])}
              for _, ln, _ in pending]
    arrived = any(mv_["on_hand"] > 0 for mv_ in moves)
    return Moved(levels, retry_short_in(u).reserved if arrived else [])


def _items(u: UnitOfWork, codes: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """``u.stock.items`` for any number of codes, a bounded IN (...) list at a time."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for part in chunks(codes):
        out.update(u.stock.items(part))
    return out


def _level_dict(lv: Level) -> dict[str, int]:
    return {"on_hand": lv.on_hand, "reserved": lv.reserved, "available": lv.available,
            "damaged": lv.damaged}


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
        u.pipeline.set_states({oid: OrderState.APPROVED.value for oid in free})
    return res


def set_item(uow: UowFactory, sku_code: str, *, warehouse: str = WAREHOUSE, actor: str,
             safety: int | None = None, sync_rule: dict | None = None,
             name: str | None = None) -> dict:
    values: dict[str, Any] = {}
    if safety is not None:
        if isinstance(safety, bool) or not isinstance(safety, int) or safety < 0:
            raise StockInputError([f"safety stock must be a whole number ≥ 0, got {safety!r}"])
        values["safety"] = safety
    if sync_rule is not None:
        try:
            import orjson
            values["sync_rule"] = orjson.dumps(SyncRule.from_dict(sync_rule).to_dict()).decode()
        except StockError as exc:
            raise StockInputError([f"sync rule: {exc}"]) from exc
    if name is not None:
        values["name"] = name
    with uow() as u:
        items = u.stock.items([sku_code], warehouse)
        if (sku_code, warehouse) not in items:
            raise StockInputError([f"unknown SKU code {sku_code}"])
        iid = items[(sku_code, warehouse)]["id"]
        u.stock.set_item(iid, **values, dirty_at=int(time.time()))
        u.audit.add(actor=actor, action="stock.item", subject_type="stock", subject_id=sku_code,
                    detail={k: v for k, v in values.items()})
        return u.stock.items([sku_code], warehouse)[(sku_code, warehouse)]


def set_bundle(uow: UowFactory, bundle_code: str, parts: dict[str, int], *, actor: str) -> dict:
    """A bundle (组套) sold under one code ships as its parts: stock is kept for the parts."""
    problems = []
    if not bundle_code.strip():
        problems.append("bundle code is empty")
    for code, q in parts.items():
        if not code.strip() or code == bundle_code:
            problems.append(f"part {code!r}: a part needs its own code")
        if isinstance(q, bool) or not isinstance(q, int) or q <= 0:
            problems.append(f"part {code}: quantity must be a whole number > 0, got {q!r}")
    if problems:
        raise StockInputError(problems)
    with uow() as u:
        nested = sorted(set(parts) & set(u.stock.bundles()))
        if nested:
            raise StockInputError([f"part {c} is itself a bundle: list its parts instead"
                                   for c in nested])
        u.stock.set_bundle(bundle_code.strip(), parts)
        u.audit.add(actor=actor, action="stock.bundle", subject_type="stock",
                    subject_id=bundle_code, detail={"parts": parts})
    return {"bundle_code": bundle_code, "parts": parts}


# ---- count / receipt files (盘点, 入库) -----------------------------------------------------------

HEADERS = {"sku_code": ("商家编码", "sku_code", "编码", "sku"),
           "quantity": ("数量", "quantity", "qty", "盘点数量", "入库数量"),
           "warehouse": ("仓库", "warehouse"), "name": ("名称", "商品名称", "name")}


MAX_QUANTITY = 10**7  # units of one SKU in one line: the API's bound too
_WHOLE = re.compile(r"[+-]?\d{1,12}(?:\.0*)?")


def _quantity(text: str) -> int | None:
    """A whole number of units within ±MAX_QUANTITY, else None (no float: a 20-digit
    number, 1e30 or inf must be a row error, not an integer the database cannot hold)."""
    if not _WHOLE.fullmatch(text):
        return None
    q = int(text.split(".")[0])
    return q if -MAX_QUANTITY <= q <= MAX_QUANTITY else None


def parse_stock_file(name: str, data: bytes, limits: UploadLimits | None = None
                     ) -> list[StockLine]:
    """Rows of an .xlsx or .csv with a header row; every bad row is named."""
    try:
        header, rows = read_table(name, data, limits or UploadLimits())
    except UploadRefused as exc:
        raise StockInputError([str(exc)]) from exc
    head = [str(h if h is not None else "").strip().lower() for h in header]
    col: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, h in enumerate(head):
            if h in {n.lower() for n in names}:
                col[key] = i
                break
    missing = [HEADERS[k][0] for k in ("sku_code", "quantity") if k not in col]
    if missing:
        raise StockInputError([f"missing column {m} (header row: {', '.join(head)})"
                               for m in missing])
    out, problems, seen = [], [], set()
    for n, row in rows:
        def cell(k: str) -> str:
            i = col.get(k)
            return "" if i is None or i >= len(row) or row[i] is None else str(row[i]).strip()
        code, qty_s = cell("sku_code"), cell("quantity")
        wh = cell("warehouse") or WAREHOUSE
        if not code:
            problems.append(f"row {n}: SKU code is empty")
            continue
        qty = _quantity(qty_s)
        if qty is None:
            problems.append(f"row {n} ({code}): quantity {qty_s[:40]!r} is not a whole number "
                            f"between -{MAX_QUANTITY} and {MAX_QUANTITY}")
            continue
        if (code, wh) in seen:
            problems.append(f"row {n} ({code}): listed twice")
            continue
        seen.add((code, wh))
        out.append(StockLine(code, qty, wh, cell("name")))
    if problems:
        raise StockInputError(problems)
    return out


__all__ = ["MAX_QUANTITY", "MOVES_BY_HAND", "Moved", "Reserved", "StockInputError", "StockLine", "WAREHOUSE",
           "move_stock", "move_stock_in", "parse_stock_file", "release_in", "reserve_in", "retry_short",
           "retry_short_in", "set_bundle", "set_item", "settle_in", "ship_in", "Followed",
           "follow_lines_in"]
