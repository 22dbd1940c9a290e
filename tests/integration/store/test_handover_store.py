"""The hand-over lists' store on SQLite and PostgreSQL: which packs it offers, a pack on one
list only (also when two people make the courier's list at the same moment), the list's
state moved only through its table, and what the pickup watch reads of it."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, update

from fakes import FakeHandoverDocuments
from fahuo.adapters.store import models as m
from fahuo.domain.lifecycle import IllegalTransition, StaleState
from fahuo.services.handover import Handover, HandoverError
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop

NOW = int(time.time())


def _shop(app, make_order, shop_id: str, n: int, states: list[str]) -> tuple[int, list[int]]:
    """A shop with ``n`` orders, one numbered zhongtong pack each, in ``states``."""
    base = int(shop_id) * 10**13
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id=shop_id, app_key=f"34094093484793540{shop_id[-2:]}",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        ids = [str(6900000000000000000 + base + i * 100) for i in range(n)]
        store_platform_orders(u, ref, [make_order(oid, NOW - 100, shop_id=shop_id)
                                       for oid in ids])
        pids = []
        for i, oid in enumerate(ids):
            order = u.pipeline.load_orders([oid])[oid][2]
            pid = u.pipeline.add_pack(
                {"shop_ref": ref, "kind": "whole", "state": "planned", "main_order_id": oid,
                 "platform_pack_id": "", "courier_code": "zhongtong", "request_id": f"r{oid}",
                 "exp_ship_time": order.exp_ship_time},
                [{"order_id": oid, "sku_order_id": s.sku_order_id, "quantity": s.quantity}
                 for s in order.sub_orders])
            # set as the pipeline would have left them (the pack table's own test is elsewhere)
            u.conn.execute(update(m.packs).where(m.packs.c.id == pid).values(
                state=states[i % len(states)], track_no=f"78{base // 10**13}{i:011d}",
                netsite_code="HZ01", updated_at=NOW - 50))
            pids.append(pid)
    return ref, pids


def test_candidates_are_the_shops_ready_packs_on_no_list(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref, pids = _shop(app, make_order, "1001", 4, ["scanned", "confirmed", "printed"])
    other, _ = _shop(app, make_order, "1002", 2, ["scanned"])
    with app.uow() as u:
        got = u.handover.candidates(ref, NOW - 3600)
        assert [r["id"] for r in got] == [pids[0], pids[1], pids[3]]  # printed is not ready
        assert {r["tracker_state"] for r in got} == {None}
        assert u.handover.candidates(ref, NOW) == []  # changed before ``since``
        list_id, n = u.handover.add_list(shop_ref=ref, courier_code="zhongtong",
                                         netsite_code="HZ01", actor="王仓管", now=NOW,
                                         items=[(pids[1], "n1", "o1"), (pids[0], "n0", "o0")])
        assert n == 2
        assert [r["id"] for r in u.handover.candidates(ref, NOW - 3600)] == [pids[3]]
        assert [(it["seq"], it["pack_id"]) for it in u.handover.items(list_id)] == [
            (1, pids[1]), (2, pids[0])]
        assert len(u.handover.candidates(other, NOW - 3600)) == 2
        assert u.moves[-1].kind == "handover" and u.moves[-1].target == "open"


def test_a_pack_goes_on_one_list_only(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref, pids = _shop(app, make_order, "1001", 3, ["scanned"])
    with app.uow() as u:
        first, n = u.handover.add_list(shop_ref=ref, courier_code="zhongtong", netsite_code="",
                                       actor="a", now=NOW, items=[(pids[0], "n0", "o0")])
        second, n2 = u.handover.add_list(shop_ref=ref, courier_code="zhongtong",
                                         netsite_code="", actor="b", now=NOW,
                                         items=[(pids[0], "n0", "o0"), (pids[1], "n1", "o1")])
        assert (n, n2) == (1, 1)  # the taken pack was not listed twice
        assert [it["pack_id"] for it in u.handover.items(first)] == [pids[0]]
        assert [it["pack_id"] for it in u.handover.items(second)] == [pids[1]]


def test_the_state_moves_only_through_the_table(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref, pids = _shop(app, make_order, "1001", 2, ["confirmed"])
    with app.uow() as u:
        lid, _ = u.handover.add_list(shop_ref=ref, courier_code="zhongtong", netsite_code="",
                                     actor="a", now=NOW, items=[(pids[0], "780", "o0")])
    with app.uow() as u:
        assert u.handover.handed_over(["780"]) == {}  # open: the courier has nothing yet
        assert u.handover.move({lid: ("open", "handed_over")}, handed_over_at=NOW + 60,
                               handed_over_by="李店长") == [lid]
    with pytest.raises(IllegalTransition):
        with app.uow() as u:
            u.handover.move({lid: ("handed_over", "open")})
    with pytest.raises(StaleState):  # moved meanwhile: told, never overwritten
        with app.uow() as u:
            u.handover.move({lid: ("open", "handed_over")}, handed_over_by="别人")
    with app.uow(readonly=True) as u:
        row = u.handover.get(lid)
        assert (row["state"], row["handed_over_by"], row["handed_over_at"]) == (
            "handed_over", "李店长", NOW + 60)
        ref_ = u.handover.handed_over(["780", "nope"])
        assert list(ref_) == [("zhongtong", "780")]
        assert (ref_[("zhongtong", "780")].list_id, ref_[("zhongtong", "780")].handed_over_at
                ) == (lid, NOW + 60)
        total, rows = u.handover.lists(shop_ref=ref, state="handed_over")
        assert total == 1 and rows[0]["id"] == lid


def test_two_people_making_the_same_list_at_once(fahuo_any_db, make_order):
    """One list gets the parcels, the other is refused whole. On PostgreSQL both read the
    same waiting parcels and the second insert finds them taken; SQLite's single writer
    (BEGIN IMMEDIATE) lets the second read only after the first committed: nothing waits."""
    app = fahuo_any_db
    ref, pids = _shop(app, make_order, "1001", 6, ["scanned"])
    barrier = threading.Barrier(2 if app.engine.dialect.name == "postgresql" else 1)
    real = app.uow

    class Slow:  # both read before either writes
        def __call__(self, *, readonly: bool = False):
            u = real(readonly=readonly)
            if readonly:
                return u
            orig = u.__enter__

            def enter():
                got = orig()
                cands = got.handover.candidates
                got.handover.candidates = lambda *a, **k: (cands(*a, **k), barrier.wait())[0]
                return got
            u.__enter__ = enter  # type: ignore[method-assign]
            return u

    results: list[object] = []

    def make(who: str) -> None:
        h = Handover(Slow(), documents=FakeHandoverDocuments())
        try:
            results.append(h.create(ref, "zhongtong", actor=who))
        except HandoverError as exc:
            results.append(exc)

    threads = [threading.Thread(target=make, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    made = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, HandoverError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert ("另一张交接单" if app.engine.dialect.name == "postgresql" else "没有待交接的包裹"
            ) in str(refused[0])
    with app.uow(readonly=True) as u:
        assert u.conn.execute(select(func.count()).select_from(m.handover_lists)
                              ).scalar_one() == 1  # nothing of the refused list is left
        on_lists = u.conn.execute(select(m.handover_items.c.pack_id)).scalars().all()
    assert sorted(on_lists) == sorted(pids)
