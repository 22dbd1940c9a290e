"""Watching parcels and ship deadlines: findings, their life cycle, and when to poll.

Pure: no SQL, no HTTP, no clock (``now`` is passed in, Unix seconds). Detection is plain int
arithmetic so a sweep over a million trackers stays cheap.

A ``Finding`` is one problem worth a person's attention. Its ``key`` is stable for as long as
the same episode lasts (a parcel stalled since the same last scan, a deadline warning for the
same ``exp_ship_time``), so re-running detection finds the same keys. ``reconcile`` compares
what is open with what is detected now: new keys open, keys no longer detected close (pickup
happened, parcel moved, order shipped, deadline pushed later by push 126). Keeping closed
findings as history, and the assignee and notes, is the caller's job.

Returned and lost parcels stay detected while terminal: they close when a person dismisses
them (pass their keys as ``dismissed`` so they are not reopened).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from fahuo.domain.tracking import (
    INCIDENT_NAMES,
    STATE_NAMES,
    TERMINAL,
    Tracker,
    TrackingEvent,
    TrackingState,
)

HOUR = 3600
DAY = 24 * HOUR


class FindingKind(StrEnum):
    PICKUP_TIMEOUT = "pickup_timeout"    # shipped (logisticsAdd) but no carrier scan: fake-ship risk
    STALLED = "stalled"
    FAILED_DELIVERY = "failed_delivery"  # failed attempt or 疑难 / 问题件
    REFUSED = "refused"
    RETURNED = "returned"                # on the way back or back already
    LOST = "lost"
    DEADLINE_SOON_6H = "deadline_soon_6h"  # the first deadline warning (default 6 h)
    DEADLINE_SOON_2H = "deadline_soon_2h"  # the second deadline warning (default 2 h)
    OVERDUE = "overdue"


K = FindingKind
_S = TrackingState


class BadRules(ValueError):
    """Invalid shop watch rules; ``fields`` names every bad one."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("异常监控规则有误：" + "; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.fields = sorted(problems)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class WatchRules:
    """Per-shop thresholds, all in seconds. Platform thresholds are UNCONFIRMED: keep editable."""

    pickup_timeout_s: int = 24 * HOUR
    stalled_s: int = 48 * HOUR
    deadline_warnings_s: tuple[int, int] = (6 * HOUR, 2 * HOUR)
    tracker_max_age_s: int = 30 * DAY
    poll_base_s: int = 30 * 60           # first poll delay; doubles per fruitless attempt
    poll_max_s: int = 6 * HOUR           # back-off ceiling
    subscribed_poll_s: int = 24 * HOUR   # fallback poll for trackers a push subscription covers
    handover_pickup_s: int = 6 * HOUR    # handed to the courier (交接单), still no pickup scan

    _INT_FIELDS = ("pickup_timeout_s", "stalled_s", "tracker_max_age_s", "poll_base_s",
                   "poll_max_s", "subscribed_poll_s", "handover_pickup_s")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WatchRules:
        """Missing keys take defaults; unknown or bad keys raise ``BadRules`` naming them."""
        problems: dict[str, str] = {}
        known = set(cls._INT_FIELDS) | {"deadline_warnings_s"}
        for k in data:
            if k not in known:
                problems[str(k)] = "未知设置项"
        values: dict[str, Any] = {}
        for name in cls._INT_FIELDS:
            if name in data:
                v = data[name]
                if not _is_int(v) or v <= 0:
                    problems[name] = f"应为正整数秒数，收到 {v!r}"
                else:
                    values[name] = v
        if "deadline_warnings_s" in data:
            v = data["deadline_warnings_s"]
            if (not isinstance(v, (list, tuple)) or len(v) != 2
                    or not all(_is_int(x) and x > 0 for x in v) or v[0] <= v[1]):
                problems["deadline_warnings_s"] = (
                    f"应为两个正整数秒数，第一个较大（如 [21600, 7200]），收到 {v!r}")
            else:
                values["deadline_warnings_s"] = (v[0], v[1])
        default = cls()
        base = values.get("poll_base_s", default.poll_base_s)
        top = values.get("poll_max_s", default.poll_max_s)
        if "poll_max_s" not in problems and "poll_base_s" not in problems and top < base:
            problems["poll_max_s"] = f"不能小于 poll_base_s ({base})，收到 {top}"
        if problems:
            raise BadRules(problems)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {name: getattr(self, name) for name in self._INT_FIELDS}
        d["deadline_warnings_s"] = list(self.deadline_warnings_s)
        return d


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True, slots=True)
class Finding:
    """An exception record as detection sees it. Assignee and notes live with the caller."""

    kind: FindingKind
    key: str
    order_id: str
    track_no: str
    courier: str
    since: int
    last_event: TrackingEvent | None = None
    detail: str = ""


