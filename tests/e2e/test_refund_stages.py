"""A refund can arrive at any moment. Before the parcel leaves it is never shipped (numbers not
printed are given back; a printed parcel is refused at the scanner); after, an interception is
offered."""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict

import pytest

from fahuo.bootstrap import intercept, sync_after_sales
from fahuo.services.aftersales import LAG_S, list_cases
from fahuo.services.shipping import Pipeline
from fahuo.services.scan import scan
from fahuo.services.settings import update_settings
from labels_support import print_by_component
from support import ready_to_ship

STAGES = ["synced", "approved", "waybill_taken", "printed", "scanned", "shipped"]


def _sync(fahuo, ref):
    time.sleep(1.05)
    with fahuo.uow() as uow:
        shop = uow.shops.get(ref)
    # no lag, so the refund just made is seen now (the default waits 3 s)
    fahuo.order_sync.policy = dataclasses.replace(fahuo.order_sync.policy, lag_s=0)
    return fahuo.order_sync.run(ref, fahuo.platform_for(shop))


def _refund(sandbox, order_id):
    r = sandbox.http.post("/sandbox/orders/refund", json={"order_id": order_id})
    assert r.status_code == 200, r.text
    return r.json()


def _shipped(sandbox, shop_id):
    r = sandbox.http.get("/sandbox/shipments", params={"shop_id": shop_id})
    return {o for s in r.json() for o in s["order_ids"]}


@pytest.mark.parametrize("stage", STAGES)
def test_a_refund_at_each_stage(fahuo, sandbox, tmp_path, stage):
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_scan", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="t")
    sandbox.generate(creds["shop_id"], 8, seed=70 + STAGES.index(stage), spread_seconds=600)
    _sync(fahuo, ref)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
    oid = next(r["order_id"] for r in rows if r["order_status"] == 2 and not r["buyer_words"])
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)

    def pack():
        with fahuo.uow() as uow:
            live = [p for p in uow.pipeline.packs_of_orders([oid])
                    if p["state"] not in ("cancelled",)]
        return live[0] if live else None

    if stage != "synced":
        pipe.audit_new()
    if stage in ("waybill_taken", "printed", "scanned", "shipped"):
        pipe.plan()
        pipe.take_waybills()
        assert pack()["state"] == "waybill_taken"
    if stage in ("printed", "scanned", "shipped"):
        print_by_component(fahuo, [pack()["id"]])
    if stage == "shipped":
        assert scan(fahuo.uow, fahuo.platform_for, pack()["track_no"]).verdict == "shipped"
    number = pack()["track_no"] if pack() else None

    _refund(sandbox, oid)
    _sync(fahuo, ref)

    if stage == "scanned":  # the refund arrived while the parcel was on the packing table
        res = scan(fahuo.uow, fahuo.platform_for, number)
        assert res.verdict == "intercepted" and "不要发货" in res.message
    pipe.run()
    pipe.run()

    if stage == "shipped":
        # the case list, like the order list, stops short of "now": read a little ahead
        sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + LAG_S + 2)
        cases = [c for c in list_cases(fahuo.uow, status="all") if c["order_id"] == oid]
        assert cases  # one per refunded line
        assert all(c["stage"] == "after_ship" and c["intercept_state"] == "offered"
                   for c in cases)
        done = intercept(fahuo.uow, fahuo.platform_for, cases[0]["aftersale_id"], actor="t")
        assert done["intercept_state"] == "requested"
        return
    assert oid not in _shipped(sandbox, creds["shop_id"])  # never shipped after the refund
    with fahuo.uow() as uow:
        state = uow.pipeline.order_states([oid])[oid]
        holds = uow.pipeline.open_holds([oid])[oid]
        waybills = {w["track_no"]: w for w in sandbox.http.get(
            "/sandbox/waybills", params={"shop_id": creds["shop_id"]}).json()}
    assert state == "held" and any(h["reason"] == "after_sale_open" for h in holds)
    if stage == "waybill_taken":  # not printed: the number went back to the courier
        assert waybills[number]["status"] in ("cancelled", "recycled")
    if stage in ("printed", "scanned"):  # printed: the label stays, the scanner refuses it
        assert scan(fahuo.uow, fahuo.platform_for, number).verdict == "intercepted"


