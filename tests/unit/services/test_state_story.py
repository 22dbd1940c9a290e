"""Issue 12, must show: random sequences of the real services (sync, audit, plan, waybills,
printing, scan, confirm, refunds before and after shipping, address changes, holds and
releases by hand, tracking, interception, returns) on SQLite with a fake shop
(``fakes.FakeShop``), and every state they stored is a move of its lifecycle's table.

The moves are recorded where they are written (the unit of work hands each committed unit's
``moves`` to ``on_commit``), not worked out again here. After every step, per row, the
recorded moves must chain (each starts where the last one ended, the first creates the row
in one of the lifecycle's initial states) and end in the state the row has in the store: a
write that went around the lifecycle would break the chain or leave the store elsewhere.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from fakes import FakeShop
from labels_support import component_reports_printed
from support import make_fahuo, order_payload

from fahuo.adapters.store import models as m
from fahuo.adapters.store.unit_of_work import UnitOfWorkFactory
from fahuo.domain.aftersales import INTERCEPT
from fahuo.domain.jobs import JOB, JOB_ITEM
from fahuo.domain.reservations import RESERVATION
from fahuo.domain.waybills import WAYBILL
from fahuo.domain.lifecycle import Lifecycle, StateMove
from fahuo.domain.orders import ORDER
from fahuo.domain.packs import PACK
from fahuo.adapters.carriers.registry import CarrierRegistry
from fahuo.bootstrap import follow_intercepts, intercept, sync_after_sales
from fahuo.services.aftersales import LAG_S, AfterSaleError, receive_return
from fahuo.services.holds import hold_orders, release_orders
from fahuo.services.manual_ship import ship_selected
from fahuo.services.reservations import ReservationError, release_by_hand
from fahuo.services.orders import store_platform_orders
from fahuo.services.shipping import Pipeline
from fahuo.services.scan import scan
from fahuo.services.settings import refresh_from_platform, update_settings
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.tracking import Tracking

LIFECYCLES: dict[str, Lifecycle] = {"order": ORDER, "pack": PACK, "interception": INTERCEPT,
                                    "waybill": WAYBILL, "reservation": RESERVATION,
                                    "ship_job": JOB, "ship_job_item": JOB_ITEM}
# where a row starts before its first recorded move: a case has no interception (""), a
# number is taken live; orders and packs record their creation (None)
BORN = {"interception": "", "waybill": "live"}
CODES = ("CUP", "TEE")
SKU_ID = {"CUP": "1700000000001", "TEE": "1700000000002"}
PRODUCT = "3600000000000000001"
# Douyin route node states (adapters/carriers/douyin/status.DOUYIN) a parcel may report.
ROUTE = ("揽收", "运输中", "派件", "签收", "退回", "退签")


class StateStory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="fahuo-states-"))
        self.app = make_fahuo(self.dir)
        self.moves: list[StateMove] = []
        self.uow = UnitOfWorkFactory(self.app.engine, self.app.box,
                                     on_commit=self.moves.extend)
        self.shop = FakeShop()
        self.platform_for = lambda _shop: self.shop
        self.pipe = Pipeline(self.uow, self.platform_for)
        self.carriers = CarrierRegistry()
        self.tracking = Tracking(self.uow, self.platform_for, carriers=self.carriers)
        self.orders: dict[str, dict] = {}  # order id → the platform's payload, as it is now
        self.cases: dict[str, str] = {}  # aftersale id → order id
        self.clock = int(time.time())
        self.n = 0

    def teardown(self) -> None:
        self.carriers.close()
        self.app.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the platform side ----------------------------------------------------------------
    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def _store(self, payload: dict) -> None:
        payload["update_time"] = self._tick()
        with self.uow() as u:
            store_platform_orders(u, self.ref, [payload])

    def _numbers(self, *, shipped: bool = False) -> list[str]:
        with self.uow(readonly=True) as u:
            return sorted(p["track_no"] for p in u.pipeline.packs_of_orders(sorted(self.orders))
                          if p["track_no"] and (p["state"] == "confirmed" or not shipped))

    # ---- rules ----------------------------------------------------------------------------
    @initialize(mode=st.sampled_from(["on_waybill", "on_print", "on_scan"]),
                orders=st.lists(st.sampled_from(CODES), min_size=1, max_size=4))
    def a_shop(self, mode, orders) -> None:
        with self.uow() as u:
            self.ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                           app_secret="s", gateway_url="http://127.0.0.1:1"))
        refresh_from_platform(self.uow, self.platform_for, self.ref)
        update_settings(self.uow, self.ref, {
            "confirm_mode": mode, "default_courier": "zhongtong",
            "sender_name": "王仓管", "sender_phone": "13800000000",
            "audit_rules": {"hold_on_buyer_remark": True, "hold_on_seller_remark": False,
                            "hold_presale": False}}, actor="t")
        move_stock(self.uow, "receive", [StockLine(c, 50, new=True) for c in CODES], actor="t")
        for code in orders:
            self.sync(code, remark=False)

    @precondition(lambda self: len(self.orders) < 8)  # a few orders, taken far
    @rule(code=st.sampled_from(CODES), remark=st.booleans())
    def sync(self, code, remark) -> None:
        """A new order comes in (a buyer's remark holds it at the audit)."""
        self.n += 1
        oid = str(6900000000000000000 + self.n * 100)
        payload = order_payload(oid, self._tick(), buyer_words="请尽快" if remark else "")
        sub = payload["sku_order_list"][0]
        sub.update(code=code, item_num=1, sku_id=SKU_ID[code], product_id=PRODUCT,
                   product_id_str=PRODUCT)
        payload["sku_order_list"] = [sub]
        self.orders[oid] = payload
        self._store(payload)

    @rule()
    def audit(self) -> None:
        self.pipe.audit_new()

    @rule()
    def plan(self) -> None:
        self.pipe.plan()

    @rule()
    def waybills(self) -> None:
        self.pipe.take_waybills()

    @rule()
    def print_labels(self) -> None:
        component_reports_printed(self.uow)  # platform e-waybills: the component prints

    @rule(data=st.data())
    def scan(self, data) -> None:
        numbers = self._numbers()
        if numbers:
            scan(self.uow, self.platform_for, data.draw(st.sampled_from(numbers)))

    @rule()
    def confirm(self) -> None:
        self.pipe.confirm()

    @rule()
    def a_pass(self) -> None:
        self.pipe.run()

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), agreed=st.booleans())
    def refund(self, data, agreed) -> None:
        """The buyer asks for the money back: before shipping (the pipeline stops it) or
        after (fahuo offers to intercept the parcel); agreed at once or still open."""
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        if oid in self.cases.values():
            return  # one case per order in this story
        payload = self.orders[oid]
        sub = payload["sku_order_list"][0]
        shipped = oid in self.shop.orders
        aid = str(7200000000000000000 + len(self.cases) + 1)
        status = 12 if agreed else 6
        self.shop.cases[aid] = {
            "aftersale_info": {"aftersale_id": aid, "aftersale_type": 1 if shipped else 2,
                               "aftersale_status": status,
                               "refund_status": 3 if agreed else 1,
                               "update_time": self._tick(), "aftersale_num": 1,
                               "refund_amount": 100, "apply_time": self.clock},
            "order_info": {"shop_order_id": oid, "related_order_info": [{
                "sku_order_id": sub["order_id"], "item_num": 1, "aftersale_item_num": 1,
                "order_status": 3 if shipped else 2}]}}
        self.cases[aid] = oid
        sub["after_sale_info"] = {"after_sale_status": status,
                                  "after_sale_type": 1 if shipped else 2,
                                  "refund_status": 3 if agreed else 1}
        if agreed and not shipped:
            payload["order_status"] = payload["main_status"] = 4
            sub["order_status"] = 4
        self._store(payload)
        self._sync_cases()

    def _sync_cases(self) -> None:
        sync_after_sales(self.uow, self.platform_for, self.ref, now=self.clock + LAG_S + 1)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def address_changed(self, data) -> None:
        """The buyer moves (push 105): a label for the old address must not ship."""
        payload = self.orders[data.draw(st.sampled_from(sorted(self.orders)))]
        payload["encrypt_post_receiver"] = f"##E{self._tick()}#1##"
        self._store(payload)

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), release=st.booleans())
    def a_person(self, data, release) -> None:
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        if release:
            release_orders(self.uow, [oid], actor="t", note="看过了")
        else:
            hold_orders(self.uow, [oid], note="等买家回复", actor="t")

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def batch_ship(self, data) -> None:
        """批量发货 of a few orders (a job, its rows pending, then shipped or failed)."""
        ship_selected(self.uow, self.platform_for,
                      data.draw(st.lists(st.sampled_from(sorted(self.orders)), min_size=1,
                                         max_size=3, unique=True)), actor="t")

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def release_stock(self, data) -> None:
        """A person gives an order's reserved stock back by hand (refused once numbered)."""
        try:
            release_by_hand(self.uow, data.draw(st.sampled_from(sorted(self.orders))),
                            note="盘点发现", actor="t")
        except ReservationError:
            pass  # nothing reserved, or a parcel with a number still goes out

    @rule(data=st.data(), step=st.sampled_from(ROUTE))
    def track(self, data, step) -> None:
        """A parcel moves on (or is turned round); tracking and the interceptions follow."""
        numbers = self._numbers(shipped=True)
        if numbers:
            no = data.draw(st.sampled_from(numbers))
            route = self.shop.routes.setdefault(no, [])
            route.append({"at": self._tick(), "state": step, "description": step,
                          "location": "杭州", "state_description": ""})
        self.tracking.start()
        self.tracking.poll(track_nos=numbers or None)
        follow_intercepts(self.uow, self.ref)

    @precondition(lambda self: self.cases)
    @rule(data=st.data())
    def ask_to_intercept(self, data) -> None:
        aid = data.draw(st.sampled_from(sorted(self.cases)))
        try:
            intercept(self.uow, self.platform_for, aid, actor="t", via="douyin")
        except AfterSaleError:
            pass  # not shipped, asked already, nothing in fahuo to stop

    @precondition(lambda self: self.cases)
    @rule(data=st.data(), good=st.integers(0, 1))
    def a_return(self, data, good) -> None:
        aid = data.draw(st.sampled_from(sorted(self.cases)))
        code = self.orders[self.cases[aid]]["sku_order_list"][0]["code"]
        try:
            receive_return(self.uow, aid, good={code: good}, damaged={code: 1 - good},
                           actor="t")
        except AfterSaleError:
            pass  # nothing came back for this case

    # ---- what always holds ----------------------------------------------------------------
    @invariant()
    def every_stored_state_is_a_chain_of_legal_moves(self) -> None:
        if not hasattr(self, "ref"):
            return
        with self.uow(readonly=True) as u:
            stored = {
                "order": dict(u.conn.execute(select(m.orders.c.order_id,
                                                    m.orders.c.state)).all()),
                "pack": {str(k): v for k, v in u.conn.execute(
                    select(m.packs.c.id, m.packs.c.state)).all()},
                "interception": dict(u.conn.execute(select(
                    m.after_sales.c.aftersale_id, m.after_sales.c.intercept_state)).all()),
                "waybill": {str((c, no)): v for c, no, v in u.conn.execute(select(
                    m.waybills.c.courier_code, m.waybills.c.track_no,
                    m.waybills.c.status)).all()},
                "reservation": {str((o, i)): v for o, i, v in u.conn.execute(select(
                    m.stock_reservations.c.order_id, m.stock_reservations.c.item_id,
                    m.stock_reservations.c.state)).all()},
                "ship_job": {str(k): v for k, v in u.conn.execute(
                    select(m.ship_jobs.c.id, m.ship_jobs.c.status)).all()},
                "ship_job_item": {str((j, n)): v for j, n, v in u.conn.execute(select(
                    m.ship_job_items.c.job_id, m.ship_job_items.c.line_no,
                    m.ship_job_items.c.status)).all()}}
        last: dict[tuple[str, str], str | None] = {}
        for mv in self.moves:
            lc = LIFECYCLES[mv.kind]
            key = (mv.kind, mv.subject)
            before = last.get(key, BORN.get(mv.kind))
            assert mv.current == before, (mv, before)
            if mv.current is None:
                assert mv.target in lc.initial, mv
            else:
                assert lc.can_move(mv.current, mv.target), mv
            last[key] = mv.target
        for kind, rows in stored.items():
            for subject, state in rows.items():
                start = BORN.get(kind)
                assert last.get((kind, str(subject)), start) == state, (kind, subject, state)


