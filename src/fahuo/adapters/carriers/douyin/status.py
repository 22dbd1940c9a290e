"""Douyin ``logistics.trackNoRouteDetail`` node states in fahuo's tracking model."""

from __future__ import annotations

from fahuo.domain.tracking import Incident as I, Mapped, TrackingState as T

from ..status import StatusMap

# --- Douyin logistics.trackNoRouteDetail (doudian-open-platform.md §9.8) --------------------
# EVERY ENTRY IS UNCONFIRMED: the node ``state`` values live at OP question-docs/94/1642,
# which has not been read. Keyed by the Chinese phase names couriers and aggregators use
# (the node's ``state`` or ``state_description``); replace with the real codes once known.
DOUYIN: dict[str, Mapped] = {
    "已下单": (T.INFO_RECEIVED, None),
    "待揽收": (T.INFO_RECEIVED, None),
    "揽收": (T.PICKED_UP, None),
    "已揽收": (T.PICKED_UP, None),
    "运输": (T.IN_TRANSIT, None),
    "在途": (T.IN_TRANSIT, None),
    "运输中": (T.IN_TRANSIT, None),
    "派件": (T.OUT_FOR_DELIVERY, None),
    "派送中": (T.OUT_FOR_DELIVERY, None),
    "待取件": (T.OUT_FOR_DELIVERY, None),
    "签收": (T.DELIVERED, None),
    "已签收": (T.DELIVERED, None),
    "拒签": (T.REJECTED, I.REFUSED),
    "拒收": (T.REJECTED, I.REFUSED),
    "退回": (T.RETURNING, None),
    "退回中": (T.RETURNING, None),
    "退签": (T.RETURNED, None),
    "疑难": (T.EXCEPTION, I.OTHER),
    "异常": (T.EXCEPTION, I.OTHER),
    "丢失": (T.LOST, I.LOST),
}

# Douyin's table is a guess, so an unknown Douyin code must not flood merchants with alarms:
# IN_TRANSIT (the stall check still catches a parcel that really stopped moving).
UNKNOWN_DOUYIN: Mapped = (T.IN_TRANSIT, None)
STATUS = StatusMap(DOUYIN, UNKNOWN_DOUYIN)


def from_douyin(state: str | int | None) -> Mapped:
    """Douyin route node ``state`` (or ``state_description``). UNCONFIRMED table."""
    return STATUS(state)


__all__ = ["DOUYIN", "STATUS", "UNKNOWN_DOUYIN", "from_douyin"]