def _agree(sandbox, case):
    """The merchant agrees a refund before shipment: 售后成功, money back (12 / refund 3)."""
    r = sandbox.http.post(f"/sandbox/aftersales/{case['aftersale_id']}/status",
                          json={"aftersale_status": 12})
    assert r.status_code == 200, r.text


def _sync_until(fahuo, ref, oid, status):
    """Sync until every line of ``oid`` shows after-sale ``status`` in fahuo: each change
    moves the order's update_time a second on, so it may be ahead of the sync window."""
    for _ in range(8):
        _sync(fahuo, ref)
        with fahuo.uow() as uow:
            if all(ln.after_sale_status == status
                   for ln in uow.pipeline.stock_lines([oid])[oid][1]):
                return
    raise AssertionError(f"after-sale {status} of {oid} never reached fahuo")


def _sync_until_a_line_refunded(fahuo, ref, oid):
    """Sync until fahuo shows a line of ``oid`` refunded (12): each change moves update_time
    on, so it may be ahead of one window."""
    for _ in range(8):
        _sync(fahuo, ref)
        with fahuo.uow() as uow:
            if any(ln.after_sale_status == 12 for ln in uow.pipeline.stock_lines([oid])[oid][1]):
                return
    raise AssertionError(f"no refunded line of {oid} reached fahuo")


def _shop_with_orders(fahuo, sandbox, seed):
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    # on_waybill, chosen explicitly: a pass ships what it packs (no printing in these tests)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_waybill", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="t")
    sandbox.generate(creds["shop_id"], 12, seed=seed, spread_seconds=600)
    _sync(fahuo, ref)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
    paid = sorted(r["order_id"] for r in rows if r["order_status"] == 2)
    assert len(paid) >= 4
    return ref, creds, paid


def _everything_else_shipped(fahuo, sandbox, creds, paid, refunded):
    shipped = _shipped(sandbox, creds["shop_id"])
    with fahuo.uow() as uow:
        states = uow.pipeline.order_states(paid)
        holds = uow.pipeline.open_holds(paid)
        packs = uow.pipeline.packs_of_orders([refunded])
    assert refunded not in shipped
    assert states[refunded] == "refunded" and not holds.get(refunded)
    assert not packs  # closed, never packed
    # Every other paid order left (or waits with a reason a person can read).
    others = [o for o in paid if o != refunded]
    assert all(o in shipped or (states[o] == "held" and holds.get(o)) for o in others)
    assert sum(o in shipped for o in others) >= len(others) - 2


def test_an_order_refunded_in_full_before_fahuo_saw_it_is_closed_and_the_rest_ship(
        fahuo, sandbox):
    """Issue 11 A: every line refunded and agreed before the audit saw it. It was approved and
    planned into a pack with no lines; taking numbers then raised KeyError, and every later
    pass an IntegrityError on the packs' key, so no order of the shop shipped again."""
    ref, creds, paid = _shop_with_orders(fahuo, sandbox, 81)
    with fahuo.uow() as uow:
        order = uow.pipeline.load_orders(paid)
    refunded = next(o for o in paid if not order[o][2].buyer_words)
    # stored but not judged yet: the next sync brings it in already refunded
    for case in _refund(sandbox, refunded)["aftersales"]:
        _agree(sandbox, case)
    _sync_until(fahuo, ref, refunded, 12)
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)
    pipe.run()
    pipe.run()
    _everything_else_shipped(fahuo, sandbox, creds, paid, refunded)


def test_a_refund_completed_while_held_for_after_sale_closes_the_order(fahuo, sandbox):
    """The buyer asks first (held "售后中"), the merchant agrees later: the re-audit used to
    clear the hold and approve the order, which then went the same empty-pack way."""
    ref, creds, paid = _shop_with_orders(fahuo, sandbox, 82)
    refunded = paid[0]
    cases = _refund(sandbox, refunded)["aftersales"]
    _sync_until(fahuo, ref, refunded, 6)
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)
    pipe.run()
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([refunded])[refunded] == "held"
        assert {h["reason"] for h in uow.pipeline.open_holds([refunded])[refunded]} == {
            "after_sale_open"}
    for case in cases:
        _agree(sandbox, case)
    _sync_until(fahuo, ref, refunded, 12)
    pipe.run()
    pipe.run()
    _everything_else_shipped(fahuo, sandbox, creds, paid, refunded)


