"""Stock use cases: reserve, release and deduct for orders; receive, count and adjust by hand
or by file; retry orders held for stock when stock arrives.

Reservation happens just before an order is packed (every way an order becomes ready passes
there), inside the pipeline's transaction: ``reserve_in`` / ``release_in`` / ``ship_in`` take
the caller's unit of work. Only SKU codes the merchant manages (that have a stock item) are
reserved; an order of unmanaged SKUs needs nothing. Rows are locked in id order.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import OrderState
from fahuo.domain.orders import PRE_SHIPMENT, SENT
from fahuo.domain.packs import units_sent, units_to_keep, units_to_ship
from fahuo.domain.reservations import Parcel, boxed, kept, release_reason
from fahuo.domain.stock import (
    Demand, Level, Move, StockError, SyncRule, apply, entry_for, expand, plan_reservations,
)
from fahuo.services.ports import Table, TableReader
from fahuo.services.uploads import UploadLimits, UploadRefused, chunks
from fahuo.services.ports import UowFactory

log = structlog.get_logger(__name__)
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
    row: int = 0  # the file's own row number (0: not from a file)
    new: bool = False  # the merchant says this code is new: a receipt or count may create it


class StockInputError(ValueError):
    """Names every bad line; nothing was applied."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


MOVES_BY_HAND = {m.value for m in (Move.RECEIVE, Move.COUNT, Move.ADJUST, Move.DAMAGE,
                                   Move.RETURN_GOOD, Move.RETURN_DAMAGED)}
CREATES = (Move.RECEIVE, Move.COUNT)  # may start a new code, when it is marked new
RETURNS = (Move.RETURN_GOOD, Move.RETURN_DAMAGED)  # codes the order's lines vouch for
NEW_CODE_HINT = ("若是新商品，请标明新编码（控制台勾选“新编码”，命令行加 --new-code，"
                 "接口在该行写 \"new\": true）")
SUGGEST_MAX = 50
NEW_CODE_HINT_FILE = "若是新商品，在该行“新编码”列填“是”"


@dataclass
class Moved:
    levels: list[dict[str, Any]]  # each line's SKU after the move (and after held orders
    # took what arrived)
    released: list[str] = field(default_factory=list)  # held orders the stock went to


def move_stock(uow: UowFactory, move: str, lines: list[StockLine], *, actor: str,
               reason: str = "", ref_type: str = "adjust", ref_id: str = "") -> Moved:
    """Apply one kind of move to many SKUs, all or nothing, in its own transaction."""
    with uow() as u:
        return move_stock_in(u, move, lines, actor=actor, reason=reason, ref_type=ref_type,
                             ref_id=ref_id)


def _label(ln: StockLine, n: int, many: bool) -> str:
    """How a line is named to the merchant: the file's row, else its place in the list."""
    code = ln.sku_code.strip() or "（空编码）"
    return f"第{ln.row}行 {code}" if ln.row else f"第{n}行 {code}" if many else code


