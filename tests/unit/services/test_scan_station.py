"""The scan station's counter and recent list through the real scan service on SQLite with a
fake shop: today is the shop's day (Beijing), whatever the server's zone; a parcel counts once
per day however often it is scanned; the list is newest first, 20 at most, with the refusal's
reason in Chinese."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from scan_world import parcels_at_the_desk
from support import make_fahuo

from fahuo.services.holds import hold_orders
from fahuo.services.scan import recent_scans, scan, scans_today, station

BEIJING = timezone(timedelta(hours=8))  # written out here, not taken from the code under test


def _beijing(*args: int) -> float:
    return datetime(*args, tzinfo=BEIJING).timestamp()


@pytest.fixture
def world(tmp_path):
    app = make_fahuo(tmp_path)
    platform_for, packs = parcels_at_the_desk(app)
    yield {"app": app, "platform_for": platform_for, "packs": packs}
    app.close()


def _scan(w, code: str, who: str, at: float):
    return scan(w["app"].uow, w["platform_for"], code, actor=who, clock=lambda: at)


@pytest.fixture
def new_york(monkeypatch):
    """The server runs in New York: its midnight is 12:00 or 13:00 in Beijing."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_scan_before_shop_midnight_and_one_after_count_on_different_days(world, new_york):
    a, b = world["packs"][:2]
    before = _beijing(2024, 3, 10, 23, 59, 30)  # 15:59:30 UTC, 11:59:30 in New York (EDT)
    after = _beijing(2024, 3, 11, 0, 0, 30)  # 16:00:30 UTC, 12:00:30 in New York
    # In the server's zone both are the same day: counting by it would give 2 and 2.
    assert time.localtime(before).tm_mday == time.localtime(after).tm_mday == 10
    assert _scan(world, a["track_no"], "王", before).verdict == "shipped"
    assert _scan(world, b["track_no"], "王", after).verdict == "shipped"
    uow = world["app"].uow
    late_on_10th = scans_today(uow, "王", now=_beijing(2024, 3, 10, 23, 59, 59))
    assert (late_on_10th.day, late_on_10th.mine, late_on_10th.total) == ("2024-03-10", 1, 1)
    morning_11th = scans_today(uow, "王", now=_beijing(2024, 3, 11, 9, 0, 0))
    assert (morning_11th.day, morning_11th.mine, morning_11th.total) == ("2024-03-11", 1, 1)
    # exactly at midnight the new day has begun: the 23:59:30 scan is yesterday's
    midnight = scans_today(uow, "王", now=_beijing(2024, 3, 11, 0, 0, 0))
    assert (midnight.day, midnight.mine) == ("2024-03-11", 1)
    assert scans_today(uow, "王", now=_beijing(2024, 3, 12, 0, 0, 0)).total == 0


def test_per_person_and_total_each_parcel_once_refusals_apart(world):
    p = world["packs"]
    t0 = _beijing(2024, 5, 20, 10, 0, 0)
    assert _scan(world, p[0]["track_no"], "王", t0).verdict == "shipped"
    assert _scan(world, p[1]["track_no"], "王", t0 + 1).verdict == "shipped"
    # scanned again at the other desk: let go again, but it is the same parcel
    assert _scan(world, p[0]["track_no"], "李", t0 + 2).verdict == "already_shipped"
    assert _scan(world, p[2]["track_no"], "李", t0 + 3).verdict == "shipped"
    hold_orders(world["app"].uow, [p[3]["main_order_id"]], "买家要改地址", actor="t")
    assert _scan(world, p[3]["track_no"], "李", t0 + 4).verdict == "held"
    assert _scan(world, "ZZ0000000001", "李", t0 + 5).verdict == "unknown"
    assert _scan(world, "", "李", t0 + 6).verdict == "unknown"  # a stray Enter: not stored
    uow, now = world["app"].uow, t0 + 60
    wang, li = scans_today(uow, "王", now=now), scans_today(uow, "李", now=now)
    assert (wang.mine, wang.total, wang.refused) == (2, 3, 2)  # p0, p1 / p0, p1, p2
    assert (li.mine, li.total, li.refused) == (2, 3, 2)  # p0 (again), p2
    assert scans_today(uow, "nobody", now=now).mine == 0


def test_recent_scans_newest_first_twenty_at_most_with_the_reason(world):
    p = world["packs"]
    t0 = _beijing(2024, 5, 20, 10, 0, 0)
    hold_orders(world["app"].uow, [p[4]["main_order_id"]], "买家要改地址", actor="t")
    for i in range(22):  # 22 scans of numbers nobody has, then two real ones
        _scan(world, f"YT{i:011d}", "王", t0 + i)
    _scan(world, p[0]["track_no"], "王", t0 + 100)
    _scan(world, p[4]["track_no"], "李", t0 + 101)
    lines = recent_scans(world["app"].uow)
    assert len(lines) == 20
    assert [ln.at for ln in lines] == sorted((ln.at for ln in lines), reverse=True)
    held, shipped = lines[0], lines[1]
    assert (held.code, held.actor, held.ok, held.verdict_name) == (p[4]["track_no"], "李",
                                                                   False, "挂起中")
    assert held.message.startswith("挂起中，不要发货")
    assert held.order_ids == (p[4]["main_order_id"],) and held.pack_id == p[4]["id"]
    assert held.courier == "中通快递 (zhongtong)"
    assert held.time == "05-20 10:01:41"  # 10:00:00 + 101 s, Beijing
    assert (shipped.ok, shipped.verdict_name, shipped.code) == (True, "放行（已发货）",
                                                                p[0]["track_no"])
    # the oldest two unknown numbers fell off the end; the newest of them is third
    assert [ln.code for ln in lines[2:]] == [f"YT{i:011d}" for i in range(21, 3, -1)]
    unknown = lines[2]
    assert (unknown.verdict_name, unknown.courier, unknown.pack_id) == ("未知单号", "—", None)
    assert unknown.message.startswith("未知运单号")
    desk = station(world["app"].uow, "王", now=t0 + 200)
    assert (desk.today.mine, desk.today.total, desk.today.refused) == (1, 1, 23)
    assert desk.recent == lines
