"""A buyer sends goods back: the case appears, the return parcel is tracked, and what arrives is
inspected back into stock (good on hand, damaged apart), in one step with the case."""

from __future__ import annotations

import time

import pytest

from fahuo.services.aftersales import (
    LAG_S, AfterSaleError, list_cases, receive_return, sync_after_sales,
)
from fahuo.services.stock import StockLine, move_stock
from support import orders_in_fahuo


def test_a_return_comes_back_into_stock(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 10, seed=19)  # shipped by the pipeline
    with fahuo.uow() as uow:
        packs = uow.pipeline.packs_in_state(["confirmed"], limit=50)
        oid = packs[0]["main_order_id"]
        order = uow.pipeline.load_orders([oid])[oid][2]
    line = order.sub_orders[0]
    move_stock(fahuo.uow, "receive", [StockLine(line.merchant_code, 10)], actor="t")
    r = sandbox.http.post("/sandbox/aftersales", json={
        "order_id": oid, "sku_order_id": line.sku_order_id, "kind": "return"})
    assert r.status_code == 200, r.text
    case_id = str(r.json()["aftersales"][0]["aftersale_id"]) if "aftersales" in r.json() \
        else str(r.json()[0]["aftersale_id"])
    r = sandbox.http.post(f"/sandbox/aftersales/{case_id}/status",
                          json={"aftersale_status": 7})  # agreed: waiting for the goods
    assert r.status_code == 200, r.text
    r = sandbox.http.post(f"/sandbox/aftersales/{case_id}/return_shipped",
                          json={"company_code": "yunda", "tracking_no": "3999000011112"})
    assert r.status_code == 200, r.text
    # read up to a few seconds ahead: the sandbox stamps quick successive changes 1 s apart
    rep = sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + LAG_S + 5)
    assert rep.cases >= 1 and rep.returns_tracked == 1
    (case,) = [c for c in list_cases(fahuo.uow, status="all") if c["aftersale_id"] == case_id]
    assert case["return_tracking_no"] == "3999000011112" and case["stage"] == "after_ship"
    with fahuo.uow() as uow:
        (tracker,) = uow.tracking.by_track_nos(["3999000011112"])["3999000011112"]
    assert tracker["order_id"] == oid and tracker["courier_code"] == "yunda"  # named 韵达快递
    with pytest.raises(AfterSaleError, match="不在售后单"):
        receive_return(fahuo.uow, case_id, good={"NOPE": 1}, damaged={}, actor="t")
    units = line.quantity
    receive_return(fahuo.uow, case_id, good={line.merchant_code: units - 1 or 1},
                   damaged={line.merchant_code: 1} if units > 1 else {}, actor="t")
    with fahuo.uow() as uow:
        (item,) = [r for r in uow.stock.levels()[1] if r["sku_code"] == line.merchant_code]
    assert item["on_hand"] == 10 + (units - 1 or 1)
    assert item["damaged"] == (1 if units > 1 else 0)
    with pytest.raises(AfterSaleError, match="已经收过货"):
        receive_return(fahuo.uow, case_id, good={line.merchant_code: 1}, damaged={}, actor="t")