@pytest.mark.parametrize("stage", ["approved", "waybill_taken"])
def test_a_refund_stopped_in_the_pipeline_and_then_agreed_closes_the_order(
        fahuo, sandbox, stage):
    """Stopped by the pipeline (held "售后中", number given back), then the refund completes:
    the order is over, not waiting for a person."""
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_scan", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="t")
    sandbox.generate(creds["shop_id"], 6, seed=83, spread_seconds=600)
    _sync(fahuo, ref)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
    oid = next(r["order_id"] for r in rows if r["order_status"] == 2)
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)
    pipe.audit_new()
    if stage == "waybill_taken":
        pipe.plan()
        pipe.take_waybills()
    cases = _refund(sandbox, oid)["aftersales"]
    _sync_until(fahuo, ref, oid, 6)
    pipe.run()
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([oid])[oid] == "held"
    for case in cases:
        _agree(sandbox, case)
    _sync_until(fahuo, ref, oid, 12)
    pipe.run()
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([oid])[oid] == "refunded"
        assert not uow.pipeline.open_holds([oid]).get(oid)
        live = [p for p in uow.pipeline.packs_of_orders([oid]) if p["state"] != "cancelled"]
    assert not live
    assert oid not in _shipped(sandbox, creds["shop_id"])


def test_a_refund_agreed_after_the_label_never_ships_an_empty_parcel(fahuo, sandbox, tmp_path):
    """Asked for and agreed between two syncs, after the label was printed: the sync sees
    售后成功 at once (never the open request that stops a parcel). The pack's lines are
    refunded, so its number goes back and the order is closed instead of confirmed."""
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_print", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="t")
    sandbox.generate(creds["shop_id"], 6, seed=84, spread_seconds=600)
    _sync(fahuo, ref)
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)
    pipe.run()
    with fahuo.uow() as uow:
        packs = uow.pipeline.packs_in_state(["waybill_taken"], limit=100)
    assert len(packs) >= 2
    oid = packs[0]["main_order_id"]
    for case in _refund(sandbox, oid)["aftersales"]:
        _agree(sandbox, case)
    _sync_until_a_line_refunded(fahuo, ref, oid)
    print_by_component(fahuo, [p["id"] for p in packs])
    pipe.run()
    pipe.run()
    shipped = _shipped(sandbox, creds["shop_id"])
    assert oid not in shipped
    assert {p["main_order_id"] for p in packs[1:]} <= shipped  # the other labels shipped
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([oid])[oid] == "refunded"
        live = [p for p in uow.pipeline.packs_of_orders([oid]) if p["state"] != "cancelled"]
    assert not live
    waybills = {w["track_no"]: w for w in sandbox.http.get(
        "/sandbox/waybills", params={"shop_id": creds["shop_id"]}).json()}
    assert waybills[packs[0]["track_no"]]["status"] in ("cancelled", "recycled")


