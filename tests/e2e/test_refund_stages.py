"""A refund can arrive at any moment. Before the parcel leaves it is never shipped (numbers not
printed are given back; a printed parcel is refused at the scanner); after, an interception is
offered."""

from __future__ import annotations

import dataclasses
import time

import pytest

from fahuo.services.aftersales import LAG_S, intercept, list_cases, sync_after_sales
from fahuo.services.pipeline import Pipeline
from fahuo.services.printing import print_labels
from fahuo.services.scan import scan
from fahuo.services.settings import update_settings
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
        print_labels(fahuo.uow, [pack()["id"]], actor="t", out_dir=tmp_path)
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
