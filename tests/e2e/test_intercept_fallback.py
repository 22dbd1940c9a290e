"""A refund for a parcel already travelling: Douyin will not intercept it (the sandbox marks the
courier outside its interception service), so fahuo asks Kuaidi100 (快递拦截 interceptOrder);
the courier turns the parcel round, and once tracking shows it back the case says the
interception worked."""

from __future__ import annotations

import time

import httpx

from fahuo.adapters.carriers.registry import CarrierRegistry
from fahuo.bootstrap import (
    add_account, follow_intercepts, intercept, set_intercept_partner, sync_after_sales,
)
from fahuo.services.aftersales import LAG_S, list_cases
from fahuo.services.tracking import Tracking
from support import orders_in_fahuo

DAY = 86400


def test_douyin_refuses_kuaidi100_intercepts_and_tracking_shows_the_parcel_back(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 10, seed=29)
    with fahuo.uow() as uow:
        pack = next(p for p in uow.pipeline.packs_in_state(["confirmed"], limit=50)
                    if p["courier_code"] == "zhongtong" and p["kind"] == "whole")
        shop = uow.shops.get(ref)
    oid, no = pack["main_order_id"], pack["track_no"]
    r = sandbox.http.post("/sandbox/orders/refund", json={"order_id": oid})
    assert r.status_code == 200, r.text
    sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + LAG_S + 5)
    cases = [c for c in list_cases(fahuo.uow, status="all") if c["order_id"] == oid]
    assert cases and all(c["intercept_state"] == "offered" for c in cases)

    # The platform's interception does not take zhongtong; Kuaidi100 is set up for it.
    r = sandbox.http.post("/sandbox/aftersales/intercept_unsupported",
                          json={"company_codes": ["zhongtong"]})
    assert r.status_code == 200, r.text
    acc = sandbox.http.post("/sandbox/kuaidi100/accounts", json={}).json()
    acc_id = add_account(fahuo.uow, "kuaidi100", "沙箱快递100", {
        "customer": acc["customer"], "key": acc["key"], "salt": acc["salt_hint"],
        "secret": acc["secret"], "label_url": sandbox.url + "/label/order"},
        sandbox.url, "http://127.0.0.1:9")
    set_intercept_partner(fahuo.uow, acc_id, "zhongtong",
                          {"partnerId": "ZT-SANDBOX-01", "net": "douyin"}, actor="t")

    # The parcel has been collected and is on its way; every clock reads the sandbox's.
    first = sandbox.http.get(f"/sandbox/tracking/{no}").json()["events"]
    offset = first[1]["at"] + 60 - time.time()
    sandbox.http.post("/sandbox/clock", json={"offset_seconds": offset})

    def now() -> float:
        return time.time() + sandbox.http.get("/sandbox/clock").json()["offset_seconds"]

    fahuo.platform_for(shop).session.client.clock = now  # signed timestamps in the window
    tracking = Tracking(fahuo.uow, fahuo.platform_for, carriers=CarrierRegistry(), clock=now)
    assert tracking.start().started >= 1  # trackers now go through the Kuaidi100 account

    with httpx.Client(trust_env=False, timeout=15) as http:
        done = intercept(fahuo.uow, fahuo.platform_for, cases[0]["aftersale_id"], actor="t",
                         http=http)
    assert (done["intercept_state"], done["via"]) == ("requested", "kuaidi100")
    assert done["detail"].startswith("快递100：已提交拦截（退回寄件地址），抖音不可拦截：该物流公司暂不支持平台拦截")
    view = sandbox.http.get(f"/sandbox/tracking/{no}").json()
    assert view["anomaly"] == "intercepted"
    assert [(i["partner_id"], i["intercept_type"]) for i in view["intercepts"]] == [
        ("ZT-SANDBOX-01", "RETURN_SEND_ADDR")]
    assert view["events"][-1]["step"] == "returned"
    listed = {c["aftersale_id"]: c for c in list_cases(fahuo.uow, status="intercept")}
    assert {listed[c["aftersale_id"]]["intercept_via"] for c in cases} == {"kuaidi100"}

    # Three weeks later a tracking pass finds the parcel back with the merchant.
    sandbox.http.post("/sandbox/clock", json={"offset_seconds": offset + 21 * DAY})
    rep = tracking.poll(track_nos=[no])
    assert rep.polled == 1 and rep.poll_failed == 0
    with fahuo.uow() as uow:
        (tracker,) = uow.tracking.by_track_nos([no])[no]
    assert (tracker["source"], tracker["state"]) == ("kuaidi100", "returned")
    assert follow_intercepts(fahuo.uow) == len(cases)
    after = {c["aftersale_id"]: c for c in list_cases(fahuo.uow, status="all")}
    for c in cases:
        got = after[c["aftersale_id"]]
        assert (got["intercept_state"], got["intercept_detail"], got["intercept_via"]) == (
            "returned", "快递100：拦截成功，包裹已退回寄件人", "kuaidi100")