def _suggest(code: str, known: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(code, sorted(set(known)), n=1, cutoff=0.6)
    return match[0] if match else None


def move_stock_in(u: UnitOfWork, move: str, lines: list[StockLine], *, actor: str,
                  reason: str = "", ref_type: str = "adjust", ref_id: str = "",
                  problems: Iterable[tuple[int, str]] = ()) -> Moved:
    """``move_stock`` inside the caller's unit of work. Every problem of every line is found
    in one round (with ``problems`` a file's reading already found, by row) and raised
    before anything is written. A receipt or count creates a code only when it is marked
    new or the shops sell it (it is on order lines); anything else unknown is refused, with
    the closest known code. Stock that arrives goes to orders held for it, deadline first,
    in the same transaction; the levels returned are after that."""
    if move not in MOVES_BY_HAND:
        raise StockInputError([f"操作必须是 {', '.join(sorted(MOVES_BY_HAND))} 之一，收到 "
                               f"{move!r}"])
    mv = Move(move)
    many = len(lines) > 1
    found: list[tuple[int, str]] = list(problems)
    order = {id(ln): (ln.row or n) for n, ln in enumerate(lines, 1)}
    if not lines and not found:
        found.append((0, "没有要处理的行"))
    bundles = u.stock.bundles()
    ok: list[tuple[int, StockLine]] = []
    for n, ln in enumerate(lines, 1):
        at, code = _label(ln, n, many), ln.sku_code.strip()
        if not code:
            found.append((order[id(ln)], f"{at}：商家编码为空"))
        elif isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int):
            found.append((order[id(ln)], f"{at}：数量必须是整数，收到 {ln.quantity!r}"))
        elif not -MAX_QUANTITY <= ln.quantity <= MAX_QUANTITY:
            found.append((order[id(ln)], f"{at}：数量 {ln.quantity} 超出范围（一行最多 "
                                         f"±{MAX_QUANTITY} 件）"))
        elif code in bundles:
            found.append((order[id(ln)], f"{at}：这是组套，库存记在部件上（{parts_text(bundles[code])}），"
                                         "请对部件入库或盘点"))
        else:
            ok.append((n, ln))
    codes = sorted({ln.sku_code.strip() for _, ln in ok})
    items = _items(u, codes)
    unknown = [(n, ln) for n, ln in ok if (ln.sku_code.strip(), ln.warehouse) not in items]
    if unknown:
        sold = u.stock.sold_codes({ln.sku_code.strip() for _, ln in unknown})
        known: set[str] | None = None
        hint = NEW_CODE_HINT_FILE if ref_type == "import" else NEW_CODE_HINT
        creatable = []
        for n, ln in unknown:
            code = ln.sku_code.strip()
            if mv in RETURNS or (mv in CREATES and (ln.new or code in sold)):
                creatable.append((n, ln))
                continue
            if known is None:  # every code fahuo knows, once: an error path only
                known = ({k[0] for k in u.stock.items()} | u.stock.sold_codes()
                         | {p for parts in bundles.values() for p in parts}
                         | {x.sku_code.strip() for x in lines if x.new})  # new alongside
            # difflib costs a pass over every known code: the first few dozen get a
            # suggestion (a file of thousands of new codes is a first import, not typos)
            near = _suggest(code, known - {code}) if len(found) < SUGGEST_MAX else None
            if mv in CREATES:
                why = (f"未知编码 {code}，是不是 {near}？{hint}" if near else
                       f"未知编码 {code}（库存、组套和订单里都没有）；{hint}")
            else:
                why = f"未知编码 {code}（还没有库存记录：先入库或盘点）" + (
                    f"，是不是 {near}？" if near else "")
            at = f"{_label(ln, n, many)}：" if ln.row or many else ""  # why names the code
            found.append((order[id(ln)], at + why))
        unknown = creatable
    new_rows = {n for n, _ in unknown}
    levels: dict[Any, Level] = {}
    pending: list[StockLine] = []
    for n, ln in ok:
        key = (ln.sku_code.strip(), ln.warehouse)
        if key not in items and n not in new_rows:
            continue  # refused above
        lv = levels.get(key) or (_level(items[key]) if key in items else Level())
        try:
            e = entry_for(mv, ln.quantity, lv)
            levels[key] = apply(lv, e)
        except StockError as exc:
            found.append((order[id(ln)], f"{_label(ln, n, many)}：{exc}"))
            continue
        pending.append(ln)
    if found:
        raise StockInputError([p for _, p in sorted(found, key=lambda f: f[0])])
    if unknown:
        new_items = [{"sku_code": ln.sku_code.strip(), "warehouse": ln.warehouse,
                      "name": ln.name} for _, ln in unknown]
        for part in chunks(new_items):
            u.stock.ensure_items(list(part))
        items = _items(u, codes)
    locked: dict[int, dict[str, Any]] = {}
    for ids in chunks(sorted(r["id"] for r in items.values())):  # id order across chunks too
        locked.update(u.stock.lock_ids(ids))
    final: dict[int, Level] = {i: _level(r) for i, r in locked.items()}
    moves = []
    for n, ln in enumerate(pending, 1):
        iid = items[(ln.sku_code.strip(), ln.warehouse)]["id"]
        try:  # again on the locked rows: another worker may have moved them meanwhile
            e = entry_for(mv, ln.quantity, final[iid])
            final[iid] = apply(final[iid], e)
        except StockError as exc:
            raise StockInputError([f"{_label(ln, n, many)}：{exc}（刚被其他操作改动）"]
                                  ) from exc
        moves.append({"item_id": iid, "move": mv.value, "on_hand": e.on_hand,
                      "reserved": e.reserved, "damaged": e.damaged, "ref_type": ref_type,
                      "ref_id": ref_id, "reason": reason, "actor": actor})
    u.stock.apply(moves)
    u.audit.add(actor=actor, action=f"stock.{mv.value}", subject_type="stock",
                subject_id=ref_id or "-", detail={"lines": len(lines), "reason": reason})
    arrived = any(mv_["on_hand"] > 0 for mv_ in moves)
    released = retry_short_in(u).reserved if arrived else []
    if released:  # held orders took their units: show the levels as they are now
        after = u.stock.lock_ids(final)
        final = {i: _level(r) for i, r in after.items()}
    out = [{"sku_code": ln.sku_code.strip(), "warehouse": ln.warehouse,
            **_level_dict(final[items[(ln.sku_code.strip(), ln.warehouse)]["id"]])}
           for ln in pending]
    return Moved(out, released)


