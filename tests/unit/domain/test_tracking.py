from hypothesis import given, settings
from hypothesis import strategies as st

from fahuo.domain.tracking import (
    DOUYIN, KDNIAO, KUAIDI100, UNKNOWN_CONFIRMED, UNKNOWN_DOUYIN, Incident, Tracker,
    TrackingEvent, TrackingState, apply_events, from_douyin, from_kdniao, from_kuaidi100,
)

import pytest

S, I = TrackingState, Incident  # noqa: E741 - short names keep the table below readable

# Every entry written out again, so a changed mapping is a deliberate, visible change.
KUAIDI100_EXPECTED = {
    "1": (S.PICKED_UP, None), "101": (S.INFO_RECEIVED, None), "102": (S.INFO_RECEIVED, None),
    "103": (S.PICKED_UP, None), "0": (S.IN_TRANSIT, None), "1001": (S.IN_TRANSIT, None),
    "1002": (S.IN_TRANSIT, None), "1003": (S.IN_TRANSIT, None),
    "5": (S.OUT_FOR_DELIVERY, None), "501": (S.OUT_FOR_DELIVERY, None),
    "3": (S.DELIVERED, None), "301": (S.DELIVERED, None), "302": (S.DELIVERED, None),
    "303": (S.DELIVERED, None), "304": (S.DELIVERED, None),
    "6": (S.RETURNING, None), "4": (S.RETURNED, None), "401": (S.RETURNED, I.CANCELLED),
    "14": (S.REJECTED, I.REFUSED), "7": (S.IN_TRANSIT, None),
    "2": (S.EXCEPTION, I.OTHER), "201": (S.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME),
    "202": (S.EXCEPTION, I.NO_UPDATES), "203": (S.REJECTED, I.REFUSED),
    "204": (S.FAILED_ATTEMPT, I.OTHER), "205": (S.FAILED_ATTEMPT, I.UNCOLLECTED),
    "206": (S.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE), "207": (S.EXCEPTION, I.OUT_OF_AREA),
    "208": (S.EXCEPTION, I.HELD_UP), "209": (S.EXCEPTION, I.DAMAGED),
    "210": (S.EXCEPTION, I.CANCELLED),
    "8": (S.IN_TRANSIT, None), "10": (S.IN_TRANSIT, None), "11": (S.IN_TRANSIT, None),
    "12": (S.IN_TRANSIT, None), "13": (S.EXCEPTION, I.CUSTOMS),
}

KDNIAO_EXPECTED = {
    "0": (S.INFO_RECEIVED, None), "1": (S.PICKED_UP, None), "10": (S.INFO_RECEIVED, None),
    "2": (S.IN_TRANSIT, None), "201": (S.IN_TRANSIT, None), "204": (S.IN_TRANSIT, None),
    "205": (S.IN_TRANSIT, None), "206": (S.IN_TRANSIT, None),
    "202": (S.OUT_FOR_DELIVERY, None), "211": (S.OUT_FOR_DELIVERY, None),
    "3": (S.DELIVERED, None), "301": (S.DELIVERED, None), "302": (S.DELIVERED, None),
    "304": (S.DELIVERED, None), "311": (S.DELIVERED, None), "5": (S.IN_TRANSIT, None),
    "4": (S.EXCEPTION, I.OTHER), "401": (S.EXCEPTION, I.NO_TRACE),
    "402": (S.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME), "403": (S.EXCEPTION, I.NO_UPDATES),
    "404": (S.REJECTED, I.REFUSED), "405": (S.FAILED_ATTEMPT, I.OTHER),
    "406": (S.RETURNED, None), "407": (S.RETURNING, None),
    "412": (S.FAILED_ATTEMPT, I.UNCOLLECTED), "413": (S.EXCEPTION, I.INTERCEPTED),
    "414": (S.EXCEPTION, I.DAMAGED), "415": (S.EXCEPTION, I.CANCELLED),
    "416": (S.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE), "417": (S.EXCEPTION, I.DELAYED),
    "418": (S.EXCEPTION, I.OTHER), "419": (S.OUT_FOR_DELIVERY, None),
    "420": (S.EXCEPTION, I.ADDRESS_PROBLEM), "421": (S.EXCEPTION, I.RECIPIENT_UNAVAILABLE),
    "422": (S.EXCEPTION, I.MISSORTED), "423": (S.EXCEPTION, I.OUT_OF_AREA),
    "6": (S.IN_TRANSIT, None), "601": (S.IN_TRANSIT, None), "602": (S.IN_TRANSIT, None),
    "603": (S.IN_TRANSIT, None), "604": (S.EXCEPTION, I.CUSTOMS),
}

