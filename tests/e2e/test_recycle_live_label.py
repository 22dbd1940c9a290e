"""A number the platform shipped with is never given back (issue 10 A).

Someone confirms a printed label in the Douyin back office, or fahuo dies between
order.logisticsAdd and its save: the next sync sees the order shipped, and the next pass must
find the number on the order's packages, keep it live and save the pack confirmed (so it gets
a tracker). Only a number the platform shows unused is cancelled.
"""

import pytest

from support import make_fahuo, orders_in_fahuo, sync_now

from fahuo.adapters.platforms.doudian.shipping import ShippedLine
from fahuo.services.shipping import Pipeline
from fahuo.services.settings import update_settings


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)  # sync_now waits just past a 1 s lag
    yield app
    app.close()


def _waybills(sandbox, shop_id):
    r = sandbox.http.get("/sandbox/waybills", params={"shop_id": shop_id})
    assert r.status_code == 200, r.text
    return {w["track_no"]: w["status"] for w in r.json()}


def _shipments(sandbox, shop_id):
    r = sandbox.http.get("/sandbox/shipments", params={"shop_id": shop_id})
    assert r.status_code == 200, r.text
    return r.json()


def _api(app, ref):
    with app.uow() as u:
        shop = u.shops.get(ref)
    return app.platform_for(shop)  # fahuo's signed client, used here as the back office would


def _taken(app, sandbox, count, seed):
    """Orders with numbers taken and nothing confirmed yet (the shop confirms on scan)."""
    ref, creds = orders_in_fahuo(app, sandbox, count, seed, confirm_mode="on_scan")
    with app.uow() as u:
        packs = u.pipeline.packs_in_state(["waybill_taken"], limit=1000)
    assert packs and not _shipments(sandbox, creds["shop_id"])
    return ref, creds, packs


def _pack(app, pid):
    with app.uow() as u:
        return u.pipeline.packs_by_ids([pid])[0]


def _assert_live_and_tracked(app, sandbox, creds, pack, order_ids):
    assert _waybills(sandbox, creds["shop_id"])[pack["track_no"]] == "used"  # not cancelled
    assert _pack(app, pack["id"])["state"] == "confirmed"
    with app.uow() as u:
        assert {u.orders.get(oid)["state"] for oid in order_ids} == {"shipped"}
        assert u.pipeline.waybill_counts().get("recycled", 0) == 0
    assert app.tracking.start().started >= 1
    with app.uow() as u:
        trackers = u.tracking.by_track_nos([pack["track_no"]])[pack["track_no"]]
    assert [t["pack_id"] for t in trackers] == [pack["id"]]


def test_a_label_confirmed_in_the_back_office_stays_live_and_is_tracked(fahuo, sandbox):
    ref, creds, packs = _taken(fahuo, sandbox, 6, seed=101)
    victim = next(p for p in packs if p["kind"] == "whole")
    _api(fahuo, ref).ship_order(victim["main_order_id"], victim["courier_code"],
                                victim["track_no"])
    sync_now(fahuo, ref)
    with fahuo.uow() as u:
        assert u.orders.get(victim["main_order_id"])["state"] == "shipped"
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    _assert_live_and_tracked(fahuo, sandbox, creds, victim, [victim["main_order_id"]])
    # Nothing was shipped twice: the platform has the one back-office call for the order.
    calls = [s for s in _shipments(sandbox, creds["shop_id"])
             if victim["main_order_id"] in s["order_ids"]]
    assert len(calls) == 1


def test_a_crash_between_the_confirmation_and_its_save_keeps_the_number(fahuo, sandbox):
    ref, creds, packs = _taken(fahuo, sandbox, 6, seed=102)
    victim = next(p for p in packs if p["kind"] == "whole")

    class Crash(Exception):
        pass

    real = fahuo.platform_for

    class DiesAfterShipping:
        def __init__(self, api):
            self.api = api

        def __getattr__(self, name):
            return getattr(self.api, name)

        def ship_order(self, *a, **kw):
            self.api.ship_order(*a, **kw)  # the platform shipped it…
            raise Crash("process died before saving")  # …and fahuo never saved that

    with pytest.raises(Crash):
        Pipeline(fahuo.uow, lambda shop: DiesAfterShipping(real(shop))).confirm(
            pack_ids_only=[victim["id"]])
    assert _pack(fahuo, victim["id"])["state"] == "waybill_taken"
    sync_now(fahuo, ref)  # the next sync sees the order shipped before the next pass
    Pipeline(fahuo.uow, real).run()
    _assert_live_and_tracked(fahuo, sandbox, creds, victim, [victim["main_order_id"]])


