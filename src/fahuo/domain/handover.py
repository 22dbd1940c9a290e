"""交接单: the daily hand-over of parcels to a courier's pickup, and what it promises.

Pure: no SQL, no clock (``now`` is passed in, Unix seconds). A hand-over list is made per
shop, courier and branch (网点) from the parcels waiting for one (``waiting``); a parcel is on
at most one list. Once the list is marked handed over, the courier has the parcels: a parcel
of it with no pickup scan ``WatchRules.handover_pickup_s`` later is a 揽收超时 finding that
names the list (``handover_finding``), and it stands in for the finding the shipping time
alone would give (``with_handover``), so one parcel has one pickup finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from fahuo.domain.clock import shop_time
from fahuo.domain.couriers import BY_CODE
from fahuo.domain.lifecycle import Lifecycle
from fahuo.domain.tracking import POSSESSION, TERMINAL, Tracker
from fahuo.domain.watch import HOUR, Finding, FindingKind, WatchRules

# A parcel ready longer than this and never handed over is not put on today's list: it is
# an old one (handed over outside fahuo, or lost in the warehouse; the pickup watch has it).
LOOKBACK_S = 7 * 24 * HOUR
# What a parcel must be in to go to the courier: scanned at the packing station, or confirmed
# on the platform (the shop's confirm mode decides which comes first).
READY_STATES = frozenset({"scanned", "confirmed"})


class HandoverState(StrEnum):
    OPEN = "open"                # made and printable, the courier has not taken it yet
    HANDED_OVER = "handed_over"  # signed and handed to the courier (who, when)


H = HandoverState
HANDOVER: Lifecycle[HandoverState] = Lifecycle(
    "handover", {H.OPEN: frozenset({H.HANDED_OVER}), H.HANDED_OVER: frozenset()},
    frozenset({H.OPEN}))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A shop's parcel as the hand-over sees it."""

    pack_id: int
    courier_code: str
    netsite_code: str  # "" when the e-waybill account has no branch code
    track_no: str
    state: str  # the pack's state
    ready_at: int  # when it last changed (scanned / confirmed), Unix seconds
    order_id: str = ""
    on_list: int | None = None  # the list it is on already
    tracker_state: str | None = None  # None: not tracked yet
    picked_up: bool = False  # the courier scanned it already
    unpacked: bool = False  # opened and put back (拆包放回): it will not go out


def belongs_on_next_list(c: Candidate, now: int) -> bool:
    """A parcel that waits for a hand-over: ready to go, numbered, on no list yet, recent,
    and not in the courier's hands already (a pickup scan needs no hand-over)."""
    if c.on_list is not None or c.unpacked or c.state not in READY_STATES:
        return False
    if not c.track_no or not c.courier_code:
        return False
    if c.picked_up or (c.tracker_state is not None
                       and (c.tracker_state in POSSESSION or c.tracker_state in TERMINAL)):
        return False
    return now - c.ready_at <= LOOKBACK_S


GroupKey = tuple[str, str]  # (courier code, netsite code)


def waiting(candidates: Iterable[Candidate], now: int) -> dict[GroupKey, list[Candidate]]:
    """The parcels of the next list per courier and branch, oldest first (by ready time,
    then pack id); couriers in code order."""
    out: dict[GroupKey, list[Candidate]] = {}
    for c in candidates:
        if belongs_on_next_list(c, now):
            out.setdefault((c.courier_code, c.netsite_code), []).append(c)
    for group in out.values():
        group.sort(key=lambda c: (c.ready_at, c.pack_id))
    return dict(sorted(out.items()))


def courier_short(code: str) -> str:
    """中通快递 for zhongtong; the code for one fahuo does not know."""
    c = BY_CODE.get(code)
    return c.name if c else code


@dataclass(frozen=True, slots=True)
class HandedOver:
    """A parcel's list, once marked handed over."""

    list_id: int
    courier_code: str
    handed_over_at: int


def _span(seconds: int) -> str:
    if seconds % HOUR == 0:
        return f"{seconds // HOUR} 小时"
    if seconds >= HOUR:
        return f"{seconds // HOUR} 小时 {seconds % HOUR // 60} 分钟"
    return f"{max(seconds // 60, 1)} 分钟"


def handover_text(ref: HandedOver, threshold_s: int) -> str:
    """交接单 #12（中通快递 2026-12-03 16:00 交接）后 6 小时无揽收扫描 (shop time)."""
    return (f"交接单 #{ref.list_id}（{courier_short(ref.courier_code)} "
            f"{shop_time(ref.handed_over_at)} 交接）后 {_span(threshold_s)}无揽收扫描")


def handover_finding(tracker: Tracker, ref: HandedOver, rules: WatchRules, now: int,
                     order_id: str = "") -> Finding | None:
    """揽收超时 for a handed-over parcel the courier has not scanned within the shop's
    ``handover_pickup_s``. The key names the list: a parcel handed over again on another
    list is a new episode."""
    if tracker.picked_up_at is not None or tracker.state in POSSESSION \
            or tracker.state in TERMINAL:
        return None
    due = ref.handed_over_at + rules.handover_pickup_s
    if now < due:
        return None
    kind = FindingKind.PICKUP_TIMEOUT
    return Finding(kind, f"{kind}:{tracker.courier}:{tracker.track_no}:handover:{ref.list_id}",
                   order_id, tracker.track_no, tracker.courier, due,
                   tracker.events[-1] if tracker.events else None,
                   handover_text(ref, rules.handover_pickup_s))


def with_handover(found: list[Finding], tracker: Tracker, ref: HandedOver | None,
                  rules: WatchRules, now: int, order_id: str = "") -> list[Finding]:
    """``detect_parcel``'s findings with the hand-over's pickup finding in place of the one
    from the shipping time (one pickup finding per parcel, the more telling one)."""
    if ref is None:
        return found
    mine = handover_finding(tracker, ref, rules, now, order_id)
    if mine is None:
        return found
    kept = [f for f in found if f.kind is not FindingKind.PICKUP_TIMEOUT]
    return [*kept, mine]


@dataclass(frozen=True, slots=True)
class SheetLine:
    seq: int
    track_no: str
    order_id: str


@dataclass(frozen=True, slots=True)
class Sheet:
    """A list as it is printed: every text already in Chinese and in shop time."""

    list_id: int
    shop_name: str
    courier: str  # 中通快递 (zhongtong)
    netsite: str
    state: str  # 待交接 / 已交接
    created: str  # "2026-12-03 15:00 王仓管"
    handed_over: str  # "" while open
    lines: tuple[SheetLine, ...]

    @property
    def title(self) -> str:
        return f"交接单 #{self.list_id}"


__all__ = [
    "HANDOVER", "LOOKBACK_S", "READY_STATES", "Candidate", "GroupKey", "HandedOver",
    "HandoverState", "Sheet", "SheetLine", "belongs_on_next_list", "courier_short", "handover_finding",
    "handover_text", "waiting", "with_handover",
]
