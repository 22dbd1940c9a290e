"""Issue 12, must show: each lifecycle (orders, packs, interceptions) is enforced by the
repository. An illegal move raises and writes nothing of its batch; a move from a state the
row left meanwhile raises ``StaleState`` and writes nothing; two workers moving one row at
once: one wins, the other is told. On SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from fahuo.adapters.store import models as m
from fahuo.domain.lifecycle import IllegalTransition, StaleState, StateMove
from fahuo.domain.waybills import WaybillState
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop

A, B = "6900000000000000100", "6900000000000000200"
CASE = "7200000000000000001"


def _setup(app, make_order) -> tuple[int, int]:
    """Two synced orders, a planned pack of A, an after-sale case with no interception."""
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        store_platform_orders(u, ref, [make_order(A, 1_700_000_000),
                                       make_order(B, 1_700_000_001)])
        order = u.pipeline.load_orders([A])[A][2]
        pid = u.pipeline.add_pack(
            {"shop_ref": ref, "kind": "whole", "state": "planned", "main_order_id": A,
             "platform_pack_id": "", "courier_code": "zhongtong", "request_id": "r1",
             "exp_ship_time": order.exp_ship_time},
            [{"order_id": A, "sku_order_id": s.sku_order_id, "quantity": s.quantity}
             for s in order.sub_orders])
        u.conn.execute(m.after_sales.insert().values(
            aftersale_id=CASE, shop_ref=ref, order_id=A, sku_order_ids="[]", aftersale_type=1,
            aftersale_status=6, refund_amount=100, stage="after_ship",
            update_time=int(time.time())))
    return ref, pid


def _states(app, pid: int) -> tuple[dict[str, str], str, str]:
    with app.uow(readonly=True) as u:
        return (u.pipeline.order_states([A, B]), u.pipeline.pack_states([pid])[pid],
                u.conn.execute(select(m.after_sales.c.intercept_state).where(
                    m.after_sales.c.aftersale_id == CASE)).scalar_one())


def test_an_illegal_move_raises_and_writes_nothing(fahuo_any_db, make_order):
    app = fahuo_any_db
    _, pid = _setup(app, make_order)
    before = _states(app, pid)
    assert before == ({A: "synced", B: "synced"}, "planned", "")
    # A legal move and an illegal one in one batch: neither is written.
    with pytest.raises(IllegalTransition, match=f"order {B}: cannot move from synced to "
                                                "returned"):
        with app.uow() as u:
            u.pipeline.move_orders({A: ("synced", "approved"), B: ("synced", "returned")})
    with pytest.raises(IllegalTransition, match="pack .*: cannot move from planned to "
                                                "confirmed"):
        with app.uow() as u:
            u.pipeline.move_packs({pid: ("planned", "confirmed")})
    with pytest.raises(IllegalTransition, match="interception .*: cannot move from  to "
                                                "returned"):
        with app.uow() as u:
            u.aftersales.move_intercepts({CASE: ("", "returned")})
    # The checked conveniences refuse the same way (a state alone, from wherever it is).
    with pytest.raises(IllegalTransition):
        with app.uow() as u:
            u.pipeline.set_states({A: "delivered", B: "in_transit"})
    with pytest.raises(IllegalTransition):
        with app.uow() as u:
            u.pipeline.update_packs([pid], state="printed")
    assert _states(app, pid) == before


def test_legal_moves_are_written_and_recorded(fahuo_any_db, make_order):
    app = fahuo_any_db
    _, pid = _setup(app, make_order)
    with app.uow() as u:
        assert u.pipeline.move_orders({A: ("synced", "approved"), B: ("synced", "held")}) \
            == [A, B]
        assert u.pipeline.move_packs({pid: ("planned", "waybill_pending")}) == [pid]
        assert u.aftersales.move_intercepts({CASE: ("", "offered")},
                                            intercept_detail="可拦截") == [CASE]
        moves = list(u.moves)
    assert _states(app, pid) == ({A: "approved", B: "held"}, "waybill_pending", "offered")
    assert moves == [StateMove("order", A, "synced", "approved"),
                     StateMove("order", B, "synced", "held"),
                     StateMove("pack", str(pid), "planned", "waybill_pending"),
                     StateMove("interception", CASE, "", "offered")]


def test_a_row_moved_meanwhile_is_not_overwritten(fahuo_any_db, make_order):
    """A caller that decided on an older read (state read in an earlier unit of work, as
    the pipeline does around platform calls) finds the row moved: StaleState, and nothing
    of its batch is written."""
    app = fahuo_any_db
    _, pid = _setup(app, make_order)
    with app.uow(readonly=True) as u:  # worker 1 reads
        seen = u.pipeline.order_states([A, B])
    with app.uow() as u:  # worker 2 moves A first
        u.pipeline.move_orders({A: (seen[A], "held")})
    with pytest.raises(StaleState) as got:
        with app.uow() as u:  # worker 1 acts on what it read
            u.pipeline.move_orders({A: (seen[A], "approved"), B: (seen[B], "approved")})
    assert got.value.found == {A: "held"}
    assert _states(app, pid)[0] == {A: "held", B: "synced"}
    with app.uow() as u:
        u.pipeline.move_packs({pid: ("planned", "cancelled")})
    with pytest.raises(StaleState):
        with app.uow() as u:
            u.pipeline.move_packs({pid: ("planned", "waybill_pending")})
    assert _states(app, pid)[1] == "cancelled"


def test_two_workers_moving_one_row_one_wins(fahuo_any_db, make_order):
    """Both read the order synced, then each moves it in its own unit of work at the same
    moment: the database serialises them (row lock on PostgreSQL, the write lock on
    SQLite), the first wins and the second gets StaleState, never a silent overwrite."""
    app = fahuo_any_db
    _, pid = _setup(app, make_order)
    gate = threading.Barrier(2)
    results: dict[str, str] = {}

    def worker(target: str) -> None:
        with app.uow(readonly=True) as u:
            seen = u.pipeline.order_states([A])[A]
        gate.wait()
        try:
            with app.uow() as u:
                u.pipeline.move_orders({A: (seen, target)})
                time.sleep(0.2)  # hold the row while the other tries
            results[target] = "won"
        except StaleState:
            results[target] = "stale"

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("approved", "held")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["stale", "won"], results
    winner = next(t for t, r in results.items() if r == "won")
    assert _states(app, pid)[0][A] == winner


def test_platform_updates_go_through_the_order_lifecycle(fahuo_any_db, make_order):
    """The sync's upsert is a state write too: forward only, recorded."""
    app = fahuo_any_db
    _setup(app, make_order)
    with app.uow() as u:
        u.pipeline.move_orders({A: ("synced", "approved")})
    with app.uow() as u:
        ref = u.shops.list()[0].id
        store_platform_orders(u, ref, [make_order(A, 1_700_000_100, status=3),
                                       make_order(B, 1_700_000_100, status=2)])
        moves = list(u.moves)
    assert moves == [StateMove("order", A, "approved", "shipped")]
    with pytest.raises(IllegalTransition):
        with app.uow() as u:  # what apply_platform_status would never hand it
            u.orders.upsert(ref, [(u.pipeline.load_orders([A])[A][2], "approved")],
                            existing=u.orders.current([A]))


