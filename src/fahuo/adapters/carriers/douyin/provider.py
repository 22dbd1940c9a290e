"""The shop's own platform as the tracking fallback: ``logistics.trackNoRouteDetail``.

No account and no pushes: a parcel no provider account tracks is polled through the shop's
Douyin API (the ``client`` handed to ``query`` is the shop's platform)."""

from __future__ import annotations

from typing import Any

from fahuo.domain.tracking import TrackingEvent
from fahuo.services.ports import Capability

from ..provider import Provider
from .route import route_events
from .status import STATUS


class DouyinRoute(Provider):
    name = "douyin"
    title = "Douyin"
    label = "抖音"
    capabilities = frozenset({Capability.POLL})
    status_map = STATUS

    def query(self, client: Any, tracker: dict[str, Any]) -> list[TrackingEvent]:
        return route_events(client.track_route(tracker["courier_code"], tracker["track_no"]))


__all__ = ["DouyinRoute"]
