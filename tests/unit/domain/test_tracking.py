from hypothesis import given, settings
from hypothesis import strategies as st

from fahuo.domain.tracking import (
    Incident, Tracker, TrackingEvent, TrackingState, apply_events,
)


S, I = TrackingState, Incident  # noqa: E741 - short names keep the tests readable


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
