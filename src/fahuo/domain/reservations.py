"""Reservations follow the lines: how many units an order's reservation keeps, and why the
rest goes back. Pure: no SQL, no clock.

A reservation keeps, per stock item, the units the order still sends (its lines' units to
ship, bundles expanded) — or, when more, the units sitting in a printed parcel that will not
ship and has not been unpacked yet (the goods are in the box, not on the shelf). Everything
above that is released at once, with the reason in the journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from fahuo.domain.lifecycle import Lifecycle

class ReservationState(StrEnum):
    """One order's hold on one stock item."""

    RESERVED = "reserved"  # units held for the order (it may shrink while it stays so)
    RELEASED = "released"  # given back (refund, cancel, unpack, by hand)
    SHIPPED = "shipped"    # the parcel left: the units left on hand with it


RS = ReservationState
RESERVATION: Lifecycle[ReservationState] = Lifecycle("reservation", {
    RS.RESERVED: frozenset({RS.RELEASED, RS.SHIPPED}),
    # an order given back its stock (by hand, say) and planned again reserves afresh
    RS.RELEASED: frozenset({RS.RESERVED}),
    RS.SHIPPED: frozenset(),  # the goods are gone: a return comes back as a stock move
}, frozenset({RS.RESERVED}))


# Why units went back, as the stock journal says it (the merchant reads these).
REFUND = "退款释放"
CANCEL = "取消释放"
UNPACK = "拆包放回"
MANUAL = "手工释放"


def kept(reserved: int, needed: int, boxed: int) -> int:
    """Units of one item a reservation keeps: what the order still needs, or what is still
    in an unopened printed parcel, whichever is more; never more than it holds."""
    return max(0, min(reserved, max(needed, boxed)))


def release_reason(order_closed: str | None, unpacked: bool) -> str:
    """The journal's reason for units going back: the box opened, the order called off, or
    lines refunded before they left."""
    if unpacked:
        return UNPACK
    return CANCEL if order_closed == "cancelled" else REFUND


@dataclass(frozen=True, slots=True)
class Parcel:
    """A pack as far as its goods go: printed (a label came out, so the goods were packed),
    confirmed (it left), unpacked (a person put its goods back on the shelf)."""

    id: int
    printed: bool
    confirmed: bool
    unpacked: bool
    lines: tuple[tuple[str, str, int], ...]  # (order_id, sku_order_id, units)


def boxed(parcels: Iterable[Parcel]) -> dict[tuple[str, str], int]:
    """(order, line) → units sitting in a printed parcel that neither left nor was unpacked.
    Per line, the last printed parcel holding it decides: its goods were packed again into
    it, so an earlier box of the same line is empty by then."""
    last: dict[tuple[str, str], tuple[int, Parcel, int]] = {}
    for p in parcels:
        if not (p.printed or p.confirmed):
            continue
        for order_id, sku_order_id, units in p.lines:
            key = (order_id, sku_order_id)
            if key not in last or p.id > last[key][0]:
                last[key] = (p.id, p, units)
    return {key: units for key, (_, p, units) in last.items()
            if not p.confirmed and not p.unpacked and units > 0}


__all__ = ["CANCEL", "MANUAL", "RESERVATION", "REFUND", "UNPACK", "Parcel",
           "ReservationState", "boxed", "kept", "release_reason"]