def test_refunds_agreed_after_the_last_sync_void_the_labels_and_the_rest_ships(
        fahuo, sandbox, tmp_path):
    """Found by tests/e2e/test_crash_anywhere.py: refunds agreed after fahuo's last sync, just
    before the parcels are confirmed, of one line of a split order and of a whole order. The
    platform refuses to ship a refunded line (子订单已退款); fahuo held the orders 发货失败
    with their numbers left live, for a person. The orders read back explain the refusal: the
    labels are void, their numbers go back, the line still wanted ships on a new one and the
    order refunded in full is closed."""
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000, shop_id=7285)  # the same orders
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_print", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="t")
    sandbox.generate(creds["shop_id"], 20, seed=85, spread_seconds=600)
    _sync(fahuo, ref)
    with fahuo.uow() as uow:  # every item ships alone: an order of two items is split
        codes = {s["merchant_code"] for oid in sandbox.index(creds["shop_id"])
                 for s in uow.orders.get(oid)["sub_orders"]}
    update_settings(fahuo.uow, ref, {"split_rules": {"large_item_alone": True}, "sku_facts": {
        c: {"weight_g": 500, "large": True} for c in codes}}, actor="t")
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)
    pipe.run()
    with fahuo.uow() as uow:
        packs = uow.pipeline.packs_in_state(["waybill_taken"], limit=100)
        lines = uow.pipeline.lines([p["id"] for p in packs])
    by_order = defaultdict(list)
    for p in packs:
        by_order[p["main_order_id"]].append(p)
    skus = {oid: sorted({ln["sku_order_id"] for p in v for ln in lines[p["id"]]})
            for oid, v in by_order.items()}
    oid = next(k for k, v in by_order.items() if v[0]["kind"] == "split" and len(skus[k]) >= 2)
    single = next(v[0] for v in by_order.values() if v[0]["kind"] == "whole")
    mine = by_order[oid] + [single]
    gone, *kept = skus[oid]
    for order_id, sku in ((oid, gone), (single["main_order_id"], None)):
        r = sandbox.http.post("/sandbox/orders/refund",
                              json={"order_id": order_id, "sku_order_id": sku})
        assert r.status_code == 200, r.text
        for case in r.json()["aftersales"]:
            _agree(sandbox, case)
    # no sync: fahuo has not heard of the refunds when the printed parcels are confirmed
    print_by_component(fahuo, [p["id"] for p in mine])
    pipe.run()
    pipe.run()  # the void labels' numbers go back; what is left is packed on new numbers
    print_by_component(fahuo)
    pipe.run()
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([oid, single["main_order_id"]]) == {
            oid: "shipped", single["main_order_id"]: "refunded"}
        assert not uow.pipeline.open_holds([oid, single["main_order_id"]])
    calls = [s for s in sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json()
        if {oid, single["main_order_id"]} & set(s["order_ids"])]
    assert {(tuple(c["order_ids"]), c["request_id"]) for c in calls} == {
        ((oid,), calls[0]["request_id"])}  # one call, for what is left only
    assert sorted({str(x["shipped_order_id"]) for c in calls
                   for x in c["shipped_order_info"]}) == kept
    waybills = {w["track_no"]: w["status"] for w in sandbox.http.get(
        "/sandbox/waybills", params={"shop_id": creds["shop_id"]}).json()}
    assert [waybills[p["track_no"]] for p in mine] == ["cancelled"] * len(mine)
    assert {waybills[c["tracking_no"]] for c in calls} == {"used"}


# ---- issue 11 B: stock comes back when a refund means the goods stay -------------------------

def _levels(fahuo):
    with fahuo.uow() as uow:
        return {r["sku_code"]: r for r in uow.stock.levels(limit=5000)[1]}


def _releases(fahuo, oid):
    with fahuo.uow() as uow:
        return [j for j in uow.stock.journal(ref_id=oid) if j["move"] == "release"]


def _stocked_shop(fahuo, sandbox, seed, confirm_mode="on_scan", count=24):
    """A shop whose every sold code has 100 units on hand, its orders audited and planned (so
    reserved) but not shipped."""
    from fahuo.services.stock.lines import StockLine
    from fahuo.services.stock.moves import move_stock
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": confirm_mode, "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}}, actor="t")
    sandbox.generate(creds["shop_id"], count, seed=seed, spread_seconds=600)
    _sync(fahuo, ref)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=200)
        paid = sorted(r["order_id"] for r in rows if r["order_status"] == 2)
        orders = {oid: o for oid, (_, _, o) in uow.pipeline.load_orders(paid).items()}
    codes = sorted({s.merchant_code for o in orders.values() for s in o.sub_orders})
    move_stock(fahuo.uow, "receive", [StockLine(c, 100) for c in codes], actor="t")
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)
    pipe.audit_new()
    pipe.plan()
    with fahuo.uow() as uow:
        reserved = {r["order_id"] for r in uow.stock.reservations(paid, ("reserved",))}
    return ref, creds, {oid: o for oid, o in orders.items() if oid in reserved}, pipe


