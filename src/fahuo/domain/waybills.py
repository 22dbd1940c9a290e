"""A waybill number's lifecycle: taken (live), then used by a shipment, given back to the
platform (recycled), or left unused (a merchant's own number whose import failed)."""

from __future__ import annotations

from enum import StrEnum

from fahuo.domain.lifecycle import Lifecycle


class WaybillState(StrEnum):
    LIVE = "live"
    USED = "used"
    RECYCLED = "recycled"
    UNUSED = "unused"


W = WaybillState
WAYBILL: Lifecycle[WaybillState] = Lifecycle("waybill", {
    # A number is used, given back or dropped once: none of those comes back to life (a
    # number given back is void at the courier; one used is the parcel's for good).
    W.LIVE: frozenset({W.USED, W.RECYCLED, W.UNUSED}),
    W.USED: frozenset(),
    W.RECYCLED: frozenset(),
    W.UNUSED: frozenset(),
}, frozenset({W.LIVE}))

__all__ = ["WAYBILL", "WaybillState"]
