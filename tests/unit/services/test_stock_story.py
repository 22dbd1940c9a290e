"""Issue 11, must show: random days of orders, bundle orders, refunds (whole and partial, before
and after shipping), returns, receipts, counts, printing, unpacking and releases by hand,
driven through the real services (store, pipeline, after-sale sync, stock sync) on SQLite with
a fake platform (``fakes.FakeShop``). After every step the ledger holds: on hand, reserved and
damaged are what the journal sums to, nothing is negative, reserved never passes on hand, live
reservations add up to what is reserved, no order got back more than it sent, and the shop
was told what the rule says for plain SKUs. No pass raises. At the end, after the pipeline
ran dry, every order shipped, is closed, or is held with a reason.

Bundles are pushed by another change (issue 11 C): here only plain SKUs' pushed quantities
are checked; bundle orders reserve and ship their parts.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule,
)

from fakes import FakeShop
from labels_support import component_reports_printed
from support import make_fahuo, order_payload

from fahuo.domain.orders import SENT
from fahuo.domain.stock import Level, SyncRule, pushed_quantity
from fahuo.bootstrap import sync_after_sales
from fahuo.services.aftersales import LAG_S, AfterSaleError, receive_return
from fahuo.services.orders import store_platform_orders
from fahuo.services.shipping import Pipeline
from fahuo.services.reservations import ReservationError, release_by_hand, reserved_view, unpack
from fahuo.services.settings import refresh_from_platform, update_settings
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.bundles import set_bundle
from fahuo.services.stock.lines import StockInputError, StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock_sync import sync_stock

PARTS = ("CUP-A", "LID", "TEE")
BUNDLE = "SET"
BUNDLE_PARTS = {"CUP-A": 2, "LID": 1}
WAITING = {"synced", "held", "approved", "waybill_taken", "printed"}
SKU_ID = {"CUP-A": "1700000000001", "LID": "1700000000002", "TEE": "1700000000003",
          "SET": "1700000000004"}
PRODUCT = "3600000000000000001"
# Orders that left, whatever their parcel did since (a received return moves one to returned).
SHIPPED = {s.value for s in SENT}
CLOSED = {"cancelled", "refunded"}

lines_st = st.lists(st.tuples(st.sampled_from(PARTS + (BUNDLE,)), st.integers(1, 3)),
                    min_size=1, max_size=2, unique_by=lambda t: t[0])


class StockStory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="fahuo-story-"))
        self.app = make_fahuo(self.dir)
        self.shop = FakeShop()
        self.platform_for = lambda _shop: self.shop
        with self.app.uow() as u:
            self.ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                           app_secret="s", gateway_url="http://127.0.0.1:1"))
        refresh_from_platform(self.app.uow, self.platform_for, self.ref)
        update_settings(self.app.uow, self.ref, {
            "confirm_mode": "on_print", "default_courier": "zhongtong",
            "sender_name": "王仓管", "sender_phone": "13800000000",
            "audit_rules": {"hold_on_buyer_remark": False, "hold_on_seller_remark": False,
                            "hold_presale": False}}, actor="t")
        set_bundle(self.app.uow, BUNDLE, BUNDLE_PARTS, actor="t")
        self.pipe = Pipeline(self.app.uow, self.platform_for)
        self.orders: dict[str, dict] = {}  # order id → the platform's payload, as it is now
        self.case_of: dict[str, str] = {}  # sku_order_id → its after-sale case
        self.clock = int(time.time())
        self.n = 0

    def teardown(self) -> None:
        try:
            self._drain()
        finally:
            self.app.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the platform side ----------------------------------------------------------------
    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def _store(self, payload: dict) -> None:
        payload["update_time"] = self._tick()
        with self.app.uow() as u:
            store_platform_orders(u, self.ref, [payload])

    def _sync_cases(self) -> None:
        sync_after_sales(self.app.uow, self.platform_for, self.ref, now=self.clock + LAG_S + 1)

    def _case(self, payload: dict, sub: dict, a_type: int, status: int, units: int) -> str:
        aid = str(7200000000000000000 + len(self.shop.cases) + 1)
        shipped = payload["order_id"] in self.shop.orders
        self.shop.cases[aid] = {
            "aftersale_info": {"aftersale_id": aid, "aftersale_type": a_type,
                               "aftersale_status": status,
                               "refund_status": 3 if status == 12 else 1,
                               "update_time": self._tick(), "aftersale_num": units,
                               "refund_amount": 100, "apply_time": self.clock},
            "order_info": {"shop_order_id": payload["order_id"], "related_order_info": [{
                "sku_order_id": sub["order_id"], "item_num": sub["item_num"],
                "aftersale_item_num": units, "order_status": 3 if shipped else 2}]}}
        self.case_of[sub["order_id"]] = aid
        self._mirror(payload, sub, aid)
        return aid

    def _mirror(self, payload: dict, sub: dict, aid: str) -> None:
        """The platform shows a case's state on its order line and moves the order on."""
        info = self.shop.cases[aid]["aftersale_info"]
        sub["after_sale_info"] = {"after_sale_status": info["aftersale_status"],
                                  "after_sale_type": info["aftersale_type"],
                                  "refund_status": info["refund_status"]}
        self._store(payload)
        self._sync_cases()

    # ---- rules ----------------------------------------------------------------------------
    @initialize(orders=st.lists(lines_st, min_size=2, max_size=6), stock=st.integers(0, 12))
    def a_morning(self, orders, stock) -> None:
        """The day starts with a few orders in and some stock on the shelf."""
        if stock:
            move_stock(self.app.uow, "receive", [StockLine(c, stock, new=True) for c in PARTS],
                       actor="t")
        for lines in orders:
            self.new_order(lines)

    @rule()
    def a_pass_and_printing(self) -> None:
        """What the packing room does all day: a pass, the labels, a pass that confirms."""
        self.pipeline_pass()
        self.print_waiting()
        self.pipeline_pass()

    @rule(lines=lines_st)
    def new_order(self, lines) -> None:
        self.n += 1
        oid = str(6900000000000000000 + self.n * 100)
        payload = order_payload(oid, self._tick(), lines=len(lines))
        for sub, (code, qty) in zip(payload["sku_order_list"], lines):
            sub.update(code=code, item_num=qty, sku_id=SKU_ID[code], product_id=PRODUCT,
                       product_id_str=PRODUCT)
        self.orders[oid] = payload
        self._store(payload)

    @rule(code=st.sampled_from(PARTS), qty=st.integers(1, 8))
    def receive(self, code, qty) -> None:
        move_stock(self.app.uow, "receive", [StockLine(code, qty, new=True)], actor="t")

    @rule(code=st.sampled_from(PARTS), qty=st.integers(0, 12))
    def count(self, code, qty) -> None:
        try:  # a count below what is reserved is refused, whole
            move_stock(self.app.uow, "count", [StockLine(code, qty, new=True)], actor="t")
        except StockInputError:
            pass

    @rule()
    def pipeline_pass(self) -> None:
        self.pipe.run()  # never raises

    @rule()
    def print_waiting(self) -> None:
        component_reports_printed(self.app.uow)  # platform e-waybills: the component prints

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), whole=st.booleans(), agreed=st.booleans())
    def refund(self, data, whole, agreed) -> None:
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        payload = self.orders[oid]
        sub = data.draw(st.sampled_from(payload["sku_order_list"]))
        if sub["order_id"] in self.case_of:
            return  # one case per line in this story
        units = sub["item_num"] if whole else data.draw(st.integers(1, sub["item_num"]))
        shipped = oid in self.shop.orders
        self._case(payload, sub, 1 if shipped else 2, 12 if agreed else 6, units)

    @precondition(lambda self: self.case_of)
    @rule(data=st.data(), agree=st.booleans())
    def decide(self, data, agree) -> None:
        sku_order_id = data.draw(st.sampled_from(sorted(self.case_of)))
        aid = self.case_of[sku_order_id]
        info = self.shop.cases[aid]["aftersale_info"]
        if info["aftersale_status"] != 6:
            return
        info.update(aftersale_status=12 if agree else 28, refund_status=3 if agree else 4,
                    update_time=self._tick())
        payload = self.orders[self.shop.cases[aid]["order_info"]["shop_order_id"]]
        sub = next(s for s in payload["sku_order_list"] if s["order_id"] == sku_order_id)
        self._mirror(payload, sub, aid)

    @precondition(lambda self: self.shop.orders)
    @rule(data=st.data(), good=st.integers(0, 4), damaged=st.integers(0, 2))
    def a_return(self, data, good, damaged) -> None:
        """The buyer of a shipped order sends goods back (退货退款) and they are received:
        any figures, the service must refuse what the order did not send."""
        oid = data.draw(st.sampled_from(sorted(self.shop.orders)))
        payload = self.orders[oid]
        sub = data.draw(st.sampled_from(payload["sku_order_list"]))
        aid = self.case_of.get(sub["order_id"]) or self._case(
            payload, sub, 0, 7, sub["item_num"])
        code = data.draw(st.sampled_from([sub["code"], *(("CUP-A", "LID")
                                                          if sub["code"] == BUNDLE else ())]))
        try:
            receive_return(self.app.uow, aid, good={code: good}, damaged={code: damaged},
                           actor="t")
        except AfterSaleError:
            pass

    @rule(data=st.data(), by_pack=st.booleans())
    def unpack_a_box(self, data, by_pack) -> None:
        boxes = reserved_view(self.app.uow)["boxes"]
        if not boxes:
            return
        b = data.draw(st.sampled_from(boxes))
        try:
            unpack(self.app.uow, pack_id=b["id"] if by_pack or not b["track_no"] else None,
                   track_no=None if by_pack or not b["track_no"] else b["track_no"],
                   actor="t", note="放回")
        except ReservationError:
            pass

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def release_by_hand(self, data) -> None:
        oid = data.draw(st.sampled_from(sorted(self.orders)))
        try:
            release_by_hand(self.app.uow, oid, note="人工核对", actor="t")
        except ReservationError:
            pass

    def _sold_unreserved(self) -> dict[str, int]:
        """Units of parts sold to orders still to ship that hold no reservation (waiting for
        the audit, held, short of stock, released by hand): gone already for the shop."""
        with self.app.uow() as u:
            states = u.pipeline.order_states(sorted(self.orders))
            holding = {r["order_id"] for r in u.stock.reservations(
                sorted(self.orders), ("reserved", "shipped"))}
        sold: dict[str, int] = {}
        for oid, payload in self.orders.items():
            if states[oid] not in WAITING or oid in holding:
                continue
            for sub in payload["sku_order_list"]:
                units = sub["item_num"] - self._refunded(sub["order_id"])
                for part, each in (BUNDLE_PARTS if sub["code"] == BUNDLE
                                   else {sub["code"]: 1}).items():
                    sold[part] = sold.get(part, 0) + each * max(0, units)
        return sold

    def _refunded(self, sku_order_id: str) -> int:
        """Units of a line refunded before it left (an agreed 未发货仅退款 case)."""
        aid = self.case_of.get(sku_order_id)
        info = self.shop.cases[aid]["aftersale_info"] if aid else {}
        return (info["aftersale_num"] if info.get("aftersale_type") == 2
                and info.get("aftersale_status") == 12 else 0)

    @rule()
    def push_to_shop(self) -> None:
        sync_stock(self.app.uow, self.platform_for, full=True)
        sold = self._sold_unreserved()
        with self.app.uow() as u:
            _, rows = u.stock.levels(limit=100)
        for r in rows:
            if r["sku_code"] in PARTS and SKU_ID[r["sku_code"]] in self.shop.pushed:
                promised = min(r["on_hand"], r["reserved"] + sold.get(r["sku_code"], 0))
                level = Level(r["on_hand"], promised, r["damaged"], r["safety"])
                assert self.shop.pushed[SKU_ID[r["sku_code"]]] == pushed_quantity(
                    level, SyncRule.from_dict(r["sync_rule"])), (r, sold)

    # ---- what always holds ----------------------------------------------------------------
    @invariant()
    def ledger_is_the_journal(self) -> None:
        with self.app.uow() as u:
            _, rows = u.stock.levels(limit=100)
            sums = u.stock.journal_sums()
            live = u.stock.live_reservations(limit=100_000)
            returns = [j for j in u.stock.journal(limit=100_000) if j["ref_type"] == "return"]
            cases = {c: u.aftersales.case(c) for c in {j["ref_id"] for j in returns}}
        reserved: dict[int, int] = {}
        for r in live:
            assert r["quantity"] > 0
            reserved[r["item_id"]] = reserved.get(r["item_id"], 0) + r["quantity"]
        for r in rows:
            assert (r["on_hand"], r["reserved"], r["damaged"]) == sums.get(r["id"], (0, 0, 0))
            assert r["on_hand"] >= 0 and r["damaged"] >= 0
            assert 0 <= r["reserved"] <= r["on_hand"]
            assert reserved.get(r["id"], 0) == r["reserved"]
        back: dict[tuple[str, str], int] = {}
        for j in returns:
            key = (cases[j["ref_id"]]["order_id"], j["sku_code"])
            back[key] = back.get(key, 0) + j["on_hand"] + j["damaged"]
        for (oid, code), n in back.items():  # a return cannot invent stock
            assert n <= self._sent(oid).get(code, 0), (oid, code, n, self._sent(oid))

    def _sent(self, oid: str) -> dict[str, int]:
        """Parts an order shipped: every line less what was refunded before it left."""
        if oid not in self.shop.orders:
            return {}
        out: dict[str, int] = {}
        for sub in self.orders[oid]["sku_order_list"]:
            units = max(0, sub["item_num"] - self._refunded(sub["order_id"]))
            for part, each in (BUNDLE_PARTS if sub["code"] == BUNDLE
                               else {sub["code"]: 1}).items():
                out[part] = out.get(part, 0) + each * units
        return out

    @invariant()
    def reservations_follow_the_lines(self) -> None:
        """An order that never left holds no more of a part than its lines still send (none
        once it is closed), unless the goods sit in one of its printed, unopened parcels."""
        view = reserved_view(self.app.uow)
        with self.app.uow() as u:  # orders with a printed parcel that neither left nor
            # was unpacked: its goods are in the box
            packs = u.pipeline.packs_of_orders([o["order_id"] for o in view["orders"]])
            printed = u.prints.printed_before([p["id"] for p in packs], "labels")
            lines = u.pipeline.lines([p["id"] for p in packs])
        boxed = {ln["order_id"] for p in packs if p["id"] in printed
                 and p["state"] != "confirmed" and not p["unpacked_at"]
                 for ln in lines[p["id"]]}
        for o in view["orders"]:
            oid = o["order_id"]
            if oid in boxed or oid in self.shop.orders or o["state"] in SHIPPED:
                continue
            need: dict[str, int] = {}
            if o["state"] not in CLOSED:
                for sub in self.orders[oid]["sku_order_list"]:
                    units = max(0, sub["item_num"] - self._refunded(sub["order_id"]))
                    for part, each in (BUNDLE_PARTS if sub["code"] == BUNDLE
                                       else {sub["code"]: 1}).items():
                        need[part] = need.get(part, 0) + each * units
            for ln in o["lines"]:
                assert ln["quantity"] <= need.get(ln["sku_code"], 0), (oid, o, need)

    # ---- the end ----------------------------------------------------------------------------
    def _drain(self) -> None:
        for _ in range(4):
            self.pipe.run()
            component_reports_printed(self.app.uow)  # platform e-waybills: the component prints
        self.pipe.run()
        with self.app.uow() as u:
            states = u.pipeline.order_states(sorted(self.orders))
            holds = u.pipeline.open_holds(sorted(self.orders))
        for oid, st_ in states.items():
            assert st_ in SHIPPED | CLOSED or (st_ == "held" and holds.get(oid)), (oid, st_)
        self.ledger_is_the_journal()