def detect_parcel(tracker: Tracker, shipped_at: int | None, rules: WatchRules, now: int,
                  order_id: str = "") -> list[Finding]:
    """What is wrong with one parcel now. Each kind at most once; most parcels: nothing."""
    state = tracker.state
    last = tracker.last_event_at
    if state is _S.IN_TRANSIT or state is _S.PICKED_UP or state is _S.OUT_FOR_DELIVERY:
        # The hot path: a moving parcel is only ever "stalled".
        if last is not None and now - last >= rules.stalled_s:
            return [_parcel(K.STALLED, tracker, order_id, last + rules.stalled_s,
                            f"已 {(now - last) // HOUR} 小时没有物流更新", episode=last)]
        return []
    if state is _S.DELIVERED:
        return []
    out: list[Finding] = []
    if tracker.picked_up_at is None and shipped_at is not None and state not in TERMINAL:
        due = shipped_at + rules.pickup_timeout_s
        if now >= due:
            out.append(_parcel(K.PICKUP_TIMEOUT, tracker, order_id, due,
                               f"发货 {(now - shipped_at) // HOUR} 小时后仍无揽收记录"))
    since = tracker.state_since if tracker.state_since is not None else now
    reason = f"（{INCIDENT_NAMES.get(tracker.incident, tracker.incident)}）" if tracker.incident else ""
    if state is _S.FAILED_ATTEMPT or state is _S.EXCEPTION:
        out.append(_parcel(K.FAILED_DELIVERY, tracker, order_id, since, f"{STATE_NAMES[state]}{reason}",
                           episode=since))
    elif state is _S.REJECTED:
        out.append(_parcel(K.REFUSED, tracker, order_id, since, f"拒收{reason}"))
    elif state is _S.RETURNING or state is _S.RETURNED:
        out.append(_parcel(K.RETURNED, tracker, order_id, since, STATE_NAMES[state]))
    elif state is _S.LOST:
        out.append(_parcel(K.LOST, tracker, order_id, since, f"丢失{reason}"))
    return out


_MOVING = frozenset({_S.PICKED_UP.value, _S.IN_TRANSIT.value, _S.OUT_FOR_DELIVERY.value})


def quiet(state: str, last_event_at: int | None, rules: WatchRules, now: int) -> bool:
    """True when ``detect_parcel`` would find nothing, judged on plain column values: the
    parcel is delivered, or moving and scanned within ``stalled_s``. Most parcels are, so a
    sweep over millions skips building a ``Tracker`` for them."""
    if state == "delivered":
        return True
    return state in _MOVING and (last_event_at is None or now - last_event_at < rules.stalled_s)


def _parcel(kind: FindingKind, t: Tracker, order_id: str, since: int, detail: str,
            episode: int | None = None) -> Finding:
    key = f"{kind}:{t.courier}:{t.track_no}"
    if episode is not None:
        key = f"{key}:{episode}"
    return Finding(kind, key, order_id, t.track_no, t.courier, since,
                   t.events[-1] if t.events else None, detail)


def detect_deadline(order_id: str, exp_ship_time: int | None, shipped: bool, rules: WatchRules,
                    now: int) -> list[Finding]:
    """The one most urgent ship-deadline finding for an unshipped order, if any.

    The key carries ``exp_ship_time``: a deadline moved (push 126 / 112) closes the old
    warning at once and, if still close, opens one for the new deadline.
    """
    if shipped or exp_ship_time is None:
        return []
    left = exp_ship_time - now
    first, second = rules.deadline_warnings_s
    if left > first:
        return []
    if left <= 0:
        kind, since, detail = K.OVERDUE, exp_ship_time, f"已超过发货期限 {-left // 60} 分钟"
    elif left <= second:
        kind, since, detail = K.DEADLINE_SOON_2H, exp_ship_time - second, f"距发货期限还剩 {left // 60} 分钟"
    else:
        kind, since, detail = K.DEADLINE_SOON_6H, exp_ship_time - first, f"距发货期限还剩 {left // 60} 分钟"
    return [Finding(kind, f"{kind}:{order_id}:{exp_ship_time}", order_id, "", "", since, None,
                    detail)]


@dataclass(frozen=True, slots=True)
class Closed:
    finding: Finding
    at: int


class Reconciled(NamedTuple):
    to_open: list[Finding]
    to_close: list[Closed]


def reconcile(open_findings: dict[str, Finding], current: list[Finding], now: int,
              dismissed: frozenset[str] | set[str] = frozenset()) -> Reconciled:
    """Open what is newly detected, close what no longer is.

    ``open_findings`` must hold the open findings of exactly the orders / parcels that
    ``current`` was detected for, or findings of subjects not re-checked would close.
    Already-open keys are left alone (their ``since``, assignee and notes stay).
    """
    seen: set[str] = set()
    to_open: list[Finding] = []
    for f in current:
        if f.key in seen:
            continue
        seen.add(f.key)
        if f.key not in open_findings and f.key not in dismissed:
            to_open.append(f)
    to_close = [Closed(f, now) for k, f in open_findings.items() if k not in seen]
    return Reconciled(to_open, to_close)


def next_poll_at(tracker: Tracker, subscribed: bool, attempts: int, rules: WatchRules,
                 now: int) -> int | None:
    """When to poll this tracker next; None = retired, never poll again.

    Retired at a terminal state or once ``tracker_max_age_s`` has passed since tracking began
    (``created_at``, else the first event). ``attempts`` counts polls since the last news;
    the delay doubles from ``poll_base_s`` up to ``poll_max_s``. A subscribed tracker is only
    polled as a slow fallback, every ``subscribed_poll_s`` at most. The last poll is at the
    retirement moment, never after it.
    """
    if tracker.state in TERMINAL:
        return None
    start = tracker.created_at or (tracker.events[0].at if tracker.events else now)
    retire_at = start + rules.tracker_max_age_s
    if now >= retire_at:
        return None
    delay = min(rules.poll_base_s << min(max(attempts, 0), 40), rules.poll_max_s)
    if subscribed:
        delay = max(delay, rules.subscribed_poll_s)
    return min(now + delay, retire_at)


__all__ = [
    "BadRules", "Closed", "Finding", "FindingKind", "Reconciled", "WatchRules",
    "detect_deadline", "detect_parcel", "next_poll_at", "quiet", "reconcile",
]