def test_a_merged_label_confirmed_in_the_back_office_stays_live(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 1, seed=103, run=False,
                                 confirm_mode="on_scan")
    update_settings(fahuo.uow, ref, {"merge_window_s": 86400}, actor="test")
    first = next(iter(sandbox.index(creds["shop_id"])))
    r = sandbox.http.post("/sandbox/orders/repeat_buyer",
                          json={"order_id": first, "count": 2, "seed": 3})
    assert r.status_code == 200, r.text
    sync_now(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as u:
        merged = [p for p in u.pipeline.packs_in_state(["waybill_taken"], limit=100)
                  if p["kind"] == "merged"]
        assert len(merged) == 1
        lines = u.pipeline.lines([merged[0]["id"]])[merged[0]["id"]]
    pack = merged[0]
    order_ids = sorted({ln["order_id"] for ln in lines})
    assert len(order_ids) >= 2
    _api(fahuo, ref).ship_single_pack(
        order_ids, [ShippedLine(ln["sku_order_id"], ln["quantity"]) for ln in lines],
        pack["courier_code"], pack["track_no"], "back-office-1")
    sync_now(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    _assert_live_and_tracked(fahuo, sandbox, creds, pack, order_ids)


def test_an_order_shipped_with_another_number_gets_its_unused_number_cancelled(
        fahuo, sandbox):
    ref, creds, packs = _taken(fahuo, sandbox, 6, seed=104)
    victim = next(p for p in packs if p["kind"] == "whole" and p["courier_code"] == "zhongtong")
    own = "78" + "9" * 12  # the merchant's own zhongtong label, not one fahuo took
    assert own != victim["track_no"]
    _api(fahuo, ref).ship_order(victim["main_order_id"], "zhongtong", own)
    sync_now(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    assert _waybills(sandbox, creds["shop_id"])[victim["track_no"]] == "cancelled"
    assert _pack(fahuo, victim["id"])["state"] == "cancelled"
    with fahuo.uow() as u:
        assert u.orders.get(victim["main_order_id"])["state"] == "shipped"
    # The other packs were not touched.
    status = _waybills(sandbox, creds["shop_id"])
    assert all(status[p["track_no"]] == "live" for p in packs if p["id"] != victim["id"])


def test_a_split_order_keeps_the_number_it_shipped_with_and_gives_back_the_other(
        fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 8, seed=105, run=False,
                                 confirm_mode="on_scan")
    with fahuo.uow() as u:
        codes = {s["merchant_code"] for oid in sandbox.index(creds["shop_id"])
                 for s in u.orders.get(oid)["sub_orders"]}
    update_settings(fahuo.uow, ref, {"split_rules": {"large_item_alone": True}, "sku_facts": {
        c: {"weight_g": 500, "large": True} for c in codes}}, actor="test")
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as u:
        taken = u.pipeline.packs_in_state(["waybill_taken"], limit=1000)
        by_order: dict = {}
        for p in taken:
            if p["kind"] == "split" and p["courier_code"] == "zhongtong":
                by_order.setdefault(p["main_order_id"], []).append(p)
        oid, packs = next((k, sorted(v, key=lambda p: p["seq"]))
                          for k, v in by_order.items() if len(v) >= 2)
        lines = u.pipeline.lines([p["id"] for p in packs])
    # The back office ships the first parcel on fahuo's label, the rest on its own labels.
    own = ["78" + f"{n:012d}" for n in range(1, len(packs))]
    _api(fahuo, ref).ship_multi_pack(oid, [
        ("zhongtong", no, [ShippedLine(ln["sku_order_id"], ln["quantity"])
                           for ln in lines[p["id"]]])
        for p, no in zip(packs, [packs[0]["track_no"], *own])], "back-office-2")
    sync_now(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    status = _waybills(sandbox, creds["shop_id"])
    assert status[packs[0]["track_no"]] == "used"
    assert [status[p["track_no"]] for p in packs[1:]] == ["cancelled"] * (len(packs) - 1)
    assert [_pack(fahuo, p["id"])["state"] for p in packs] == (
        ["confirmed"] + ["cancelled"] * (len(packs) - 1))
    with fahuo.uow() as u:
        assert u.orders.get(oid)["state"] == "shipped"