def _refund_units(sandbox, oid, line, units):
    r = sandbox.http.post("/sandbox/aftersales", json={
        "order_id": oid, "sku_order_id": line.sku_order_id, "kind": "refund",
        "item_num": units})
    assert r.status_code == 200, r.text
    return r.json()["aftersales"]


def _sync_cases(fahuo, ref):
    sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + LAG_S + 5)


def test_a_line_refunded_in_part_before_shipment_gives_those_units_back_at_once(
        fahuo, sandbox):
    """Issue 11 B: a line of several units, one refunded and agreed before it left. Its
    reservation stayed whole (only cancelled or refunded orders were released), so available
    stock and what the shop was told stayed low. Now the refunded unit goes back as soon as
    the refund is read, the rest stays reserved and ships, and the journal says why."""
    ref, creds, orders, pipe = _stocked_shop(fahuo, sandbox, seed=91)
    oid, line = next((oid, s) for oid, o in sorted(orders.items()) for s in o.sub_orders
                     if s.quantity >= 2)
    code, qty = line.merchant_code, line.quantity
    before = _levels(fahuo)[code]
    assert before["reserved"] >= qty
    for case in _refund_units(sandbox, oid, line, 1):
        _agree(sandbox, case)
    _sync_until_line(fahuo, ref, oid, line.sku_order_id, 12)  # the line: 售后成功, money back
    _sync_cases(fahuo, ref)  # the case: how many units
    after = _levels(fahuo)[code]
    assert after["reserved"] == before["reserved"] - 1  # no pipeline pass needed
    assert after["on_hand"] == before["on_hand"]
    (rel,) = _releases(fahuo, oid)
    assert rel["reserved"] == -1 and rel["reason"] == "退款释放"
    item_id = _levels(fahuo)[code]["id"]
    with fahuo.uow() as uow:
        (res,) = [r for r in uow.stock.reservations([oid], ("reserved",))
                  if r["item_id"] == item_id]
    assert res["quantity"] == qty - 1  # a line of 3 with 1 refunded keeps 2
    # the rest of the line ships; on hand drops by what left, nothing stays reserved for it
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_waybill"}, actor="t")
    pipe.run()
    pipe.run()
    shipped = {s["tracking_no"]: s for s in sandbox.http.get(
        "/sandbox/shipments", params={"shop_id": creds["shop_id"]}).json() if oid in s["order_ids"]}
    assert shipped
    with fahuo.uow() as uow:  # other orders of the code shipped too: this order's entries
        mine = [j for j in uow.stock.journal(ref_id=oid) if j["item_id"] == item_id]
        assert not [r for r in uow.stock.reservations([oid], ("reserved",))]
    assert sum(j["on_hand"] for j in mine if j["move"] == "ship") == -(qty - 1)
    assert sum(j["reserved"] for j in mine) == 0  # reserved qty, 1 released, qty − 1 shipped


def test_a_whole_line_refunded_while_the_order_waits_gives_its_units_back(fahuo, sandbox):
    """One line of a two-line order refunded before shipment while the order is held for
    something else: the other line still ships later, the refunded line's units are free
    now, not when (if ever) the order ships."""
    from fahuo.services.holds import hold_orders
    ref, creds, orders, pipe = _stocked_shop(fahuo, sandbox, seed=92)
    oid, o = next((oid, o) for oid, o in sorted(orders.items())
                  if len({s.merchant_code for s in o.sub_orders}) >= 2)
    line, other = o.sub_orders[0], o.sub_orders[1]
    hold_orders(fahuo.uow, [oid], actor="t", note="客户要改规格，先别发")
    before = _levels(fahuo)
    for case in _refund_units(sandbox, oid, line, line.quantity):
        _agree(sandbox, case)
    _sync_until_line(fahuo, ref, oid, line.sku_order_id, 12)
    _sync_cases(fahuo, ref)
    pipe.run()
    after = _levels(fahuo)
    assert after[line.merchant_code]["reserved"] == \
        before[line.merchant_code]["reserved"] - line.quantity
    assert after[other.merchant_code]["reserved"] == before[other.merchant_code]["reserved"]
    assert [j["reason"] for j in _releases(fahuo, oid)] == ["退款释放"]
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([oid])[oid] == "held"