DOUYIN_EXPECTED = {
    "已下单": (S.INFO_RECEIVED, None), "待揽收": (S.INFO_RECEIVED, None),
    "揽收": (S.PICKED_UP, None), "已揽收": (S.PICKED_UP, None),
    "运输": (S.IN_TRANSIT, None), "在途": (S.IN_TRANSIT, None), "运输中": (S.IN_TRANSIT, None),
    "派件": (S.OUT_FOR_DELIVERY, None), "派送中": (S.OUT_FOR_DELIVERY, None),
    "待取件": (S.OUT_FOR_DELIVERY, None),
    "签收": (S.DELIVERED, None), "已签收": (S.DELIVERED, None),
    "拒签": (S.REJECTED, I.REFUSED), "拒收": (S.REJECTED, I.REFUSED),
    "退回": (S.RETURNING, None), "退回中": (S.RETURNING, None), "退签": (S.RETURNED, None),
    "疑难": (S.EXCEPTION, I.OTHER), "异常": (S.EXCEPTION, I.OTHER), "丢失": (S.LOST, I.LOST),
}


def test_tables_are_exactly_as_reviewed():
    assert KUAIDI100 == KUAIDI100_EXPECTED
    assert KDNIAO == KDNIAO_EXPECTED
    assert DOUYIN == DOUYIN_EXPECTED


@pytest.mark.parametrize("code,expected", sorted(KUAIDI100_EXPECTED.items()))
def test_kuaidi100_each_code_as_state_and_as_sub_code(code, expected):
    assert from_kuaidi100(code) == expected
    assert from_kuaidi100(None, code) == expected
    assert from_kuaidi100("0", code) == expected  # the sub-code wins over the base


@pytest.mark.parametrize("code,expected", sorted(KDNIAO_EXPECTED.items()))
def test_kdniao_each_code_as_state_ex(code, expected):
    assert from_kdniao("4", code) == expected  # State 4 is sticky: StateEx decides
    assert from_kdniao(None, int(code)) == expected


@pytest.mark.parametrize("code,expected", sorted(DOUYIN_EXPECTED.items()))
def test_douyin_each_code(code, expected):
    assert from_douyin(code) == expected
    assert from_douyin(f" {code} ") == expected


def test_kuaidi100_unknown_sub_code_falls_back_to_base_then_to_exception():
    assert from_kuaidi100("3", "399") == (S.DELIVERED, None)
    assert from_kuaidi100(5, None) == (S.OUT_FOR_DELIVERY, None)
    assert from_kuaidi100("99", "9999") == UNKNOWN_CONFIRMED == (S.EXCEPTION, I.OTHER)
    assert from_kuaidi100(None, None) == UNKNOWN_CONFIRMED


def test_kdniao_state_alone_and_unknown():
    assert from_kdniao(3, None) == (S.DELIVERED, None)
    assert from_kdniao("2", "") == (S.IN_TRANSIT, None)
    assert from_kdniao("4", "499") == (S.EXCEPTION, I.OTHER)
    assert from_kdniao("77") == UNKNOWN_CONFIRMED


def test_douyin_unknown_code_is_quietly_in_transit():
    # The Douyin table is UNCONFIRMED; an unknown code must not raise alarms on every parcel.
    assert from_douyin("12") == UNKNOWN_DOUYIN == (S.IN_TRANSIT, None)
    assert from_douyin(None) == UNKNOWN_DOUYIN


def ev(at, state, code="", incident=None, desc=""):
    return TrackingEvent(at=at, state=state, description=desc or f"{state}@{at}",
                         raw_state=code, incident=incident)


def tracker(*events):
    return apply_events(Tracker("YT1", "yuantong"), list(events))


def test_newest_event_decides_and_picked_up_is_the_first_scan():
    t = tracker(ev(300, S.OUT_FOR_DELIVERY), ev(100, S.INFO_RECEIVED), ev(200, S.PICKED_UP))
    assert t.state == S.OUT_FOR_DELIVERY
    assert t.last_event_at == 300 and t.picked_up_at == 200 and t.state_since == 300
    assert [e.at for e in t.events] == [100, 200, 300]


