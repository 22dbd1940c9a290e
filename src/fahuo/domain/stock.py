"""Stock: a ledger per merchant SKU code and warehouse, and what the shop is told.

Pure: no SQL, no clock. Every change is a journal ``Entry`` (deltas of on hand, reserved and
damaged, with a reason and a reference); a ``Level`` is the sum of its entries, so balances
can always be rebuilt from the journal. The invariants a merchant relies on::

    on_hand >= 0, damaged >= 0, 0 <= reserved <= on_hand   (never oversold)

``plan_reservations`` decides, for orders in deadline order, which can be reserved from the
available stock (all lines of an order or none); bundles (组套) expand to their components
first. ``advertised`` is the one rule for what the shop is told it can sell, of a plain SKU
(``pushed_quantity``) and of a bundle (``bundle_sellable``: what its parts can make).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Move(StrEnum):
    RECEIVE = "receive"        # inbound receipt: + on hand
    COUNT = "count"            # stock count (盘点): on hand set to the counted figure
    ADJUST = "adjust"          # manual correction: ± on hand
    RESERVE = "reserve"        # an order paid: + reserved
    RELEASE = "release"        # cancelled / refunded before shipping: − reserved
    SHIP = "ship"              # left the warehouse: − reserved, − on hand
    RETURN_GOOD = "return_good"        # a return inspected good: + on hand
    RETURN_DAMAGED = "return_damaged"  # a return inspected damaged: + damaged
    DAMAGE = "damage"          # found damaged on the shelf: on hand → damaged


MOVE_NAMES = {Move.RECEIVE: "入库", Move.COUNT: "盘点", Move.ADJUST: "调整", Move.RESERVE: "占用",
              Move.RELEASE: "释放", Move.SHIP: "出库", Move.RETURN_GOOD: "退货良品",
              Move.RETURN_DAMAGED: "退货残次", Move.DAMAGE: "转残次"}


class StockError(ValueError):
    """A move that would break the ledger (negative stock, reserving more than there is)."""


@dataclass(frozen=True, slots=True)
class Level:
    on_hand: int = 0
    reserved: int = 0
    damaged: int = 0
    safety: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def check(self) -> None:
        if self.on_hand < 0 or self.damaged < 0 or self.reserved < 0:
            raise StockError(f"库存不能为负（实物 {self.on_hand}，占用 {self.reserved}，"
                             f"残次 {self.damaged}）")
        if self.reserved > self.on_hand:
            raise StockError(f"实物 {self.on_hand} 件少于订单占用的 {self.reserved} 件")


@dataclass(frozen=True, slots=True)
class Entry:
    move: Move
    on_hand: int = 0      # deltas
    reserved: int = 0
    damaged: int = 0


def entry_for(move: Move, qty: int, level: Level | None = None) -> Entry:
    """The journal deltas of one move of ``qty`` units (COUNT: ``qty`` is the counted figure,
    so it needs the current ``level``)."""
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise StockError(f"数量必须是整数，收到 {qty!r}")
    if move is Move.COUNT:
        if qty < 0:
            raise StockError(f"盘点数不能为负，收到 {qty}")
        return Entry(move, on_hand=qty - (level or Level()).on_hand)
    if move is Move.ADJUST:
        return Entry(move, on_hand=qty)
    if qty <= 0:
        raise StockError(f"{MOVE_NAMES[move]}数量必须大于 0，收到 {qty}")
    return {
        Move.RECEIVE: Entry(move, on_hand=qty),
        Move.RESERVE: Entry(move, reserved=qty),
        Move.RELEASE: Entry(move, reserved=-qty),
        Move.SHIP: Entry(move, on_hand=-qty, reserved=-qty),
        Move.RETURN_GOOD: Entry(move, on_hand=qty),
        Move.RETURN_DAMAGED: Entry(move, damaged=qty),
        Move.DAMAGE: Entry(move, on_hand=-qty, damaged=qty),
    }[move]


def apply(level: Level, entry: Entry) -> Level:
    """The level after one entry; raises ``StockError`` and changes nothing if it would
    break an invariant."""
    new = replace(level, on_hand=level.on_hand + entry.on_hand,
                  reserved=level.reserved + entry.reserved,
                  damaged=level.damaged + entry.damaged)
    if entry.reserved > 0 and new.reserved > new.on_hand:
        raise StockError(f"可用只有 {level.available} 件，不能占用 {entry.reserved} 件")
    if new.on_hand < 0 or (0 <= new.on_hand < new.reserved):
        raise StockError(f"{MOVE_NAMES[entry.move]}后实物为 {new.on_hand} 件，"
                         + ("库存不能为负" if new.on_hand < 0 else
                            f"少于已付款订单占用的 {new.reserved} 件"))
    new.check()
    return new


def rebuild(entries: Iterable[Entry], safety: int = 0) -> Level:
    """A level from its journal alone."""
    on_hand = reserved = damaged = 0
    for e in entries:
        on_hand += e.on_hand
        reserved += e.reserved
        damaged += e.damaged
    return Level(on_hand, reserved, damaged, safety)


# ---- bundles and reservations ----------------------------------------------------------------

def expand(lines: Iterable[tuple[str, int]], bundles: Mapping[str, Mapping[str, int]]
           ) -> dict[str, int]:
    """Merchant codes → quantities, bundles (组套) replaced by their components."""
    need: dict[str, int] = {}
    for code, qty in lines:
        parts = bundles.get(code)
        if parts:
            for part, each in parts.items():
                need[part] = need.get(part, 0) + each * qty
        else:
            need[code] = need.get(code, 0) + qty
    return need


@dataclass(frozen=True, slots=True)
class Demand:
    """One order's need, in the order it should be served (deadline first)."""

    order_id: str
    need: Mapping[str, int]  # stock key → units (only keys the merchant manages)