def _sync_until_line(fahuo, ref, oid, sku_order_id, status):
    for _ in range(8):
        _sync(fahuo, ref)
        with fahuo.uow() as uow:
            if any(ln.sku_order_id == sku_order_id and ln.after_sale_status == status
                   for ln in uow.pipeline.load_orders([oid])[oid][2].sub_orders):
                return
    raise AssertionError(f"after-sale {status} of {sku_order_id} never reached fahuo")


def test_a_printed_parcel_stopped_at_the_scanner_gives_its_units_back_once_unpacked(
        fahuo, sandbox, tmp_path):
    """The label was printed (the goods are in the box), the buyer asked for a refund and the
    scanner stopped the parcel; the refund is agreed. The units stay reserved until the
    merchant confirms the box was unpacked (拆包放回); then they are free, the journal says
    拆包放回 with the parcel, and a second confirmation is refused."""
    ref, creds, orders, pipe = _stocked_shop(fahuo, sandbox, seed=93)
    pipe.take_waybills()
    with fahuo.uow() as uow:
        packs = [p for p in uow.pipeline.packs_in_state(["waybill_taken"], limit=100)
                 if p["kind"] == "whole" and p["main_order_id"] in orders]
    pack = packs[0]
    oid = pack["main_order_id"]
    o = orders[oid]
    print_by_component(fahuo, [pack["id"]])
    before = _levels(fahuo)
    cases = _refund(sandbox, oid)["aftersales"]
    _sync_until(fahuo, ref, oid, 6)
    res = scan(fahuo.uow, fahuo.platform_for, pack["track_no"])
    assert res.verdict == "intercepted"
    for case in cases:
        _agree(sandbox, case)
    _sync_until(fahuo, ref, oid, 12)
    _sync_cases(fahuo, ref)
    pipe.run()
    pipe.run()
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([oid])[oid] == "refunded"
    mid = _levels(fahuo)
    for s in o.sub_orders:  # in the box, not on the shelf: still reserved
        assert mid[s.merchant_code]["reserved"] == before[s.merchant_code]["reserved"]
    from fahuo.services.reservations import ReservationError, unpack
    with pytest.raises(ReservationError, match="没有找到"):
        unpack(fahuo.uow, track_no="NOPE12345", actor="t")
    done = unpack(fahuo.uow, track_no=pack["track_no"], actor="packer", note="已放回货架")
    assert "已拆包放回" in done.message
    after = _levels(fahuo)
    for s in o.sub_orders:
        assert after[s.merchant_code]["reserved"] == \
            before[s.merchant_code]["reserved"] - s.quantity
        assert after[s.merchant_code]["on_hand"] == before[s.merchant_code]["on_hand"]
    reasons = {j["reason"] for j in _releases(fahuo, oid)}
    assert reasons == {f"拆包放回：包裹 {pack['track_no']}，已放回货架"}
    with pytest.raises(ReservationError, match="确认拆包"):
        unpack(fahuo.uow, track_no=pack["track_no"], actor="t")


def test_a_stuck_reservation_is_released_by_hand_with_a_note(fahuo, sandbox):
    """A person releases what fahuo cannot see is free (the buyer's request hangs, the goods
    are wanted elsewhere): a note is required, the journal says 手工释放 with it, the audit
    log says who; a parcel still going out is refused; the order reserves again when it is
    planned again."""
    from fahuo.services.holds import hold_orders, release_orders
    from fahuo.services.reservations import ReservationError, release_by_hand
    ref, creds, orders, pipe = _stocked_shop(fahuo, sandbox, seed=94)
    oid, o = sorted(orders.items())[0]
    line = o.sub_orders[0]
    with pytest.raises(ReservationError, match="备注必填"):
        release_by_hand(fahuo.uow, oid, note="  ", actor="t")
    hold_orders(fahuo.uow, [oid], actor="t", note="等买家回复")
    before = _levels(fahuo)
    got = release_by_hand(fahuo.uow, oid, note="买家说不要了，货先给别人", actor="老王")
    assert got.released[oid][line.merchant_code] == line.quantity
    after = _levels(fahuo)
    assert after[line.merchant_code]["reserved"] == before[line.merchant_code]["reserved"] - \
        line.quantity
    assert {j["reason"] for j in _releases(fahuo, oid)} == {"手工释放：买家说不要了，货先给别人"}
    with fahuo.uow() as uow:
        (entry,) = [a for a in uow.audit.for_subject("order", oid)
                    if a["action"] == "stock.release"]
    assert entry["actor"] == "老王" and entry["subject_id"] == oid
    with pytest.raises(ReservationError, match="没有占用中的库存"):
        release_by_hand(fahuo.uow, oid, note="again", actor="t")
    # released from hold, it is planned again and reserves again
    release_orders(fahuo.uow, [oid], actor="t")
    pipe.plan()
    assert _levels(fahuo)[line.merchant_code]["reserved"] == before[line.merchant_code]["reserved"]
    pipe.take_waybills()
    with pytest.raises(ReservationError, match="还会发出"):
        release_by_hand(fahuo.uow, oid, note="试试", actor="t")


