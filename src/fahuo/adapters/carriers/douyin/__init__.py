"""The Douyin platform's own parcel tracking (``trackNoRouteDetail``), fahuo's fallback."""

from .provider import DouyinRoute
from .route import route_events
from .status import DOUYIN, UNKNOWN_DOUYIN, from_douyin

__all__ = ["DOUYIN", "UNKNOWN_DOUYIN", "DouyinRoute", "from_douyin", "route_events"]