def parts_text(parts: dict[str, int]) -> str:
    """2×CUP-A + 1×LID"""
    return " + ".join(f"{q}×{c}" for c, q in parts.items())


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
        u.pipeline.move_orders_from(free, frozenset({OrderState.HELD}), OrderState.APPROVED)
    return res


def set_item(uow: UowFactory, sku_code: str, *, warehouse: str = WAREHOUSE, actor: str,
             safety: int | None = None, sync_rule: dict | None = None,
             name: str | None = None, oversell: bool | None = None) -> dict:
    """Safety stock, name, sync rule and oversell flag of a SKU code or a bundle code.
    ``sync_rule`` changes only the fields it names (``{"maximum": None}`` clears the
    maximum); the rest stay as they are."""
    import orjson
    problems = []
    if safety is not None and (isinstance(safety, bool) or not isinstance(safety, int)
                               or not 0 <= safety <= MAX_QUANTITY):
        problems.append(f"安全库存必须是 0 到 {MAX_QUANTITY} 的整数，收到 {safety!r}")
    if oversell is not None and not isinstance(oversell, bool):
        problems.append(f"允许超卖（oversell）只能是 true 或 false，收到 {oversell!r}")
    if sync_rule is not None and not isinstance(sync_rule, dict):
        problems.append("同步规则必须是 {percent, add, minimum, maximum} 这样的对象")
    if problems:
        raise StockInputError(problems)
    code = sku_code.strip()
    with uow() as u:
        bundles = u.stock.bundles()
        if code in bundles:
            return _set_bundle_rule(u, code, bundles[code], actor=actor, safety=safety,
                                    sync_rule=sync_rule, name=name, oversell=oversell)
        items = u.stock.items([code], warehouse)
        if (code, warehouse) not in items:
            near = _suggest(code, [k[0] for k in u.stock.items()] + list(bundles))
            raise StockInputError([f"未知编码 {code}" + (f"，是不是 {near}？" if near else
                                                         "（先入库或盘点，或定义为组套）")])
        row = items[(code, warehouse)]
        values: dict[str, Any] = {}
        if safety is not None:
            values["safety"] = safety
        if sync_rule is not None:
            values["sync_rule"] = _merged_rule(row["sync_rule"], sync_rule)
        if name is not None:
            values["name"] = name
        if oversell is not None:
            values["oversell"] = oversell
        u.stock.set_item(row["id"], **values, dirty_at=int(time.time()))
        u.audit.add(actor=actor, action="stock.item", subject_type="stock", subject_id=code,
                    detail=values)
        out = u.stock.items([code], warehouse)[(code, warehouse)]
        return {**out, "sync_rule": orjson.loads(out["sync_rule"]), "bundle": False}