StockStory.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_stock_story = StockStory.TestCase


def test_the_story_ships_and_refunds_for_real():
    """The story's platform really ships and its refunds really reach the stock (so the
    random runs above are not vacuous): two orders ship; a third, refunded one unit of
    three after its number was taken, ships two, the third unit back on the shelf."""
    s = StockStory()
    try:
        s.a_morning(orders=[[("TEE", 1)], [(BUNDLE, 1)]], stock=6)
        s.a_pass_and_printing()
        with s.app.uow() as u:
            assert set(u.pipeline.order_states(sorted(s.orders)).values()) == {"shipped"}
        s.new_order([("TEE", 3)])
        oid = max(s.orders)
        s.pipeline_pass()  # reserved, number taken, not printed yet
        sub = s.orders[oid]["sku_order_list"][0]
        s._case(s.orders[oid], sub, 2, 12, 1)
        with s.app.uow() as u:
            (res,) = u.stock.reservations([oid], ("reserved",))
        assert res["quantity"] == 2
        s.a_pass_and_printing()
        s.a_pass_and_printing()
        with s.app.uow() as u:
            assert u.pipeline.order_states([oid])[oid] == "shipped"
            tee = next(r for r in u.stock.levels()[1] if r["sku_code"] == "TEE")
            moves = [(j["move"], j["on_hand"], j["reserved"], j["reason"])
                     for j in u.stock.journal(ref_id=oid)]
        assert (tee["on_hand"], tee["reserved"]) == (6 - 1 - 2, 0)
        assert sorted(moves) == sorted([("reserve", 0, 3, ""), ("release", 0, -1, "退款释放"),
                                        ("ship", -2, -2, "shipped")])
        s.ledger_is_the_journal()
    finally:
        s.teardown()