def test_older_event_arriving_late_does_not_override():
    t = tracker(ev(300, S.FAILED_ATTEMPT, incident=I.RECIPIENT_UNAVAILABLE))
    t = apply_events(t, [ev(200, S.IN_TRANSIT)])
    assert t.state == S.FAILED_ATTEMPT and t.incident == I.RECIPIENT_UNAVAILABLE
    assert t.picked_up_at == 200 and t.last_event_at == 300


def test_duplicates_are_one_event():
    e = ev(100, S.PICKED_UP)
    t = apply_events(tracker(e, e), [e])
    assert len(t.events) == 1


def test_delivered_is_not_left_by_late_duplicate_older_or_newer_routine_scans():
    t = tracker(ev(100, S.PICKED_UP), ev(500, S.DELIVERED, "3"))
    for late in (ev(500, S.DELIVERED, "3"), ev(400, S.IN_TRANSIT), ev(600, S.IN_TRANSIT),
                 ev(700, S.FAILED_ATTEMPT)):
        t = apply_events(t, [late])
        assert t.state == S.DELIVERED and t.state_since == 500
    assert t.last_event_at == 700  # kept as history all the same


def test_returning_parcel_signed_for_is_returned_and_stays_returned():
    t = tracker(ev(100, S.PICKED_UP), ev(200, S.REJECTED, "14", I.REFUSED),
                ev(300, S.RETURNING, "6"), ev(400, S.DELIVERED, "3"))
    assert t.state == S.RETURNED and t.state_since == 400
    assert apply_events(t, [ev(500, S.DELIVERED, "3")]).state == S.RETURNED


def test_refused_then_signed_after_all_is_delivered():
    # 302 派件异常后签收: a refusal that the buyer takes back is a delivery, not a return.
    t = tracker(ev(100, S.PICKED_UP), ev(200, S.REJECTED), ev(300, S.DELIVERED, "302"))
    assert t.state == S.DELIVERED


def test_lost_parcel_that_turns_up_may_be_delivered_but_not_moved_by_scans():
    t = tracker(ev(100, S.PICKED_UP), ev(200, S.LOST, incident=I.LOST))
    assert apply_events(t, [ev(300, S.IN_TRANSIT)]).state == S.LOST
    assert apply_events(t, [ev(150, S.IN_TRANSIT)]).state == S.LOST
    assert apply_events(t, [ev(400, S.DELIVERED)]).state == S.DELIVERED


def test_empty_tracker_is_info_received():
    t = tracker()
    assert (t.state, t.last_event_at, t.picked_up_at, t.events) == (S.INFO_RECEIVED, None,
                                                                      None, ())


def test_exception_is_not_proof_of_pickup():
    t = tracker(ev(100, S.EXCEPTION, "401", I.NO_TRACE))
    assert t.picked_up_at is None and t.state == S.EXCEPTION


def test_same_second_events_have_a_fixed_winner():
    a, b = ev(100, S.IN_TRANSIT), ev(100, S.DELIVERED)
    assert tracker(a, b).state == tracker(b, a).state == S.DELIVERED


events_st = st.builds(
    TrackingEvent,
    at=st.integers(0, 20),
    state=st.sampled_from(list(TrackingState)),
    description=st.sampled_from(["", "a", "b"]),
    location=st.just(""),
    raw_state=st.sampled_from(["", "3", "6"]),
    raw_sub_state=st.just(""),
    incident=st.sampled_from([None, I.REFUSED, I.OTHER]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(events_st, max_size=12), st.data())
def test_any_order_split_and_duplication_converges(events, data):
    reference = tracker(*events)
    shuffled = data.draw(st.permutations(events + data.draw(
        st.lists(st.sampled_from(events), max_size=5) if events else st.just([]))))
    cut = data.draw(st.integers(0, len(shuffled)))
    t = Tracker("YT1", "yuantong")
    t = apply_events(t, shuffled[:cut])
    t = apply_events(t, shuffled[cut:])
    t = apply_events(t, shuffled[: cut // 2])  # replays are harmless
    assert t == reference


@settings(max_examples=200, deadline=None)
@given(st.lists(events_st, min_size=1, max_size=12), st.lists(events_st, max_size=6))
def test_a_terminal_state_is_never_left_by_older_events(events, more):
    # Older news may re-read *which* end it was (a signature after 退回 is the sender's:
    # returned), but never reopens the parcel.
    terminal = (S.DELIVERED, S.RETURNED, S.LOST)
    t = tracker(*events)
    if t.state not in terminal:
        return
    older = [e for e in more if e.at < t.state_since] + list(events)
    assert apply_events(t, older).state in terminal
