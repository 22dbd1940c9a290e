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
    with pytest.raises(AfterSaleError, match="not in this order"):
        receive_return(fahuo.uow, case_id, good={"NOPE": 1}, damaged={}, actor="t")
    units = line.quantity
    receive_return(fahuo.uow, case_id, good={line.merchant_code: units - 1 or 1},
                   damaged={line.merchant_code: 1} if units > 1 else {}, actor="t")
    with fahuo.uow() as uow:
        (item,) = [r for r in uow.stock.levels()[1] if r["sku_code"] == line.merchant_code]
    assert item["on_hand"] == 10 + (units - 1 or 1)
    assert item["damaged"] == (1 if units > 1 else 0)
    with pytest.raises(AfterSaleError, match="already received"):
        receive_return(fahuo.uow, case_id, good={line.merchant_code: 1}, damaged={}, actor="t")


def test_a_returned_bundle_is_shown_as_bundles_while_stock_takes_its_parts(fahuo, sandbox):
    from collections import Counter

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from fahuo.bootstrap import set_app
    from fahuo.entrypoints.cli import cli
    from fahuo.entrypoints.web.app import create_app
    from fahuo.services.pipeline import Pipeline
    from fahuo.services.stock import set_bundle
    ref, creds = orders_in_fahuo(fahuo, sandbox, 30, seed=23, run=False)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
        loaded = uow.pipeline.load_orders([r["order_id"] for r in rows])
    paid = Counter(s.merchant_code for _, _, o in loaded.values() if o.order_status == 2
                   for s in o.sub_orders)
    bundle = paid.most_common(1)[0][0]  # the shop sells it; the warehouse keeps its parts
    set_bundle(fahuo.uow, bundle, {"CUP-A": 2, "LID": 1}, actor="t")
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 100, new=True),
                                      StockLine("LID", 100, new=True)], actor="t")
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as uow:
        shipped = {p["main_order_id"] for p in uow.pipeline.packs_in_state(["confirmed"],
                                                                            limit=100)}
        levels = {r["sku_code"]: r["on_hand"] for r in uow.stock.levels()[1]}
    oid, line = next((o, s) for o in sorted(shipped) for s in loaded[o][2].sub_orders
                     if s.merchant_code == bundle)
    r = sandbox.http.post("/sandbox/aftersales", json={
        "order_id": oid, "sku_order_id": line.sku_order_id, "kind": "return"})
    assert r.status_code == 200, r.text
    body = r.json()
    case_id = str((body["aftersales"] if "aftersales" in body else body)[0]["aftersale_id"])
    assert sandbox.http.post(f"/sandbox/aftersales/{case_id}/status",
                             json={"aftersale_status": 7}).status_code == 200
    assert sandbox.http.post(f"/sandbox/aftersales/{case_id}/return_shipped", json={
        "company_code": "yunda", "tracking_no": "3999000011113"}).status_code == 200
    sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + LAG_S + 5)
    receive_return(fahuo.uow, case_id, good={bundle: 1}, damaged={}, actor="t")
    with fahuo.uow() as uow:
        after = {r["sku_code"]: r["on_hand"] for r in uow.stock.levels()[1]}
    # one bundle back: two cups and a lid on the shelf again
    assert (after["CUP-A"] - levels["CUP-A"], after["LID"] - levels["LID"]) == (2, 1)
    (case,) = [c for c in list_cases(fahuo.uow, status="all") if c["aftersale_id"] == case_id]
    assert case["received_lines"] == {"good": {bundle: 1}, "damaged": {}}
    assert case["received_good"] == f"{bundle}×1（组套）" and case["received_damaged"] == ""
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        page = client.get("/aftersales", params={"status": "all"}).text
        api = client.get("/api/aftersales", params={"status": "all"}).json()
    assert f"良 {bundle}×1（组套）" in page and "良3" not in page  # not 3 part units
    assert [c["received_good"] for c in api if c["aftersale_id"] == case_id] == [
        f"{bundle}×1（组套）"]
    set_app(fahuo)
    try:
        wide, narrow = (CliRunner().invoke(cli, ["aftersales", "list", "--status", "all"],
                                           env={"COLUMNS": width}) for width in ("250", "100"))
    finally:
        set_app(None)
    assert wide.exit_code == 0 and f"good {bundle}×1（组套）" in wide.output, wide.output
    # an ordinary terminal: the ids are still whole (they were cut to "7300…"), the rest wraps
    assert narrow.exit_code == 0 and case_id in narrow.output and oid in narrow.output
