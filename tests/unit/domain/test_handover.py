"""The hand-over rules on plain objects: which parcels go on the next list, the list's own
transition table, and the 揽收超时 finding of a handed-over parcel without a pickup scan."""

from __future__ import annotations

from datetime import datetime

import pytest

from fahuo.domain.clock import SHOP_TZ
from fahuo.domain.handover import (
    HANDOVER, LOOKBACK_S, Candidate, HandedOver, HandoverState, belongs_on_next_list,
    handover_finding, waiting, with_handover,
)
from fahuo.domain.lifecycle import IllegalTransition
from fahuo.domain.tracking import Tracker, TrackingState
from fahuo.domain.watch import HOUR, FindingKind, WatchRules, detect_parcel

NOW = int(datetime(2026, 12, 3, 20, 0, tzinfo=SHOP_TZ).timestamp())


def cand(pack_id=1, **kw) -> Candidate:
    base = {"courier_code": "zhongtong", "netsite_code": "", "track_no": f"7800{pack_id:010d}",
            "state": "scanned", "ready_at": NOW - 600}
    return Candidate(pack_id=pack_id, **{**base, **kw})


@pytest.mark.parametrize("c, goes", [
    (cand(), True),
    (cand(state="confirmed"), True),
    (cand(state="printed"), False),           # not packed and scanned yet
    (cand(state="waybill_taken"), False),
    (cand(state="cancelled"), False),
    (cand(on_list=3), False),                 # on a list already: at most one
    (cand(unpacked=True), False),             # opened and put back: it will not go out
    (cand(track_no=""), False),
    (cand(courier_code=""), False),
    (cand(picked_up=True), False),            # the courier scanned it: no hand-over needed
    (cand(tracker_state="in_transit"), False),
    (cand(tracker_state="delivered"), False),
    (cand(tracker_state="info_received"), True),
    (cand(tracker_state="exception"), True),  # 发货无信息 is not possession
    (cand(ready_at=NOW - LOOKBACK_S - 1), False),  # an old parcel, not today's
    (cand(ready_at=NOW - LOOKBACK_S), True),
])
def test_which_parcels_belong_on_the_next_list(c, goes):
    assert belongs_on_next_list(c, NOW) is goes


def test_waiting_groups_per_courier_and_branch_oldest_first():
    cs = [cand(1, ready_at=NOW - 100), cand(2, ready_at=NOW - 900),
          cand(3, netsite_code="HZ01"), cand(4, courier_code="yuantong"),
          cand(5, on_list=1), cand(6, ready_at=NOW - 900)]
    got = waiting(cs, NOW)
    assert list(got) == [("yuantong", ""), ("zhongtong", ""), ("zhongtong", "HZ01")]
    assert [c.pack_id for c in got[("zhongtong", "")]] == [2, 6, 1]


def test_a_list_is_handed_over_once():
    assert HANDOVER.check_new(1, "open") is HandoverState.OPEN
    with pytest.raises(IllegalTransition):
        HANDOVER.check_new(1, "handed_over")
    assert HANDOVER.move(1, "open", "handed_over") is HandoverState.HANDED_OVER
    with pytest.raises(IllegalTransition):
        HANDOVER.move(1, "handed_over", "open")
    assert HANDOVER.terminal == {HandoverState.HANDED_OVER}


HANDED = int(datetime(2026, 12, 3, 16, 0, tzinfo=SHOP_TZ).timestamp())
REF = HandedOver(12, "zhongtong", HANDED)
RULES = WatchRules()  # handover_pickup_s 6 h


def parcel(**kw) -> Tracker:
    return Tracker(track_no="78000000000001", courier="zhongtong", created_at=HANDED - HOUR,
                   **kw)


def test_no_pickup_scan_after_the_threshold_names_the_list_in_shop_time():
    assert handover_finding(parcel(), REF, RULES, HANDED + 6 * HOUR - 1) is None
    f = handover_finding(parcel(), REF, RULES, HANDED + 6 * HOUR, "6900001")
    assert f is not None and f.kind is FindingKind.PICKUP_TIMEOUT
    assert f.detail == "交接单 #12（中通快递 2026-12-03 16:00 交接）后 6 小时无揽收扫描"
    assert f.since == HANDED + 6 * HOUR and f.order_id == "6900001"
    assert f.key == "pickup_timeout:zhongtong:78000000000001:handover:12"
    odd = WatchRules(handover_pickup_s=90 * 60)
    assert "后 1 小时 30 分钟无揽收扫描" in handover_finding(parcel(), REF, odd, NOW).detail


@pytest.mark.parametrize("t", [
    parcel(picked_up_at=HANDED + 60, state=TrackingState.PICKED_UP),
    parcel(state=TrackingState.IN_TRANSIT),
    parcel(state=TrackingState.RETURNED),
])
def test_a_parcel_the_courier_has_is_no_finding(t):
    assert handover_finding(t, REF, RULES, NOW + 48 * HOUR) is None


def test_the_lists_finding_stands_in_for_the_shipping_time_one():
    t = parcel()
    late = HANDED + 30 * HOUR  # past both: 24 h after shipping, 6 h after the hand-over
    generic = detect_parcel(t, HANDED - HOUR, RULES, late)
    assert [f.kind for f in generic] == [FindingKind.PICKUP_TIMEOUT]
    got = with_handover(generic, t, REF, RULES, late)
    assert len(got) == 1 and "交接单 #12" in got[0].detail
    # before the hand-over's threshold the shipping-time finding stays as it was
    early = HANDED + 3 * HOUR
    shipped_long_ago = detect_parcel(t, HANDED - 30 * HOUR, RULES, early)
    assert with_handover(shipped_long_ago, t, REF, RULES, early) == shipped_long_ago
    assert with_handover(generic, t, None, RULES, late) == generic
