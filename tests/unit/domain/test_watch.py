from fahuo.domain.tracking import INCIDENT_NAMES, Incident, Tracker, TrackingEvent, TrackingState, apply_events
from fahuo.domain.watch import (
    BadRules, FindingKind, WatchRules, detect_deadline, detect_parcel, next_poll_at, quiet,
    reconcile,
)

import pytest
from hypothesis import given
from hypothesis import strategies as st

S, K = TrackingState, FindingKind
H = 3600
RULES = WatchRules()
SHIPPED = 1_700_000_000


def ev(at, state, incident=None):
    return TrackingEvent(at=at, state=state, description=f"{state}", incident=incident)


def parcel(*events):
    return apply_events(Tracker("YT1", "yuantong", created_at=SHIPPED), list(events))


def kinds(findings):
    return [f.kind for f in findings]


# --- rules ------------------------------------------------------------------------------------

def test_rules_round_trip_and_defaults():
    assert WatchRules.from_dict({}) == RULES
    assert WatchRules.from_dict(RULES.to_dict()) == RULES
    r = WatchRules.from_dict({"pickup_timeout_s": 12 * H, "deadline_warnings_s": [8 * H, 3 * H]})
    assert r.pickup_timeout_s == 12 * H and r.deadline_warnings_s == (8 * H, 3 * H)
    assert RULES.to_dict()["stalled_s"] == 48 * H


def test_bad_rules_name_every_bad_field():
    with pytest.raises(BadRules) as e:
        WatchRules.from_dict({"stalled_s": 0, "pickup_timeout_s": "24h", "colour": 1,
                              "deadline_warnings_s": [2 * H, 6 * H], "poll_base_s": True})
    assert e.value.fields == ["colour", "deadline_warnings_s", "pickup_timeout_s",
                              "poll_base_s", "stalled_s"]
    assert "stalled_s" in str(e.value)
    with pytest.raises(BadRules, match="poll_max_s"):
        WatchRules.from_dict({"poll_base_s": 600, "poll_max_s": 60})


# --- parcels: each kind exactly once, and it closes when resolved ------------------------------

def reconciled(open_, current, now):
    opened, closed = reconcile(open_, current, now)
    state = {k: f for k, f in open_.items() if k not in {c.finding.key for c in closed}}
    state.update({f.key: f for f in opened})
    return state, opened, closed


def test_pickup_timeout_fires_once_after_24h_and_closes_on_pickup():
    t = parcel()
    assert detect_parcel(t, SHIPPED, RULES, SHIPPED + 23 * H) == []
    found = detect_parcel(t, SHIPPED, RULES, SHIPPED + 25 * H, order_id="O1")
    assert kinds(found) == [K.PICKUP_TIMEOUT]
    assert found[0].since == SHIPPED + 24 * H and found[0].order_id == "O1"
    open_, opened, _ = reconciled({}, found, SHIPPED + 25 * H)
    assert len(opened) == 1
    # Detected again later: same key, nothing new opens.
    again = detect_parcel(t, SHIPPED, RULES, SHIPPED + 30 * H, order_id="O1")
    assert again[0].key == found[0].key and reconcile(open_, again, 0).to_open == []
    t = apply_events(t, [ev(SHIPPED + 26 * H, S.PICKED_UP)])
    now = SHIPPED + 27 * H
    open_, opened, closed = reconciled(open_, detect_parcel(t, SHIPPED, RULES, now), now)
    assert opened == [] and [c.finding.kind for c in closed] == [K.PICKUP_TIMEOUT]
    assert closed[0].at == now and open_ == {}


def test_pickup_timeout_needs_a_shipment_confirmation():
    assert detect_parcel(parcel(), None, RULES, SHIPPED + 100 * H) == []


def test_shop_threshold_is_used():
    rules = WatchRules(pickup_timeout_s=12 * H)
    assert kinds(detect_parcel(parcel(), SHIPPED, rules, SHIPPED + 13 * H)) == [K.PICKUP_TIMEOUT]


def test_stalled_fires_once_and_closes_when_the_parcel_moves():
    t = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 2 * H, S.IN_TRANSIT))
    assert detect_parcel(t, SHIPPED, RULES, SHIPPED + 49 * H) == []
    now = SHIPPED + 51 * H
    found = detect_parcel(t, SHIPPED, RULES, now)
    assert kinds(found) == [K.STALLED] and found[0].since == SHIPPED + 50 * H
    assert found[0].last_event.state == S.IN_TRANSIT
    open_, _, _ = reconciled({}, found, now)
    t = apply_events(t, [ev(SHIPPED + 52 * H, S.IN_TRANSIT)])
    open_, opened, closed = reconciled(open_, detect_parcel(t, SHIPPED, RULES, now + 2 * H),
                                       now + 2 * H)
    assert opened == [] and kinds(c.finding for c in closed) == [K.STALLED]
    # A second stall later is a new episode with a new key.
    later = detect_parcel(t, SHIPPED, RULES, SHIPPED + 101 * H)
    assert kinds(later) == [K.STALLED] and later[0].key != found[0].key