def _merged_rule(stored: str | None, change: dict) -> str:
    import orjson
    try:
        merged = SyncRule.from_dict({**orjson.loads(stored or "{}"), **change})
    except StockError as exc:
        raise StockInputError([f"同步规则：{exc}"]) from exc
    return orjson.dumps(merged.to_dict()).decode()


def _set_bundle_rule(u: UnitOfWork, code: str, parts: dict[str, int], *, actor: str,
                     safety: int | None, sync_rule: dict | None, name: str | None,
                     oversell: bool | None) -> dict:
    import orjson
    if safety is not None or name is not None:
        raise StockInputError([f"{code} 是组套（{parts_text(parts)}）：库存和安全库存都记在"
                               "部件上，组套只有同步规则和是否允许超卖"])
    row = u.stock.bundle_settings([code]).get(code) or {}
    values: dict[str, Any] = {}
    if sync_rule is not None:
        values["sync_rule"] = _merged_rule(row.get("sync_rule"), sync_rule)
    if oversell is not None:
        values["oversell"] = oversell
    u.stock.set_bundle_settings(code, **values, dirty_at=int(time.time()))
    u.audit.add(actor=actor, action="stock.bundle_rule", subject_type="stock",
                subject_id=code, detail=values)
    row = u.stock.bundle_settings([code])[code]
    return {"sku_code": code, "bundle": True, "parts": parts,
            "sync_rule": orjson.loads(row["sync_rule"]), "oversell": row["oversell"]}


def parse_parts(items: Iterable[str]) -> dict[str, int]:
    """Parts typed by a person: ``CODE=QTY`` each, or several in one text separated by
    commas, spaces or 、 (``CUP-A=2, LID=1``)."""
    parts: dict[str, int] = {}
    problems = []
    for text in items:
        for it in re.split(r"[,，、;；\s]+", text.strip()):
            if not it:
                continue
            code, sep, qty = it.replace("＝", "=").partition("=")
            try:
                q = read_quantity(qty) if sep and code else None
            except ValueError as exc:
                problems.append(f"部件 {code}：{exc}")
                continue
            if q is None:
                problems.append(f"“{it[:40]}”：请写成 编码=每套数量，如 CUP-A=2")
            elif code in parts:
                problems.append(f"部件 {code} 写了两次")
            else:
                parts[code] = q
    if problems:
        raise StockInputError(problems)
    return parts


def set_bundle(uow: UowFactory, bundle_code: str, parts: dict[str, int], *, actor: str) -> dict:
    """A bundle (组套) sold under one code ships as its parts: stock is kept for the parts,
    and the shop is told how many bundles they can make."""
    problems = []
    code = bundle_code.strip()
    if not code:
        problems.append("组套编码为空")
    if not parts:
        problems.append("组套至少要有一个部件（写成 编码=数量，如 CUP-A=2）")
    for part, q in parts.items():
        if not part.strip() or part.strip() == code:
            problems.append(f"部件 {part!r}：部件要有自己的编码（不能是组套本身）")
        if isinstance(q, bool) or not isinstance(q, int) or not 0 < q <= 10_000:
            problems.append(f"部件 {part}：每套数量必须是 1 到 10000 的整数，收到 {q!r}")
    if problems:
        raise StockInputError(problems)
    parts = {p.strip(): q for p, q in parts.items()}
    with uow() as u:
        nested = sorted(set(parts) & set(u.stock.bundles()))
        if nested:
            raise StockInputError([f"部件 {c} 本身是组套：请直接写它的部件" for c in nested])
        kept = [r for r in u.stock.items([code]).values() if r["on_hand"] or r["reserved"]]
        if kept:
            raise StockInputError([f"{code} 已有库存（{r['warehouse']} 仓实物 {r['on_hand']}，"
                                   f"占用 {r['reserved']}）：组套的库存记在部件上，先把它盘点"
                                   "为 0 再定义为组套" for r in kept])
        u.stock.set_bundle(code, parts)
        u.audit.add(actor=actor, action="stock.bundle", subject_type="stock",
                    subject_id=code, detail={"parts": parts})
    return {"bundle_code": code, "parts": parts}


