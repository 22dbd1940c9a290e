"""Douyin ``logistics.trackNoRouteDetail`` route nodes as fahuo tracking events."""

from __future__ import annotations

from typing import Any

from fahuo.domain.tracking import TrackingEvent

from .status import STATUS, UNKNOWN_DOUYIN


def route_events(nodes: list[dict[str, Any]]) -> list[TrackingEvent]:
    """Each node by its ``state``; a state the table does not know is tried by its
    ``state_description`` (couriers' phase names) before it counts as unknown."""
    out = []
    for n in nodes:
        mapped = STATUS(n["state"])
        if mapped is UNKNOWN_DOUYIN and n.get("state_description"):
            mapped = STATUS(n["state_description"])
        out.append(TrackingEvent(at=n["at"], state=mapped[0], description=n["description"],
                                 location=n["location"], raw_state=n["state"],
                                 raw_sub_state=n.get("state_description", ""),
                                 incident=mapped[1]))
    return out


__all__ = ["route_events"]
