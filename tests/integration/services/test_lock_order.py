"""One lock order for every writer of orders (issue 10 E): a push drain storing orders of
several shops and a pipeline pass over the same orders run side by side on PostgreSQL,
again and again, with no deadlock and the same result as if they had taken turns."""

from __future__ import annotations

import functools
import threading
import time

import pytest

from fahuo.adapters.store import models as m
from fahuo.adapters.store.unit_of_work import in_transaction
from fahuo.services import push
from fahuo.services.orders import store_platform_orders
from fahuo.services.shipping import Pipeline
from fahuo.services.push import process_inbox
from fahuo.services.shops import NewShop, add_shop
from support import make_fahuo, order_payload

APP_KEY = "3409409348479354011"
SHOPS = ("2001", "2002", "2003")
PER_SHOP = 40
ROUNDS = 25
T0 = 1_700_000_000
NEWER = T0 + 50  # the version the pushes bring


class _Api:
    """A shop's platform as the push drain and the pipeline see it: detail answers the newer
    version of the order; the shop has no e-waybill account, so planning holds every order
    as out of range (no other platform call happens)."""

    def __init__(self, shop_id: str) -> None:
        self.shop_id = shop_id

    def order_detail(self, order_id: str) -> dict:
        return order_payload(order_id, NEWER, shop_id=self.shop_id)


def _ids(rnd: int) -> dict[str, list[str]]:
    """Order ids of one round, interleaved across the shops: sorted globally, the shops'
    orders alternate, so locking shop by shop runs against the global order."""
    base = 6_910_000_000_000_000_000 + rnd * 10_000
    out: dict[str, list[str]] = {s: [] for s in SHOPS}
    for i in range(PER_SHOP * len(SHOPS)):
        out[SHOPS[i % len(SHOPS)]].append(str(base + i))
    return out