# ---- count / receipt files (盘点, 入库) -----------------------------------------------------------

HEADERS = {"sku_code": ("商家编码", "sku_code", "编码", "sku"),
           "quantity": ("数量", "quantity", "qty", "盘点数量", "入库数量"),
           "warehouse": ("仓库", "warehouse"), "name": ("名称", "商品名称", "name"),
           "new": ("新编码", "new")}
YES, NO = {"是", "y", "yes", "1", "true", "新"}, {"", "否", "n", "no", "0", "false"}


MAX_QUANTITY = 10**7  # units of one SKU in one line: the API's bound too
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,12}")
_ZEROS = re.compile(r"([+-]?[0-9]{1,12})\.0+")  # 7.0 as a spreadsheet writes 7: no loss
_SCIENTIFIC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:[,，][0-9]{3})+")


def read_quantity(text: str) -> int:
    """A whole number of units within ±MAX_QUANTITY, as typed; anything else raises
    ``ValueError`` saying in Chinese what is wrong and how to write it. Nothing is
    converted behind the merchant's back: 1e3, １０, 1,000 and 1.5 are refused."""
    t = text.strip()
    shown = f"“{t[:24]}”"
    if not t:
        raise ValueError("数量为空")
    if _GROUPED.fullmatch(t):
        raise ValueError(f"数量{shown}含千位分隔符：请去掉逗号，写成 {re.sub('[,，]', '', t)}")
    if any(ch.isdigit() and ch not in "0123456789" for ch in t) or any(
            "\uff01" <= ch <= "\uff5e" for ch in t):
        plain = "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in t)
        raise ValueError(f"数量{shown}含全角字符：请用半角数字" + (
            f"，写成 {plain}" if _ASCII_INT.fullmatch(plain) else ""))
    if _SCIENTIFIC.fullmatch(t):
        d = Decimal(t)
        as_int = (f"，如 {int(d)}" if d == d.to_integral_value() and abs(d) <= MAX_QUANTITY
                  else "")
        raise ValueError(f"数量{shown}是科学计数法（Excel 常把数字显示成这样）：请写成整数"
                         f"{as_int}")
    if m := _ZEROS.fullmatch(t):
        t = m.group(1)
    elif _DECIMAL.fullmatch(t):
        raise ValueError(f"数量{shown}有小数：库存按件计，只能是整数")
    if not _ASCII_INT.fullmatch(t):
        if len(t.lstrip("+-")) > 12 and t.lstrip("+-").isdigit():
            raise ValueError(f"数量{shown}超出范围：一行最多 ±{MAX_QUANTITY} 件")
        raise ValueError(f"数量{shown}不是整数")
    q = int(t)
    if not -MAX_QUANTITY <= q <= MAX_QUANTITY:
        raise ValueError(f"数量{shown}超出范围：一行最多 ±{MAX_QUANTITY} 件")
    return q


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))  # a spreadsheet's number 7 (stored as 7.0)
    return "" if v is None else str(v).strip()


def read_stock_file(name: str, data: bytes, limits: UploadLimits | None = None, *,
                    files: TableReader) -> tuple[list[StockLine], list[tuple[int, str]]]:
    """The good rows of an .xlsx or .csv with a header row, and every bad row's problem by
    its row number in the file. A file that cannot be read at all raises."""
    try:
        table = files.read_table(name, data, limits or UploadLimits())
    except UploadRefused as exc:
        raise StockInputError([str(exc)]) from exc
    return stock_lines(table)


