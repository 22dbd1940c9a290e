"""``uow.tracking``: the tracking aggregate's repository, one class over three modules
split by what they keep: ``trackers`` (trackers, provider accounts, the push inbox),
``parcel_reads`` (what other aggregates read of the parcels, and the deadline reads),
``findings`` (exception records, alert channels, alerts sent).
"""

from __future__ import annotations

from sqlalchemy import Connection

from fahuo.adapters.crypto import SecretBox

from .findings import FindingRepository
from .parcel_reads import UNSHIPPED_STATES, ParcelReadRepository
from .trackers import TrackerRepository


class TrackingRepository(TrackerRepository, ParcelReadRepository, FindingRepository):
    def __init__(self, conn: Connection, box: SecretBox) -> None:
        self.conn, self.box = conn, box


__all__ = ["UNSHIPPED_STATES", "FindingRepository", "ParcelReadRepository",
           "TrackerRepository", "TrackingRepository"]
