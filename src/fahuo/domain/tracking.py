"""One normalised tracking model; every provider maps its own codes to it.

Pure: no SQL, no HTTP, no clock. Providers speak their own codes (Kuaidi100 ``state`` /
``statusCode``, Kdniao ``State`` / ``StateEx``, Douyin ``trackNoRouteDetail`` node ``state``);
each provider's table lives in its own adapter folder (``adapters/carriers/<provider>/
status.py``), so fahuo keeps one ``TrackingState`` plus an optional ``Incident`` (why it is
in trouble). The raw codes stay on every event so nothing is lost when a mapping turns out
wrong.

Merging (``apply_events``) is a function of the *set* of events seen: order of arrival and
duplicates do not matter, an older event never overrides a newer one, and a terminal state
(delivered, returned, lost) is not left by late, duplicate or newer routine scans.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from fahuo.domain.orders import OrderState


class TrackingState(StrEnum):
    INFO_RECEIVED = "info_received"        # label exists / waiting for pickup; no scan yet
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"  # includes "in a locker / at a station"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    EXCEPTION = "exception"                # 疑难 / 问题件
    REJECTED = "rejected"                  # receiver refused
    RETURNING = "returning"
    RETURNED = "returned"                  # back with the sender
    LOST = "lost"


class Incident(StrEnum):
    ADDRESS_PROBLEM = "address_problem"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"  # cannot be reached, wrong phone
    REFUSED = "refused"
    DAMAGED = "damaged"
    LOST = "lost"
    CUSTOMS = "customs"
    WEATHER = "weather"                    # no provider code; for manual events
    NOT_SIGNED_IN_TIME = "not_signed_in_time"
    NO_UPDATES = "no_updates"
    NO_TRACE = "no_trace"                  # shipped but the courier knows nothing
    UNCOLLECTED = "uncollected"            # left too long in a locker / station
    OUT_OF_AREA = "out_of_area"
    HELD_UP = "held_up"                    # 滞留
    DELAYED = "delayed"
    MISSORTED = "missorted"
    INTERCEPTED = "intercepted"
    CANCELLED = "cancelled"                # 销单 / 客户取消发货
    OTHER = "other"


T = TrackingState
I = Incident  # noqa: E741

# Chinese names (domain/names.py refers to these; watch texts need them too)
STATE_NAMES: dict[str, str] = {
    T.INFO_RECEIVED: "待揽收", T.PICKED_UP: "已揽收", T.IN_TRANSIT: "运输中",
    T.OUT_FOR_DELIVERY: "派送中", T.DELIVERED: "已签收", T.FAILED_ATTEMPT: "派送失败",
    T.EXCEPTION: "疑难件", T.REJECTED: "拒收", T.RETURNING: "退回中", T.RETURNED: "已退回",
    T.LOST: "丢失",
}
INCIDENT_NAMES: dict[str, str] = {
    I.ADDRESS_PROBLEM: "地址有误", I.RECIPIENT_UNAVAILABLE: "联系不上收件人", I.REFUSED: "拒收",
    I.DAMAGED: "破损", I.LOST: "丢失", I.CUSTOMS: "海关查验", I.WEATHER: "天气原因",
    I.NOT_SIGNED_IN_TIME: "超时未签收", I.NO_UPDATES: "长时间无更新", I.NO_TRACE: "发货无信息",
    I.UNCOLLECTED: "超时未取件", I.OUT_OF_AREA: "超区", I.HELD_UP: "滞留", I.DELAYED: "延误",
    I.MISSORTED: "错分", I.INTERCEPTED: "已拦截", I.CANCELLED: "已销单", I.OTHER: "其他问题",
}

TERMINAL = frozenset({T.DELIVERED, T.RETURNED, T.LOST})
# States that prove the courier has the parcel. EXCEPTION does not (it may be 发货无信息).
POSSESSION = frozenset({T.PICKED_UP, T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.DELIVERED,
                        T.FAILED_ATTEMPT, T.REJECTED, T.RETURNING, T.RETURNED})

# What a provider's status map gives for one of its codes (adapters/carriers/<provider>/).
Mapped = tuple[TrackingState, Incident | None]


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One trace line. ``at`` is Unix seconds. Identical events are one event."""

    at: int
    state: TrackingState
    description: str = ""
    location: str = ""
    raw_state: str = ""
    raw_sub_state: str = ""
    incident: Incident | None = None

    def sort_key(self) -> tuple:
        # A total order: time first, then a fixed tie-break so merging never depends on
        # arrival order. At one second, terminal and later-in-life states sort last.
        return (self.at, _ORDER[self.state], self.raw_state, self.raw_sub_state,
                self.description, self.location, self.incident or "")


_ORDER = {s: i for i, s in enumerate(TrackingState)}


@dataclass(frozen=True, slots=True)
class Tracker:
    """A parcel as fahuo knows it. ``created_at``: when tracking began (shipment confirmed)."""

    track_no: str
    courier: str
    state: TrackingState = T.INFO_RECEIVED
    last_event_at: int | None = None
    picked_up_at: int | None = None
    events: tuple[TrackingEvent, ...] = ()
    incident: Incident | None = None
    state_since: int | None = None   # first event of the trailing run in ``state``
    created_at: int = 0

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def last_event(self) -> TrackingEvent | None:
        return self.events[-1] if self.events else None


def _step(current: TrackingState | None, ev: TrackingEvent) -> TrackingState | None:
    """The state after ``ev`` (events come in time order); None = ignore the event."""
    new = ev.state
    if current is None:
        return new
    if current in (T.DELIVERED, T.RETURNED):
        return None  # final: later routine scans and glitches do not reopen a finished parcel
    if current is T.LOST:
        # A parcel declared lost that turns up is real news; nothing else moves it.
        return new if new in (T.DELIVERED, T.RETURNED) else None
    if current is T.RETURNING and new is T.DELIVERED:
        return T.RETURNED  # "signed" on the way back = the sender took it back
    return new


def apply_events(tracker: Tracker, events: list[TrackingEvent] | tuple[TrackingEvent, ...]
                 ) -> Tracker:
    """Merge new events in. The result depends only on the set of all events seen."""
    merged = sorted(set(tracker.events).union(events), key=TrackingEvent.sort_key)
    state: TrackingState | None = None
    incident: Incident | None = None
    since: int | None = None
    picked: int | None = None
    for ev in merged:
        if picked is None and ev.state in POSSESSION:
            picked = ev.at
        nxt = _step(state, ev)
        if nxt is None:
            continue
        if nxt is not state:
            since = ev.at
        state, incident = nxt, ev.incident
    return replace(
        tracker, events=tuple(merged),
        state=state if state is not None else T.INFO_RECEIVED,
        incident=incident, state_since=since, picked_up_at=picked,
        last_event_at=merged[-1].at if merged else None,
    )


def order_state_from_parcels(states: Iterable[TrackingState | str | None]
                             ) -> OrderState | None:
    """Where a shipped order is, by its parcels' tracking: delivered when every parcel is,
    in transit once the courier holds one; None while no scan says either."""
    got = [None if s is None else TrackingState(s) for s in states]
    if got and all(s is T.DELIVERED for s in got):
        return OrderState.DELIVERED
    if any(s in POSSESSION for s in got if s is not None):
        return OrderState.IN_TRANSIT
    return None