def test_a_split_order_whose_voided_parcel_kept_a_wanted_line_ships_that_line_after_the_rest(
        fahuo, sandbox, tmp_path):
    """Found by tests/e2e/test_crash_anywhere.py (seed 696983491): an order of three lines is
    split into a large item alone and a parcel of the other two; one of those two is refunded
    before shipment. The large parcel ships (the order is partly shipped), the other parcel's
    label is void and its number goes back — and the line still wanted in it was never packed
    again: the order stayed 部分发货 on the platform for good. It must ship on a new number."""
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000, shop_id=7286)  # the same orders
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_print", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="t")
    sandbox.generate(creds["shop_id"], 30, seed=86, spread_seconds=600)
    _sync(fahuo, ref)
    with fahuo.uow() as uow:
        orders = {oid: uow.orders.get(oid) for oid in sandbox.index(creds["shop_id"])}
    oid = next(o for o, row in sorted(orders.items()) if row["order_status"] == 2
               and len({s["merchant_code"] for s in row["sub_orders"]}) >= 3)
    large, gone, kept, *more = sorted(orders[oid]["sub_orders"], key=lambda s: s["sku_order_id"])
    others = {s["merchant_code"] for s in [gone, kept, *more]}
    assert large["merchant_code"] not in others
    update_settings(fahuo.uow, ref, {"split_rules": {"large_item_alone": True}, "sku_facts": {
        large["merchant_code"]: {"weight_g": 5000, "large": True}}}, actor="t")
    pipe = Pipeline(fahuo.uow, fahuo.platform_for)
    pipe.run()
    with fahuo.uow() as uow:
        packs = [p for p in uow.pipeline.packs_of_orders([oid]) if p["state"] == "waybill_taken"]
        lines = uow.pipeline.lines([p["id"] for p in packs])
    contents = {p["id"]: {ln["sku_order_id"] for ln in lines[p["id"]]} for p in packs}
    # the large item's units alone, the other lines together in one parcel
    assert [c for c in contents.values() if c != {large["sku_order_id"]}] == [
        {s["sku_order_id"] for s in [gone, kept, *more]}]
    r = sandbox.http.post("/sandbox/orders/refund",
                          json={"order_id": oid, "sku_order_id": gone["sku_order_id"]})
    assert r.status_code == 200, r.text
    for case in r.json()["aftersales"]:
        _agree(sandbox, case)
    _sync_until_a_line_refunded(fahuo, ref, oid)
    print_by_component(fahuo, [p["id"] for p in packs])
    for _ in range(3):  # confirm the large parcel, recycle the void one, pack what is left
        pipe.run()
        if _has_labels_waiting(fahuo):
            print_by_component(fahuo)
    calls = [s for s in sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json() if oid in s["order_ids"]]
    shipped = {str(x["shipped_order_id"]) for c in calls for x in c["shipped_order_info"]}
    assert shipped == {s["sku_order_id"] for s in [large, kept, *more]}
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([oid]) == {oid: "shipped"}
        assert not uow.pipeline.open_holds([oid])


def _has_labels_waiting(fahuo) -> bool:
    with fahuo.uow() as uow:
        return bool(uow.pipeline.packs_in_state(["waybill_taken"], limit=1))