@pytest.mark.parametrize("state,incident,kind", [
    (S.FAILED_ATTEMPT, Incident.RECIPIENT_UNAVAILABLE, K.FAILED_DELIVERY),
    (S.EXCEPTION, Incident.DAMAGED, K.FAILED_DELIVERY),
    (S.REJECTED, Incident.REFUSED, K.REFUSED),
    (S.RETURNING, None, K.RETURNED),
    (S.RETURNED, None, K.RETURNED),
    (S.LOST, Incident.LOST, K.LOST),
])
def test_parcel_trouble_kinds_fire_exactly_once(state, incident, kind):
    t = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 5 * H, state, incident))
    # Long after, so stall / pickup thresholds would also be crossed if wrongly applied.
    found = detect_parcel(t, SHIPPED, RULES, SHIPPED + 100 * H, order_id="O1")
    assert kinds(found) == [kind]
    assert found[0].since == SHIPPED + 5 * H and found[0].track_no == "YT1"
    if incident:
        # the reason as the merchant reads it: its Chinese name, never the code
        assert INCIDENT_NAMES[incident] in found[0].detail and str(incident) not in found[0].detail


def test_failed_delivery_closes_when_delivered():
    t = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 5 * H, S.FAILED_ATTEMPT))
    now = SHIPPED + 6 * H
    open_, _, _ = reconciled({}, detect_parcel(t, SHIPPED, RULES, now), now)
    t = apply_events(t, [ev(SHIPPED + 7 * H, S.DELIVERED)])
    assert detect_parcel(t, SHIPPED, RULES, now + 2 * H) == []
    _, _, closed = reconciled(open_, [], now + 2 * H)
    assert kinds(c.finding for c in closed) == [K.FAILED_DELIVERY]


def test_refused_then_returning_swaps_refused_for_returned():
    t = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 5 * H, S.REJECTED, Incident.REFUSED))
    now = SHIPPED + 6 * H
    open_, _, _ = reconciled({}, detect_parcel(t, SHIPPED, RULES, now), now)
    t = apply_events(t, [ev(SHIPPED + 7 * H, S.RETURNING)])
    open_, opened, closed = reconciled(open_, detect_parcel(t, SHIPPED, RULES, now + 2 * H), 0)
    assert kinds(opened) == [K.RETURNED] and kinds(c.finding for c in closed) == [K.REFUSED]
    # Back with the sender: the same "returned" finding stays open, no new one.
    t = apply_events(t, [ev(SHIPPED + 50 * H, S.DELIVERED)])
    assert t.state == S.RETURNED
    assert reconcile(open_, detect_parcel(t, SHIPPED, RULES, now + 60 * H), 0) == ([], [])


def test_dismissed_terminal_finding_is_not_reopened():
    t = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 5 * H, S.LOST, Incident.LOST))
    found = detect_parcel(t, SHIPPED, RULES, SHIPPED + 6 * H)
    assert reconcile({}, found, 0, dismissed={found[0].key}).to_open == []


def test_delivered_parcel_has_no_findings():
    t = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 5 * H, S.DELIVERED))
    assert detect_parcel(t, SHIPPED, RULES, SHIPPED + 1000 * H) == []


def test_reconcile_counts_a_repeated_key_once():
    t = parcel()
    f = detect_parcel(t, SHIPPED, RULES, SHIPPED + 25 * H)
    assert len(reconcile({}, f + f, 0).to_open) == 1


def test_detection_handles_a_batch():
    moving = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 2 * H, S.IN_TRANSIT))
    now = SHIPPED + 10 * H
    results = [detect_parcel(moving, SHIPPED, RULES, now) for _ in range(20_000)]
    assert all(r == [] for r in results)


# --- deadlines -------------------------------------------------------------------------------

DEADLINE = SHIPPED + 48 * H


@pytest.mark.parametrize("left,kind", [
    (7 * H, None), (6 * H, K.DEADLINE_SOON_6H), (3 * H, K.DEADLINE_SOON_6H),
    (2 * H, K.DEADLINE_SOON_2H), (60, K.DEADLINE_SOON_2H), (0, K.OVERDUE), (-5 * H, K.OVERDUE),
])
def test_deadline_gives_the_one_most_urgent_finding(left, kind):
    found = detect_deadline("O1", DEADLINE, False, RULES, DEADLINE - left)
    assert kinds(found) == ([kind] if kind else [])