def test_a_waybill_number_is_used_or_given_back_once_and_never_revives(fahuo_any_db,
                                                                       make_order):
    # A number given back is void at the courier; shipping on it later would put a parcel
    # on a dead label. The store moves only live numbers and refuses new ones born dead.
    app = fahuo_any_db
    ref, pid = _setup(app, make_order)
    live = [("zhongtong", "7800000000001"), ("zhongtong", "7800000000002")]
    with app.uow() as u:
        u.pipeline.add_waybills([{"courier_code": c, "track_no": no, "shop_ref": ref,
                                  "pack_id": pid, "status": "live", "source": "ewaybill"}
                                 for c, no in live])
    with pytest.raises(IllegalTransition, match="waybill .*: cannot move from \\(new\\) to used"):
        with app.uow() as u:
            u.pipeline.add_waybills([{"courier_code": "zhongtong", "track_no": "78000000009",
                                      "shop_ref": ref, "pack_id": pid, "status": "used",
                                      "source": "ewaybill"}])
    with app.uow() as u:
        assert u.pipeline.move_waybills(live[:1], WaybillState.RECYCLED) == live[:1]
        moves = list(u.moves)
    assert moves == [StateMove("waybill", str(live[0]), "live", "recycled")]
    with app.uow() as u:
        # the recycled one stays recycled; only the live one becomes used
        assert u.pipeline.move_waybills(live, WaybillState.USED) == live[1:]
    with app.uow(readonly=True) as u:
        rows = {(r.courier_code, r.track_no): (r.status, r.recycled_at) for r in u.conn.execute(
            select(m.waybills))}
    assert rows[live[0]][0] == "recycled" and rows[live[0]][1]
    assert rows[live[1]] == ("used", None)
    assert ("zhongtong", "78000000009") not in rows


def _reservation_state(app, item: int) -> tuple[str, int]:
    r = m.stock_reservations
    with app.uow(readonly=True) as u:
        row = u.conn.execute(select(r.c.state, r.c.quantity).where(
            r.c.order_id == A, r.c.item_id == item)).one()
    return row.state, row.quantity