StateStory.TestCase.settings = settings(
    max_examples=20, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_state_story = StateStory.TestCase


def test_the_story_reaches_every_order_state_it_claims():
    """Not vacuous: one order through the whole life the story drives — shipped, in
    transit, delivered and, after a return-refund case, returned; a second shipped order
    refunded after shipping, intercepted and turned round — each move recorded in order."""
    s = StateStory()
    try:
        s.a_shop(mode="on_waybill", orders=["CUP", "TEE"])
        s.a_pass()
        first, second = sorted(s.orders)
        with s.uow(readonly=True) as u:
            assert u.pipeline.order_states([first, second]) == {first: "shipped",
                                                                second: "shipped"}
            numbers = {p["main_order_id"]: p["track_no"]
                       for p in u.pipeline.packs_of_orders([first, second])}
        s.tracking.start()
        for step in ("揽收", "签收"):
            s.shop.routes.setdefault(numbers[first], []).append(
                {"at": s._tick(), "state": step, "description": step, "location": "杭州",
                 "state_description": ""})
            s.tracking.poll(track_nos=[numbers[first]])
        s.refund(st_data([second]), agreed=False)
        (aid,) = [a for a, o in s.cases.items() if o == second]
        assert intercept(s.uow, s.platform_for, aid, actor="t",
                         via="douyin")["intercept_state"] == "requested"
        s.shop.routes[numbers[second]] = [{"at": s._tick(), "state": "退回", "description": "",
                                           "location": "", "state_description": ""}]
        s.tracking.poll(track_nos=[numbers[second]])
        follow_intercepts(s.uow, s.ref)
        s.every_stored_state_is_a_chain_of_legal_moves()
        trail = {oid: [(mv.current, mv.target) for mv in s.moves
                       if mv.kind == "order" and mv.subject == oid] for oid in (first, second)}
        assert trail[first] == [(None, "synced"), ("synced", "approved"),
                                ("approved", "waybill_taken"), ("waybill_taken", "shipped"),
                                ("shipped", "in_transit"), ("in_transit", "delivered")]
        # the courier turned it round: in its hands (in transit), then intercepted
        assert trail[second][-3:] == [("waybill_taken", "shipped"), ("shipped", "in_transit"),
                                      ("in_transit", "intercepted")]
        s.shop.routes[numbers[second]].append({"at": s._tick(), "state": "退签",
                                               "description": "", "location": "",
                                               "state_description": ""})
        s.tracking.poll(track_nos=[numbers[second]])
        follow_intercepts(s.uow, s.ref)
        got = receive_return(s.uow, aid, good={"TEE": 1}, damaged={}, actor="t")
        assert got["good"] == {"TEE": 1}
        with s.uow(readonly=True) as u:
            assert u.pipeline.order_states([second])[second] == "returned"
        s.every_stored_state_is_a_chain_of_legal_moves()
    finally:
        s.teardown()


def st_data(values):
    """A stand-in for hypothesis' ``data()`` that draws the given values in turn."""
    class _Data:
        def __init__(self) -> None:
            self.left = list(values)

        def draw(self, _strategy):
            return self.left.pop(0)
    return _Data()
