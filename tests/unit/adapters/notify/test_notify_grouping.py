from __future__ import annotations

import pytest

from fahuo.adapters.notify.base import Alert, fit_lines, render_lines
from fahuo.adapters.notify.grouping import Routing, RoutingError, group_alerts, mark_sent


def stalled(n):
    return [("stalled", f"SF{i:04d} 3 天无轨迹") for i in range(n)]


def test_37_stalled_parcels_make_one_alert():
    [a] = group_alerts(stalled(37), interval_s=3600, last_sent={}, now=1000)
    assert a.kind == "stalled" and a.count == 37 and len(a.lines) == 30 and a.more == 7
    assert a.title.startswith("37 ")
    assert render_lines(a)[-1] == "… and 7 more" and len(render_lines(a)) == 31


def test_one_alert_per_kind_in_first_seen_order_and_dedup():
    findings = [("deadline", "o1"), ("stalled", "p1"), ("deadline", "o2"), ("deadline", "o1")]
    alerts = group_alerts(findings, interval_s=60, last_sent={}, now=0, max_lines=5,
                          titles={"deadline": "{count} due ({kind})"},
                          links={"deadline": "http://c/d"})
    assert [(a.kind, a.count, a.lines) for a in alerts] == [
        ("deadline", 2, ["o1", "o2"]), ("stalled", 1, ["p1"])]
    assert alerts[0].title == "2 due (deadline)" and alerts[0].link == "http://c/d"
    assert alerts[1].link is None


def test_interval_holds_back_recent_kinds():
    findings = stalled(3) + [("auth_expired", "shop A")]
    last = {"stalled": 1000, "auth_expired": 100}
    assert [a.kind for a in group_alerts(findings, interval_s=600, last_sent=last, now=1599)] == [
        "auth_expired"]
    assert [a.kind for a in group_alerts(findings, interval_s=600, last_sent=last, now=1600)] == [
        "stalled", "auth_expired"]
    # per-kind override
    assert [a.kind for a in group_alerts(findings, interval_s=600, last_sent=last, now=1100,
                                         intervals={"stalled": 60})] == [
        "stalled", "auth_expired"]


def test_mark_sent_is_pure():
    last = {"x": 1}
    alerts = [Alert("stalled", "t", ["a"], 1, None)]
    assert mark_sent(last, alerts, 50) == {"x": 1, "stalled": 50} and last == {"x": 1}


def test_no_findings_no_alerts():
    assert group_alerts([], interval_s=1, last_sent={}, now=0) == []


def test_alert_count_never_below_lines():
    assert Alert("k", "t", ["a", "b"], 0, None).count == 2


def test_fit_lines_drops_lines_and_grows_more():
    a = Alert("k", "t", [f"line {i:03d}" for i in range(100)], 150, None)

    def build(lines, more):
        return "\n".join(["T", *lines, *([f"+{more}"] if more else [])])
    full = build(a.lines, a.more)
    assert fit_lines(build, a, 10_000) == full
    cut = fit_lines(build, a, 200)
    kept = [x for x in cut.split("\n") if x.startswith("line")]
    assert len(cut.encode()) <= 200 and cut.endswith(f"+{150 - len(kept)}")
    assert len(build(a.lines[:len(kept) + 1], 150 - len(kept) - 1).encode()) > 200


def test_routing_round_trip_and_lookup():
    r = Routing.from_dict({"routes": {"ops": ["stalled", "deadline"], "boss": ["*"]}},
                          channels={"ops", "boss"}, kinds={"stalled", "deadline", "auth_expired"})
    assert r.channels_for("stalled") == ["ops", "boss"]
    assert r.channels_for("auth_expired") == ["boss"]
    assert Routing.from_dict(r.to_dict()) == r
    assert r.to_dict() == {"routes": {"ops": ["deadline", "stalled"], "boss": ["*"]}}
    assert Routing().channels_for("stalled") == []


def test_routing_names_every_bad_field():
    with pytest.raises(RoutingError) as ei:
        Routing.from_dict({"routes": {"ops": ["stalld", 3], "mail": "stalled", "ghost": []},
                           "extra": 1},
                          channels={"ops", "mail"}, kinds={"stalled"})
    p = ei.value.problems
    assert "routing: unknown field(s) 'extra'" in p
    assert any(x.startswith("routes.ops[0]: unknown kind 'stalld'") for x in p)
    assert "routes.ops[1]: kind 3 must be a non-empty string" in p
    assert "routes.mail: expected a list of kinds, got str" in p
    assert any(x.startswith("routes.ghost: unknown channel 'ghost'") for x in p)
    with pytest.raises(RoutingError, match="expected an object"):
        Routing.from_dict(["ops"])
    with pytest.raises(RoutingError, match="routes: expected an object"):
        Routing.from_dict({"routes": ["ops"]})