def stock_lines(table: Table) -> tuple[list[StockLine], list[tuple[int, str]]]:
    """``read_stock_file`` of a file already read."""
    header, rows = table.header, table.rows
    head = [str(h if h is not None else "").strip().lower() for h in header]
    col: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, h in enumerate(head):
            if h in {n.lower() for n in names}:
                col[key] = i
                break
    missing = [HEADERS[k][0] for k in ("sku_code", "quantity") if k not in col]
    if missing:
        raise StockInputError([f"缺少“{m}”列（表头：{'、'.join(h for h in head if h) or '空'}）"
                               for m in missing])
    out: list[StockLine] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for n, row in rows:
        def cell(k: str) -> str:
            i = col.get(k)
            return "" if i is None or i >= len(row) else _cell_text(row[i])
        code, qty_s = cell("sku_code"), cell("quantity")
        wh = cell("warehouse") or WAREHOUSE
        at = f"第{n}行 {code}" if code else f"第{n}行"
        if not code:
            problems.append((n, f"{at}：商家编码为空"))
        try:
            qty = read_quantity(qty_s)
        except ValueError as exc:
            problems.append((n, f"{at}：{exc}"))
            qty = None
        extra = [_cell_text(v) for v in row[len(head):] if _cell_text(v)]
        if extra:  # an unquoted 1,000 in a CSV is two cells: "1" must not pass for it
            problems.append((n, f"{at}：比表头多出 {len(extra)} 格（“{extra[0][:20]}”）：数字里的"
                                f"逗号会把一格拆成两格，请去掉千位分隔符"))
            qty = None
        new = cell("new").lower()
        if new not in YES | NO:
            problems.append((n, f"{at}：“新编码”列只能填“是”或留空，收到“{new[:20]}”"))
        if code and (code, wh) in seen:
            problems.append((n, f"{at}：与第{seen[(code, wh)]}行重复"))
            continue
        if code:
            seen[(code, wh)] = n
        if code and qty is not None and new in YES | NO:
            out.append(StockLine(code, qty, wh, cell("name"), row=n, new=new in YES))
    return out, problems


def parse_stock_file(name: str, data: bytes, limits: UploadLimits | None = None, *,
                     files: TableReader) -> list[StockLine]:
    """``read_stock_file`` that raises on any bad row (reading alone, no stock checks)."""
    lines, problems = read_stock_file(name, data, limits, files=files)
    if problems:
        raise StockInputError([p for _, p in problems])
    return lines


def import_stock_file(uow: UowFactory, name: str, data: bytes, move: str, *, actor: str,
                      files: TableReader, limits: UploadLimits | None = None,
                      reason: str = "") -> Moved:
    """A count (盘点) or receipt (入库) file, all rows or none: what is wrong with the
    file's values and what is wrong with its stock (unknown codes, counts below what orders
    hold) come back together, each by the file's own row number."""
    if move not in ("count", "receive"):
        raise StockInputError(["文件只能用于盘点（count）或入库（receive）"])
    lines, problems = read_stock_file(name, data, limits, files=files)
    with uow() as u:
        return move_stock_in(u, move, lines, actor=actor, reason=reason, ref_type="import",
                             ref_id=name, problems=problems)


__all__ = ["MAX_QUANTITY", "MOVES_BY_HAND", "Moved", "Reserved", "StockInputError", "StockLine",
           "WAREHOUSE", "import_stock_file", "move_stock", "move_stock_in", "parse_stock_file",
           "parse_parts", "parts_text", "read_quantity", "read_stock_file", "release_in", "reserve_in", "stock_lines",
           "retry_short", "retry_short_in", "set_bundle", "set_item", "settle_in", "ship_in",
           "Followed", "follow_lines_in"]
