"""A provider's state codes mapped to fahuo's one tracking model (``domain/tracking``).

Each provider keeps its own table in its folder (``<provider>/status.py``); this module holds
what the tables share: how a code is read and the lookup with its fallback for codes never
seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fahuo.domain.tracking import Incident, Mapped, TrackingEvent, TrackingState

from .base import TrackingResult

# Kuaidi100 and Kdniao tables are CONFIRMED, so a code never seen is news someone should
# look at: EXCEPTION/OTHER.
UNKNOWN_CONFIRMED: Mapped = (TrackingState.EXCEPTION, Incident.OTHER)


def code(value: str | int | None) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class StatusMap:
    """``state`` plus an optional sub-code; the sub-code wins when the table knows it."""

    table: Mapping[str, Mapped]
    unknown: Mapped

    def __call__(self, state: str | int | None, sub_state: str | int | None = None) -> Mapped:
        sub = code(sub_state)
        if sub in self.table:
            return self.table[sub]
        return self.table.get(code(state), self.unknown)


def trace_events(status: StatusMap, result: TrackingResult) -> list[TrackingEvent]:
    """A provider's raw trace lines in the one normalised model (raw codes kept).

    A line without its own code takes the result's overall state only if it is the newest
    line; older uncoded lines are "in transit" (a later line exists, so the parcel moved),
    never the overall state, or one 签收 would make the whole history "delivered"."""
    out = []
    timed = [ev for ev in result.events if ev.at is not None]  # untimed lines cannot be ordered
    for i, ev in enumerate(timed):
        newest = i == len(timed) - 1
        if ev.raw_state or ev.raw_sub_state:
            state, incident = status(ev.raw_state or (result.raw_state if newest else None),
                                     ev.raw_sub_state)
        elif newest:
            state, incident = status(result.raw_state, result.raw_sub_state)
        else:
            state, incident = TrackingState.IN_TRANSIT, None
        out.append(TrackingEvent(at=ev.at or 0, state=state, description=ev.description or "",
                                 location=ev.location or "", raw_state=ev.raw_state or "",
                                 raw_sub_state=ev.raw_sub_state or "", incident=incident))
    return out


__all__ = ["UNKNOWN_CONFIRMED", "StatusMap", "code", "trace_events"]
