"""Trackers as stored and merged: events to and from JSON, the merge of new events into a
tracker row (with its next poll), and orders following their parcels."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TYPE_CHECKING

import orjson

from fahuo.domain.orders import ORDER, OrderState
from fahuo.domain.tracking import (
    Incident, Tracker, TrackingEvent, TrackingState, apply_events, order_state_from_parcels,
)
from fahuo.domain.watch import WatchRules, next_poll_at

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

# What the parcels' tracking moves an order to, and from where: a wholly shipped order goes
# in transit, then delivered (also an intercepted one the buyer signed for after all). A
# partly shipped order keeps its lines to send, so it stays partly shipped.
_FOLLOWS = {OrderState.IN_TRANSIT: frozenset({OrderState.SHIPPED}),
            OrderState.DELIVERED: frozenset({OrderState.SHIPPED, OrderState.IN_TRANSIT,
                                             OrderState.INTERCEPTED})}


class TrackingError(ValueError):
    """Bad tracking input; names what is wrong. Nothing was saved."""


@dataclass
class TrackReport:
    started: int = 0
    subscribed: int = 0
    subscribe_failed: int = 0
    pushes: int = 0
    events: int = 0
    polled: int = 0
    poll_failed: int = 0
    retired: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def orders_follow_parcels(u: UnitOfWork, tracker_ids: list[int]) -> int:
    """Move the orders these trackers' parcels carry to where their parcels are (in the
    caller's unit of work, after the trackers were saved). The number of orders moved."""
    parcels = u.tracking.parcels_of_orders(tracker_ids)
    if not parcels:
        return 0
    ids = sorted(parcels)
    u.pipeline.lock_orders(ids)
    current = u.pipeline.order_states(ids)
    moves: dict[str, tuple[str, str]] = {}
    for oid, states in parcels.items():
        target = order_state_from_parcels(states)
        if target is not None and oid in current:
            moves |= ORDER.moves_to({oid: current[oid]}, target, _FOLLOWS[target])
    return len(u.pipeline.move_orders(moves))


def event_to_json(e: TrackingEvent) -> dict[str, Any]:
    return {"at": e.at, "state": e.state.value, "description": e.description,
            "location": e.location, "raw_state": e.raw_state, "raw_sub_state": e.raw_sub_state,
            "incident": e.incident.value if e.incident else None}


def event_from_json(d: dict[str, Any]) -> TrackingEvent:
    return TrackingEvent(at=int(d["at"]), state=TrackingState(d["state"]),
                         description=d.get("description") or "",
                         location=d.get("location") or "", raw_state=d.get("raw_state") or "",
                         raw_sub_state=d.get("raw_sub_state") or "",
                         incident=Incident(d["incident"]) if d.get("incident") else None)


def tracker_from_row(row: dict[str, Any], *, with_events: bool = True) -> Tracker:
    events = tuple(event_from_json(e) for e in orjson.loads(row["events"])) if with_events else ()
    return Tracker(track_no=row["track_no"], courier=row["courier_code"],
                   state=TrackingState(row["state"]), last_event_at=row["last_event_at"],
                   picked_up_at=row["picked_up_at"], events=events,
                   incident=Incident(row["incident"]) if row["incident"] else None,
                   state_since=row["state_since"], created_at=row["shipped_at"])


def merged(row: dict[str, Any], events: list[TrackingEvent], *, rules: WatchRules, now: int,
           news_resets: bool, stopped: bool = False, polled: bool = False) -> dict[str, Any]:
    """The tracker row's new progress with ``events`` merged in, and when to ask next."""
    before = tracker_from_row(row)
    after = apply_events(before, events)
    news = len(after.events) > len(before.events)
    attempts = 0 if (news and news_resets) else row["poll_attempts"] + (1 if polled else 0)
    nxt = next_poll_at(after, bool(row["subscribed"]) and not stopped, attempts, rules, now)
    if row["next_poll_at"] is None:
        nxt = None  # retired stays retired
    last = after.events[-1] if after.events else None
    return {"id": row["id"], "state": after.state.value,
            "incident": after.incident.value if after.incident else None,
            "state_since": after.state_since, "last_event_at": after.last_event_at,
            "picked_up_at": after.picked_up_at,
            "last_event": orjson.dumps(event_to_json(last)).decode() if last else None,
            "events": orjson.dumps([event_to_json(e) for e in after.events]).decode(),
            "poll_attempts": attempts, "next_poll_at": nxt}


def phone_tail(mask: str | None) -> str:
    digits = "".join(c for c in (mask or "").rsplit("-", 1)[-1] if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


__all__ = ["TrackReport", "TrackingError", "event_from_json", "event_to_json", "merged",
           "orders_follow_parcels", "phone_tail", "tracker_from_row"]