def test_deadline_escalates_closing_the_milder_warning_and_closes_when_shipped():
    open_, opened, _ = reconciled({}, detect_deadline("O1", DEADLINE, False, RULES,
                                                      DEADLINE - 5 * H), 0)
    assert kinds(opened) == [K.DEADLINE_SOON_6H] and opened[0].since == DEADLINE - 6 * H
    open_, opened, closed = reconciled(
        open_, detect_deadline("O1", DEADLINE, False, RULES, DEADLINE - H), 0)
    assert kinds(opened) == [K.DEADLINE_SOON_2H]
    assert kinds(c.finding for c in closed) == [K.DEADLINE_SOON_6H]
    open_, opened, closed = reconciled(
        open_, detect_deadline("O1", DEADLINE, False, RULES, DEADLINE + 1), 0)
    assert kinds(opened) == [K.OVERDUE] and opened[0].since == DEADLINE
    open_, opened, closed = reconciled(
        open_, detect_deadline("O1", DEADLINE, True, RULES, DEADLINE + H), 0)
    assert opened == [] and kinds(c.finding for c in closed) == [K.OVERDUE] and open_ == {}


def test_deadline_moved_later_closes_the_warning_at_once():
    now = DEADLINE - H
    open_, _, _ = reconciled({}, detect_deadline("O1", DEADLINE, False, RULES, now), now)
    # Push 126: the deadline moves two days later.
    moved = detect_deadline("O1", DEADLINE + 48 * H, False, RULES, now)
    open_, opened, closed = reconciled(open_, moved, now)
    assert opened == [] and kinds(c.finding for c in closed) == [K.DEADLINE_SOON_2H]
    # Moved only a little: the old warning closes and one for the new deadline opens.
    open_, _, _ = reconciled({}, detect_deadline("O1", DEADLINE, False, RULES, now), now)
    _, opened, closed = reconciled(open_, detect_deadline("O1", DEADLINE + 3 * H, False, RULES,
                                                          now), now)
    assert kinds(opened) == [K.DEADLINE_SOON_6H] and len(closed) == 1


def test_no_deadline_no_finding():
    assert detect_deadline("O1", None, False, RULES, SHIPPED) == []


# --- polling ---------------------------------------------------------------------------------

def test_polling_backs_off_to_the_ceiling():
    t = parcel(ev(SHIPPED + H, S.PICKED_UP))
    now = SHIPPED + 2 * H
    delays = [next_poll_at(t, False, n, RULES, now) - now for n in range(7)]
    assert delays == [1800, 3600, 7200, 14400, 21600, 21600, 21600]
    assert next_poll_at(t, False, 10_000, RULES, now) - now == RULES.poll_max_s


def test_subscribed_trackers_are_polled_only_as_a_slow_fallback():
    t = parcel(ev(SHIPPED + H, S.PICKED_UP))
    now = SHIPPED + 2 * H
    assert next_poll_at(t, True, 0, RULES, now) == now + 24 * H


@pytest.mark.parametrize("state", [S.DELIVERED, S.RETURNED, S.LOST])
def test_terminal_trackers_retire(state):
    t = parcel(ev(SHIPPED + H, S.PICKED_UP), ev(SHIPPED + 2 * H, state))
    assert next_poll_at(t, False, 0, RULES, SHIPPED + 3 * H) is None
    assert next_poll_at(t, True, 0, RULES, SHIPPED + 3 * H) is None


def test_old_trackers_retire_and_the_last_poll_is_at_the_limit():
    t = parcel(ev(SHIPPED + H, S.IN_TRANSIT))
    limit = SHIPPED + RULES.tracker_max_age_s
    assert next_poll_at(t, True, 0, RULES, limit - H) == limit
    assert next_poll_at(t, False, 0, RULES, limit) is None
    assert next_poll_at(t, False, 0, RULES, limit + 1) is None


def test_tracker_without_created_at_ages_from_its_first_event():
    t = apply_events(Tracker("YT1", "yuantong"), [ev(SHIPPED, S.PICKED_UP)])
    assert next_poll_at(t, False, 0, RULES, SHIPPED + 31 * 24 * H) is None
    assert next_poll_at(t, False, 0, RULES, SHIPPED + H) == SHIPPED + H + 1800


def test_no_tracker_is_polled_forever():
    t = parcel()
    now, polls = SHIPPED, 0
    while (nxt := next_poll_at(t, False, polls, RULES, now)) is not None:
        assert nxt > now
        now, polls = nxt, polls + 1
        assert polls < 1000
    assert now == SHIPPED + RULES.tracker_max_age_s


@given(st.sampled_from(list(TrackingState)), st.one_of(st.none(), st.integers(0, 10**6)),
       st.one_of(st.none(), st.integers(0, 10**6)), st.integers(0, 10**6))
def test_quiet_never_hides_a_finding(state, last, picked, shipped):
    # The sweep's shortcut must agree with the full check: quiet → nothing to report.
    now = 2 * 10**6
    t = Tracker("78000000000001", "zhongtong", state=state, last_event_at=last,
                picked_up_at=picked, state_since=last)
    if quiet(state.value, last, WatchRules(), now):
        assert detect_parcel(t, shipped, WatchRules(), now) == []