def test_a_reservation_is_shipped_or_released_once_and_reserved_again_only_after_release(
        fahuo_any_db, make_order):
    """reserved → released → reserved (planned again), reserved → shipped; shipped is for
    good, a reservation cannot be made twice, and a refused move writes nothing."""
    app = fahuo_any_db
    _setup(app, make_order)
    with app.uow() as u:
        u.stock.ensure_items([{"sku_code": "CUP", "warehouse": ""}])
        item = u.stock.items(["CUP"])[("CUP", "")]["id"]
        u.stock.add_reservations([{"order_id": A, "item_id": item, "quantity": 2}])
        assert list(u.moves) == [StateMove("reservation", str((A, item)), None, "reserved")]
    with pytest.raises(StaleState):  # reserved already: not reserved a second time
        with app.uow() as u:
            u.stock.add_reservations([{"order_id": A, "item_id": item, "quantity": 5}])
    assert _reservation_state(app, item) == ("reserved", 2)
    with app.uow() as u:
        u.stock.keep_reserved([(A, item, 1)])  # shrinks, stays reserved
    assert _reservation_state(app, item) == ("reserved", 1)
    with app.uow() as u:
        u.stock.keep_reserved([(A, item, 0)])  # nothing kept: released
        u.stock.add_reservations([{"order_id": A, "item_id": item, "quantity": 3}])
        assert [(mv.current, mv.target) for mv in u.moves] == [
            ("reserved", "released"), ("released", "reserved")]
    with pytest.raises(IllegalTransition, match="reservation .*unknown state"):
        with app.uow() as u:
            u.stock.settle_reservations([(A, item)], "gone")
    with app.uow() as u:
        u.stock.settle_reservations([(A, item)], "shipped")
    assert _reservation_state(app, item) == ("shipped", 3)
    for act in (lambda u: u.stock.settle_reservations([(A, item)], "released"),
                lambda u: u.stock.add_reservations([{"order_id": A, "item_id": item,
                                                     "quantity": 1}])):
        with pytest.raises(StaleState):  # shipped is for good
            with app.uow() as u:
                act(u)
    assert _reservation_state(app, item) == ("shipped", 3)


def test_a_ship_job_runs_once_and_each_pending_row_settles_once(fahuo_any_db, make_order):
    app = fahuo_any_db
    _setup(app, make_order)
    with pytest.raises(IllegalTransition, match="ship_job .*: cannot move from \\(new\\) to "
                                                "done"):
        with app.uow() as u:
            u.pipeline.add_job(kind="batch", status="done", source="t", total=0)
    with app.uow() as u:
        job = u.pipeline.add_job(kind="batch", status="running", source="t", total=2)
        u.pipeline.add_job_items(job, [{"line_no": 1, "order_id": A, "status": "pending"},
                                       {"line_no": 2, "order_id": B, "status": "invalid"}])
    with pytest.raises(IllegalTransition, match="ship_job_item .*: cannot move from pending "
                                                "to skipped"):
        with app.uow() as u:
            u.pipeline.settle_job_item(job, 1, "skipped")
    with pytest.raises(StaleState):  # an invalid row is never shipped later
        with app.uow() as u:
            u.pipeline.settle_job_item(job, 2, "shipped")
    with app.uow() as u:
        u.pipeline.settle_job_item(job, 1, "failed", "平台拒绝")
        u.pipeline.finish_job(job, ok=0, failed=1)
    with pytest.raises(StaleState):  # done once: a second finish is refused
        with app.uow() as u:
            u.pipeline.finish_job(job, ok=5, failed=0)
    with app.uow(readonly=True) as u:
        got = u.pipeline.job(job)
    assert got is not None
    assert (got["status"], got["ok"], got["failed"]) == ("done", 0, 1)
    assert [(i["status"], i["message"]) for i in got["items"]] == [("failed", "平台拒绝"),
                                                                   ("invalid", "")]


def test_a_batch_of_rows_with_and_without_a_number_is_recorded(fahuo_any_db, make_order):
    """批量发货 of a numbered order and one without a number: one job, both rows kept (the
    rows differ in which fields they carry)."""
    app = fahuo_any_db
    _setup(app, make_order)
    with app.uow() as u:
        job = u.pipeline.add_job(kind="batch", status="running", source="selection", total=2)
        u.pipeline.add_job_items(job, [
            {"line_no": 1, "order_id": A, "status": "pending", "courier_code": "zhongtong",
             "track_no": "7800000000002", "message": ""},
            {"line_no": 2, "order_id": B, "status": "invalid", "message": "没有运单号"}])
    with app.uow(readonly=True) as u:
        got = u.pipeline.job(job)
    assert got is not None
    assert [(i["order_id"], i["track_no"], i["status"]) for i in got["items"]] == [
        (A, "7800000000002", "pending"), (B, "", "invalid")]
