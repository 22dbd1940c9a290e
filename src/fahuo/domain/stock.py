"""Stock: a ledger per merchant SKU code and warehouse, and what the shop is told.

Pure: no SQL, no clock. Every change is a journal ``Entry`` (deltas of on hand, reserved and
damaged, with a reason and a reference); a ``Level`` is the sum of its entries, so balances
can always be rebuilt from the journal. The invariants a merchant relies on::

    on_hand >= 0, damaged >= 0, 0 <= reserved <= on_hand   (never oversold)

``plan_reservations`` decides, for orders in deadline order, which can be reserved from the
available stock (all lines of an order or none); bundles (组套) expand to their components
first. ``pushed_quantity`` is what the shop is told it can sell.
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
            raise StockError(f"stock cannot go negative (on hand {self.on_hand}, reserved "
                             f"{self.reserved}, damaged {self.damaged})")
        if self.reserved > self.on_hand:
            raise StockError(f"cannot reserve {self.reserved} with {self.on_hand} on hand")


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
        raise StockError(f"quantity must be a whole number, got {qty!r}")
    if move is Move.COUNT:
        if qty < 0:
            raise StockError(f"a counted quantity cannot be negative, got {qty}")
        return Entry(move, on_hand=qty - (level or Level()).on_hand)
    if move is Move.ADJUST:
        return Entry(move, on_hand=qty)
    if qty <= 0:
        raise StockError(f"{move} needs a positive quantity, got {qty}")
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
        unknown = sorted(set(d) - {"percent", "add", "minimum", "maximum"})
        if unknown:
            problems.append(f"unknown fields {', '.join(unknown)}")
        defaults = {"percent": 100, "add": 0, "minimum": 0}
        for k, dv in defaults.items():
            v = d.get(k, dv)
            if isinstance(v, bool) or not isinstance(v, int):
                problems.append(f"{k} must be a whole number, got {v!r}")
        if isinstance(d.get("percent", 100), int) and not 0 <= d.get("percent", 100) <= 100:
            problems.append("percent must be between 0 and 100")
        if isinstance(d.get("minimum", 0), int) and d.get("minimum", 0) < 0:
            problems.append("minimum cannot be negative")
        mx = d.get("maximum")
        if mx is not None and (isinstance(mx, bool) or not isinstance(mx, int) or mx < 0):
            problems.append(f"maximum must be a whole number ≥ 0 or empty, got {mx!r}")
        if not problems and mx is not None and mx < d.get("minimum", 0):
            problems.append("maximum cannot be below minimum")
        if problems:
            raise StockError("; ".join(problems))
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return {"percent": self.percent, "add": self.add, "minimum": self.minimum,
                "maximum": self.maximum}


def pushed_quantity(level: Level, rule: SyncRule = SyncRule()) -> int:
    """Available − safety stock, scaled, topped up, clamped; never below 0."""
    base = max(0, level.available - level.safety)
    qty = base * rule.percent // 100 + rule.add
    qty = max(qty, rule.minimum)
    if rule.maximum is not None:
        qty = min(qty, rule.maximum)
    return max(0, qty)


__all__ = ["Demand", "Entry", "Level", "Move", "Plan", "StockError", "SyncRule", "apply",
           "entry_for", "expand", "plan_reservations", "pushed_quantity", "rebuild"]
