"""One normalised tracking model, and every provider's state codes mapped to it in one place.

Pure: no SQL, no HTTP, no clock. Providers speak their own codes (Kuaidi100 ``state`` /
``statusCode``, Kdniao ``State`` / ``StateEx``, Douyin ``trackNoRouteDetail`` node ``state``);
fahuo keeps one ``TrackingState`` plus an optional ``Incident`` (why it is in trouble). The
raw codes stay on every event so nothing is lost when a mapping turns out wrong.

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

TERMINAL = frozenset({T.DELIVERED, T.RETURNED, T.LOST})
# States that prove the courier has the parcel. EXCEPTION does not (it may be 发货无信息).
POSSESSION = frozenset({T.PICKED_UP, T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.DELIVERED,
                        T.FAILED_ATTEMPT, T.REJECTED, T.RETURNING, T.RETURNED})

Mapped = tuple[TrackingState, Incident | None]

# --- Kuaidi100 (tracking-and-couriers.md §1.5) --------------------------------------------
# Base states and sub-codes share one table: the codes do not collide, and whether the
# top-level ``state`` itself carries advanced codes under resultv2=4 is UNCONFIRMED.
# 2xx and the customs 10–13 codes are 3P (two third-party tables agree).
KUAIDI100: dict[str, Mapped] = {
    "1": (T.PICKED_UP, None),            # 揽收
    "101": (T.INFO_RECEIVED, None),      # 已下单
    "102": (T.INFO_RECEIVED, None),      # 待揽收
    "103": (T.PICKED_UP, None),          # 已揽收
    "0": (T.IN_TRANSIT, None),           # 在途
    "1001": (T.IN_TRANSIT, None),        # 到达派件城市
    "1002": (T.IN_TRANSIT, None),        # 干线
    "1003": (T.IN_TRANSIT, None),        # 转递 (发往新地址)
    "5": (T.OUT_FOR_DELIVERY, None),     # 派件
    "501": (T.OUT_FOR_DELIVERY, None),   # 投柜或驿站
    "3": (T.DELIVERED, None),            # 签收
    "301": (T.DELIVERED, None),          # 本人签收
    "302": (T.DELIVERED, None),          # 派件异常后签收
    "303": (T.DELIVERED, None),          # 代签
    "304": (T.DELIVERED, None),          # 投柜或站签收
    "6": (T.RETURNING, None),            # 退回
    "4": (T.RETURNED, None),             # 退签
    "401": (T.RETURNED, I.CANCELLED),    # 已销单
    "14": (T.REJECTED, I.REFUSED),       # 拒签
    "7": (T.IN_TRANSIT, None),           # 转投 (handed to another carrier)
    "2": (T.EXCEPTION, I.OTHER),         # 疑难
    "201": (T.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME),  # 超时未签收
    "202": (T.EXCEPTION, I.NO_UPDATES),  # 超时未更新
    "203": (T.REJECTED, I.REFUSED),      # 拒收
    "204": (T.FAILED_ATTEMPT, I.OTHER),  # 派件异常
    "205": (T.FAILED_ATTEMPT, I.UNCOLLECTED),  # 柜或驿站超时未取
    "206": (T.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE),  # 无法联系
    "207": (T.EXCEPTION, I.OUT_OF_AREA),  # 超区
    "208": (T.EXCEPTION, I.HELD_UP),     # 滞留
    "209": (T.EXCEPTION, I.DAMAGED),     # 破损
    "210": (T.EXCEPTION, I.CANCELLED),   # 销单
    "8": (T.IN_TRANSIT, None),           # 清关
    "10": (T.IN_TRANSIT, None),          # 待清关
    "11": (T.IN_TRANSIT, None),          # 清关中
    "12": (T.IN_TRANSIT, None),          # 已清关
    "13": (T.EXCEPTION, I.CUSTOMS),      # 清关异常
}

# --- Kdniao (§2.6) --------------------------------------------------------------------------
# ``State`` 0–6 and ``StateEx`` share meanings for 0–6, so one table holds both. ``State`` 4
# is sticky (stays 4 after any problem), so ``StateEx`` always wins when it is known.
KDNIAO: dict[str, Mapped] = {
    "0": (T.INFO_RECEIVED, None),        # 暂无轨迹信息
    "1": (T.PICKED_UP, None),            # 已揽收
    "10": (T.INFO_RECEIVED, None),       # 待揽件
    "2": (T.IN_TRANSIT, None),           # 在途中
    "201": (T.IN_TRANSIT, None),         # 到达派件城市
    "204": (T.IN_TRANSIT, None),         # 到达转运中心
    "205": (T.IN_TRANSIT, None),         # 到达派件网点
    "206": (T.IN_TRANSIT, None),         # 寄件网点发件
    "202": (T.OUT_FOR_DELIVERY, None),   # 派件中
    "211": (T.OUT_FOR_DELIVERY, None),   # 已放入快递柜或驿站
    "3": (T.DELIVERED, None),            # 已签收
    "301": (T.DELIVERED, None),          # 正常签收
    "302": (T.DELIVERED, None),          # 异常后最终签收
    "304": (T.DELIVERED, None),          # 代收签收
    "311": (T.DELIVERED, None),          # 快递柜或驿站签收
    "5": (T.IN_TRANSIT, None),           # 转寄
    "4": (T.EXCEPTION, I.OTHER),         # 问题件
    "401": (T.EXCEPTION, I.NO_TRACE),    # 发货无信息
    "402": (T.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME),  # 超时未签收 (派件 trace > 36 h)
    "403": (T.EXCEPTION, I.NO_UPDATES),  # 超时未更新 (> 5 days)
    "404": (T.REJECTED, I.REFUSED),      # 拒收(退件)
    "405": (T.FAILED_ATTEMPT, I.OTHER),  # 派件异常
    "406": (T.RETURNED, None),           # 退货签收
    "407": (T.RETURNING, None),          # 退货未签收
    "412": (T.FAILED_ATTEMPT, I.UNCOLLECTED),  # 快递柜或驿站超时未取 (> 18 h)
    "413": (T.EXCEPTION, I.INTERCEPTED),  # 单号已拦截
    "414": (T.EXCEPTION, I.DAMAGED),     # 破损
    "415": (T.EXCEPTION, I.CANCELLED),   # 客户取消发货
    "416": (T.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE),  # 无法联系
    "417": (T.EXCEPTION, I.DELAYED),     # 配送延迟
    "418": (T.EXCEPTION, I.OTHER),       # 快件取出
    "419": (T.OUT_FOR_DELIVERY, None),   # 重新派送: a new attempt is progress
    "420": (T.EXCEPTION, I.ADDRESS_PROBLEM),  # 收货地址不详细
    "421": (T.EXCEPTION, I.RECIPIENT_UNAVAILABLE),  # 收件人电话错误
    "422": (T.EXCEPTION, I.MISSORTED),   # 错分件
    "423": (T.EXCEPTION, I.OUT_OF_AREA),  # 超区件
    "6": (T.IN_TRANSIT, None),           # 清关
    "601": (T.IN_TRANSIT, None),         # 待清关
    "602": (T.IN_TRANSIT, None),         # 清关中
    "603": (T.IN_TRANSIT, None),         # 已清关
    "604": (T.EXCEPTION, I.CUSTOMS),     # 清关异常
}

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

# Unknown codes. Kuaidi100 and Kdniao tables are CONFIRMED, so a code we have never seen is
# news someone should look at: EXCEPTION/OTHER. Douyin's table is a guess, so an unknown
# Douyin code must not flood merchants with alarms: IN_TRANSIT (the stall check still
# catches a parcel that really stopped moving).
UNKNOWN_CONFIRMED: Mapped = (T.EXCEPTION, I.OTHER)
UNKNOWN_DOUYIN: Mapped = (T.IN_TRANSIT, None)


def _code(value: str | int | None) -> str:
    return "" if value is None else str(value).strip()


def from_kuaidi100(state: str | int | None, sub_state: str | int | None = None) -> Mapped:
    """Kuaidi100 ``state`` plus ``data[].statusCode`` (resultv2=4); the sub-code wins."""
    sub = _code(sub_state)
    if sub in KUAIDI100:
        return KUAIDI100[sub]
    return KUAIDI100.get(_code(state), UNKNOWN_CONFIRMED)


def from_kdniao(state: str | int | None, state_ex: str | int | None = None) -> Mapped:
    """Kdniao ``State`` plus ``StateEx``; StateEx wins (State 4 is sticky)."""
    ex = _code(state_ex)
    if ex in KDNIAO:
        return KDNIAO[ex]
    return KDNIAO.get(_code(state), UNKNOWN_CONFIRMED)


def from_douyin(state: str | int | None) -> Mapped:
    """Douyin route node ``state`` (or ``state_description``). UNCONFIRMED table."""
    return DOUYIN.get(_code(state), UNKNOWN_DOUYIN)


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