@dataclass
class Plan:
    reserved: list[Demand] = field(default_factory=list)
    short: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # order →
    # key → (needed, available when its turn came)


def plan_reservations(demands: Iterable[Demand], available: Mapping[str, int]) -> Plan:
    """All lines of an order or none; earlier demands are served first. An order that cannot
    be served does not consume stock, so a later, smaller order may still be served."""
    left = dict(available)
    plan = Plan()
    for d in demands:
        missing = {k: (q, left.get(k, 0)) for k, q in d.need.items() if q > left.get(k, 0)}
        if missing:
            plan.short[d.order_id] = missing
            continue
        for k, q in d.need.items():
            left[k] -= q
        plan.reserved.append(d)
    return plan


# ---- what the shop is told ---------------------------------------------------------------

RULE_NAMES = {"percent": "同步比例", "add": "加量", "minimum": "最低", "maximum": "最高"}
BOUND = 10**7  # any figure of a rule: a database integer, not a 20-digit number


@dataclass(frozen=True, slots=True)
class SyncRule:
    """How much of the sellable stock a shop sees, as in mature ERPs: a percentage of what is
    available above the safety stock, plus an add-on, kept within a minimum and a maximum."""

    percent: int = 100
    add: int = 0
    minimum: int = 0
    maximum: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> SyncRule:
        d = dict(d or {})
        problems = []
        unknown = sorted(set(d) - set(RULE_NAMES))
        if unknown:
            problems.append(f"未知字段 {', '.join(unknown)}（可用：percent、add、minimum、"
                            "maximum）")
        defaults = {"percent": 100, "add": 0, "minimum": 0}
        for k, dv in defaults.items():
            v = d.get(k, dv)
            if isinstance(v, bool) or not isinstance(v, int) or not -BOUND <= v <= BOUND:
                problems.append(f"{RULE_NAMES[k]}（{k}）必须是整数，收到 {v!r}")
                d[k] = dv
        if not 0 <= d.get("percent", 100) <= 100:
            problems.append("同步比例（percent）必须在 0 到 100 之间")
        if d.get("minimum", 0) < 0:
            problems.append("最低（minimum）不能为负")
        mx = d.get("maximum")
        if mx is not None and (isinstance(mx, bool) or not isinstance(mx, int)
                               or not 0 <= mx <= BOUND):
            problems.append(f"最高（maximum）必须是 ≥ 0 的整数或留空（不设上限），收到 {mx!r}")
        elif not problems and mx is not None and mx < d.get("minimum", 0):
            problems.append(f"最高（maximum）{mx} 不能低于最低（minimum）{d.get('minimum', 0)}")
        if problems:
            raise StockError("；".join(problems))
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return {"percent": self.percent, "add": self.add, "minimum": self.minimum,
                "maximum": self.maximum}


def sellable(level: Level) -> int:
    """What can be sold without touching the safety stock; never below 0."""
    return max(0, level.available - level.safety)


def bundle_sellable(parts: Mapping[str, int], levels: Mapping[str, Level]) -> int | None:
    """Bundles (组套) the parts can make: the fewest over parts of sellable ÷ units per
    bundle. Parts fahuo keeps no stock for do not limit it (as they are never reserved);
    None when it keeps none of them (the bundle is not managed, like a plain SKU without
    stock)."""
    made = [sellable(levels[code]) // each for code, each in parts.items() if code in levels]
    return min(made) if made else None


def advertised(can_sell: int, rule: SyncRule = SyncRule(), oversell: bool = False) -> int:
    """What the shop is told, of ``can_sell`` units (or bundles): scaled, topped up, clamped.
    Never more than can be sold unless the merchant chose to oversell this SKU: then the
    add-on and the minimum may promise stock that is not there."""
    can_sell = max(0, can_sell)
    qty = max(can_sell * rule.percent // 100 + rule.add, rule.minimum)
    if not oversell:
        qty = min(qty, can_sell)
    if rule.maximum is not None:
        qty = min(qty, rule.maximum)
    return max(0, qty)


def pushed_quantity(level: Level, rule: SyncRule = SyncRule(), oversell: bool = False) -> int:
    """A plain SKU: available − safety stock, by the rule."""
    return advertised(sellable(level), rule, oversell)


__all__ = ["MOVE_NAMES", "RULE_NAMES", "Demand", "Entry", "Level", "Move", "Plan",
           "StockError", "SyncRule", "advertised", "apply", "bundle_sellable", "entry_for",
           "expand", "plan_reservations", "pushed_quantity", "rebuild", "sellable"]
