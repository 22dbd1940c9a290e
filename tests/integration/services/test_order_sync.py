"""Sync against an in-memory platform with live offset paging (the hard part of the real one)."""

import random
from dataclasses import dataclass

import pytest

from fahuo.services.sync import OrderSync, SyncPolicy
from fahuo.services.shops import NewShop, add_shop


@dataclass
class Page:
    total: int
    page: int
    size: int
    orders: list


class LivePlatform:
    """Pages by offset over the live data, sorted by update_time, like order.searchList."""

    def __init__(self, make_order, now: int) -> None:
        self.make_order, self.now = make_order, now
        self.orders: dict[str, dict] = {}
        self.calls = 0
        self.on_page = None  # hook: mutate data between pages

    def add(self, n: int, start: int, spread: int, seed: int = 1) -> None:
        rnd = random.Random(seed)
        base = 6_900_000_000_000_000_000 + len(self.orders)
        for i in range(n):
            oid = str(base + i * 7)
            self.orders[oid] = self.make_order(oid, start + rnd.randrange(spread))

    def touch(self, oid: str, t: int, status: int = 2) -> None:
        self.orders[oid] = self.make_order(oid, t, status=status)

    def search_orders(self, *, update_time_start, update_time_end, page, size=100,
                      order_by="update_time", order_asc=True):
        self.calls += 1
        if self.on_page:
            self.on_page(self, page)
        rows = sorted((o for o in self.orders.values()
                       if update_time_start <= o["update_time"] <= update_time_end),
                      key=lambda o: (o["update_time"], o["order_id"]))
        return Page(len(rows), page, size, rows[page * size:(page + 1) * size])

    def order_detail(self, oid):
        return self.orders[oid]


def _shop(app):
    with app.uow() as uow:
        return add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                     app_secret="x", gateway_url="http://127.0.0.1:1"))


def _stored(app, ref):
    with app.uow() as uow:
        return uow.orders.ids_with_update_time(ref)


NOW = 1_800_000_000


def test_first_sync_takes_every_order_and_a_second_finds_only_changes(fahuo, make_order):
    ref = _shop(fahuo)
    plat = LivePlatform(make_order, NOW)
    plat.add(1234, NOW - 5 * 86400, 5 * 86400 - 60)
    sync = OrderSync(fahuo.uow, SyncPolicy(initial_days=7, max_total=150), clock=lambda: NOW)
    r = sync.run(ref, plat)
    assert r.inserted == 1234 and _stored(fahuo, ref) == {k: v["update_time"]
                                                           for k, v in plat.orders.items()}
    assert r.splits > 0  # windows above max_total were halved
    # Later: a few orders change; only the overlap plus the change is read again.
    oid = next(iter(plat.orders))
    plat.touch(oid, NOW + 100, status=4)
    sync.clock = lambda: NOW + 200
    r2 = sync.run(ref, plat)
    assert r2.updated >= 1 and r2.orders_seen < 50
    with fahuo.uow() as uow:
        assert uow.orders.get(oid)["state"] == "cancelled"


def test_orders_updated_while_paging_are_not_lost(fahuo, make_order):
    """Updating an already-read order shifts later rows up one offset: a naive pager skips."""
    ref = _shop(fahuo)
    plat = LivePlatform(make_order, NOW)
    plat.add(950, NOW - 3600, 3000)
    rnd = random.Random(7)

    def mutate(p, page):
        if page in (2, 5, 7):  # move three early orders out of the window, to "now"
            early = sorted(p.orders.values(), key=lambda o: o["update_time"])[:50]
            victim = rnd.choice(early)["order_id"]
            p.touch(victim, NOW + 1)
    plat.on_page = mutate
    sync = OrderSync(fahuo.uow, SyncPolicy(initial_days=1, max_total=5000, lag_s=0),
                     clock=lambda: NOW - 1)
    r = sync.run(ref, plat)
    assert r.rereads >= 1
    plat.on_page = None
    stored = _stored(fahuo, ref)
    missing = [k for k, v in plat.orders.items() if k not in stored and v["update_time"] < NOW]
    assert missing == []
    # The moved orders are picked up by the next poll, with their newest update.
    sync.clock = lambda: NOW + 10
    sync.run(ref, plat)
    assert _stored(fahuo, ref) == {k: v["update_time"] for k, v in plat.orders.items()}


def test_sync_resumes_from_the_cursor_after_a_failure(fahuo, make_order):
    ref = _shop(fahuo)
    plat = LivePlatform(make_order, NOW)
    plat.add(600, NOW - 4 * 86400, 4 * 86400 - 100)
    calls = {"n": 0}

    def boom(p, page):
        calls["n"] += 1
        if calls["n"] == 9:
            raise ConnectionError("network down")
    plat.on_page = boom
    sync = OrderSync(fahuo.uow, SyncPolicy(initial_days=5, max_span_s=86400),
                     clock=lambda: NOW)
    with pytest.raises(ConnectionError):
        sync.run(ref, plat)
    with fahuo.uow() as uow:
        cursor = uow.cursors.get(ref)
    assert cursor is not None and cursor < NOW - 3  # the finished windows are kept
    plat.on_page = None
    sync.run(ref, plat)
    assert _stored(fahuo, ref) == {k: v["update_time"] for k, v in plat.orders.items()}


def test_window_never_reaches_past_ninety_days(fahuo):
    sync = OrderSync(fahuo.uow, SyncPolicy(initial_days=90, overlap_s=60), clock=lambda: NOW)
    start, end = sync.plan(None, NOW)
    assert start >= NOW - 90 * 86400 and end == NOW - 3
    start, _ = sync.plan(NOW - 100 * 86400, NOW)
    assert start >= NOW - 90 * 86400
