"""After shipping: every parcel tracked, every push stored, polling only as a fallback.

``service`` (the ``Tracking`` service: trackers started, subscribed, polled), ``pushes``
(checked, stored, merged), ``accounts`` (provider accounts and their interception setup),
``model`` (trackers as stored and merged). Which provider does what comes from the carrier
registry (``ports.Carriers``), handed in by ``bootstrap.py``.
"""

from .accounts import (
    add_account, push_url, remove_intercept_partner, set_intercept, set_intercept_partner,
)
from .model import (
    TrackingError, TrackReport, event_from_json, event_to_json, orders_follow_parcels,
    tracker_from_row,
)
from .service import Tracking

__all__ = ["Tracking", "TrackReport", "TrackingError", "add_account", "event_from_json",
           "event_to_json", "orders_follow_parcels", "push_url",
           "remove_intercept_partner", "set_intercept", "set_intercept_partner",
           "tracker_from_row"]