@pytest.mark.postgres
def test_push_drain_and_pipeline_pass_never_deadlock(tmp_path, pg_url, monkeypatch):
    # The lock order alone must do it: no retry may hide a deadlock in this test.
    monkeypatch.setattr(push, "in_transaction", functools.partial(in_transaction, attempts=1))
    app = make_fahuo(tmp_path, pg_url)
    try:
        with app.uow() as u:
            refs = {s: add_shop(u, NewShop(shop_id=s, app_key=APP_KEY, app_secret="s",
                                           gateway_url="http://127.0.0.1:1")) for s in SHOPS}
        apis = {s: _Api(s) for s in SHOPS}

        def platform_for(shop):
            return apis[shop.shop_id]

        errors: list[tuple[int, str, BaseException]] = []
        all_ids: list[str] = []
        started = time.monotonic()
        for rnd in range(ROUNDS):
            ids = _ids(rnd)
            with app.uow() as u:
                for k, (s, oids) in enumerate(ids.items()):
                    store_platform_orders(u, refs[s], [order_payload(o, T0, shop_id=s)
                                                       for o in oids])
                    u.inbox.add_many([{
                        "msg_id": f"m-{o}", "app_key": APP_KEY, "tag": "101", "shop_id": s,
                        "order_id": o, "data": "{}", "status": "pending",
                        # the last shop's pushes arrive first: the drain takes the shops in
                        # another order than their order ids
                        "received_at": T0 + len(SHOPS) - k,
                        "attempts": 0, "error": None} for o in oids])
            all_ids += [o for oids in ids.values() for o in oids]
            gate = threading.Barrier(2)

            # The pass starts at a different moment of the drain each round.
            delay = {"push": 0.0, "pipeline": (rnd % 10) * 0.01}

            def run(name: str, fn) -> None:
                gate.wait()
                time.sleep(delay[name])
                try:
                    fn()
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append((rnd, name, exc))

            threads = [
                threading.Thread(target=run, args=("push", lambda: process_inbox(
                    app.uow, platform_for))),
                threading.Thread(target=run, args=("pipeline", lambda: Pipeline(
                    app.uow, platform_for).run())),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        took = time.monotonic() - started
        assert not errors, [f"{len(errors)} failed: round {r} {n}: {type(e).__name__}: {str(e)[:300]}"
                            for r, n, e in errors]
        assert took < 60, f"{ROUNDS} rounds took {took:.0f} s"

        # What running them one after the other gives: every push stored (newer version
        # wins), and once the pipeline has seen each version every order is held once, for
        # want of a courier.
        Pipeline(app.uow, platform_for).run(limit=len(all_ids))
        with app.uow() as u:
            inbox = u.inbox.counts()
            rows = u.conn.execute(m.orders.select().with_only_columns(
                m.orders.c.order_id, m.orders.c.update_time, m.orders.c.state)).all()
            holds = u.conn.execute(m.order_holds.select().where(
                m.order_holds.c.released_at.is_(None))).all()
        assert inbox == {"done": len(all_ids)}
        assert {r.order_id: (r.update_time, r.state) for r in rows} == {
            o: (NEWER, "held") for o in all_ids}
        assert sorted(h.order_id for h in holds) == sorted(all_ids)
        assert {h.reason for h in holds} == {"out_of_range"}
    finally:
        app.close()


@pytest.mark.postgres
def test_a_pack_write_waits_for_its_orders_before_it_locks_the_pack(tmp_path, pg_url):
    """Orders before packs: while another transaction holds the order, a pack write (here
    what saving a confirmation does) must wait without having locked the pack, or a writer
    going order → pack (an address change, a recycle) and this one deadlock."""
    import sqlalchemy as sa
    from support import labelled_pack

    app = make_fahuo(tmp_path, pg_url)
    try:
        oid = "6920000000000000001"
        _, pid = labelled_pack(app, order_payload, oid, "ZT0000000001")
        holder = app.uow()
        holder.__enter__()
        holder.orders.lock([oid])  # an order → pack writer, between its two steps
        writer_done = threading.Event()

        def confirm_save() -> None:
            with app.uow() as u:
                u.pipeline.update_packs([pid], state="confirmed")
            writer_done.set()

        t = threading.Thread(target=confirm_save)
        t.start()
        try:
            time.sleep(0.5)
            assert not writer_done.is_set()  # it waits for the order...
            with app.engine.connect() as probe:  # ...and has not taken the pack meanwhile
                got = probe.execute(sa.select(m.packs.c.id).where(m.packs.c.id == pid)
                                    .with_for_update(nowait=True)).all()
                probe.rollback()
            assert [r.id for r in got] == [pid]
        finally:
            holder.__exit__(None, None, None)
            t.join(10)
        assert writer_done.is_set()
        with app.uow() as u:
            assert u.pipeline.packs_by_ids([pid])[0]["state"] == "confirmed"
    finally:
        app.close()


@pytest.mark.postgres
def test_a_print_record_waits_for_its_orders_before_it_names_the_pack(tmp_path, pg_url):
    """The print component's answer records a print batch whose rows name the pack (a
    foreign key, so a share lock on the pack). Taken before the order lock, that share lock
    deadlocked with a confirmation holding the order and asking for the pack (seen in the
    crash test on PostgreSQL): the record must wait for the order first, holding nothing."""
    import json

    import sqlalchemy as sa
    from fahuo.services.print_component import DOC_PREFIX, record_component_result
    from support import labelled_pack

    app = make_fahuo(tmp_path, pg_url)
    try:
        oid = "6920000000000000002"
        _, pid = labelled_pack(app, order_payload, oid, "ZT0000000002")
        answer = json.dumps({"cmd": "notifyPrintResult", "printer": "p", "taskID": "t-1",
                             "taskStatus": "printed", "printStatus": [{
                                 "documentID": f"{DOC_PREFIX}{pid}", "status": "success",
                                 "msg": "", "trackNo": "ZT0000000002"}]})
        holder = app.uow()
        holder.__enter__()
        holder.orders.lock([oid])  # a confirmation, between locking the order and the pack
        done = threading.Event()

        def record() -> None:
            record_component_result(app.uow, answer, actor="packer")
            done.set()

        t = threading.Thread(target=record)
        t.start()
        try:
            time.sleep(0.5)
            assert not done.is_set()  # it waits for the order...
            with app.engine.connect() as probe:  # ...holding no lock on the pack meanwhile
                got = probe.execute(sa.select(m.packs.c.id).where(m.packs.c.id == pid)
                                    .with_for_update(nowait=True)).all()
                probe.rollback()
            assert [r.id for r in got] == [pid]
        finally:
            holder.__exit__(None, None, None)
            t.join(10)
        assert done.is_set()
        with app.uow() as u:
            assert u.pipeline.packs_by_ids([pid])[0]["state"] == "printed"
    finally:
        app.close()
