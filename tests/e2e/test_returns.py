"""A buyer sends goods back: the case appears, the return parcel is tracked, and what arrives is
inspected back into stock (good on hand, damaged apart), in one step with the case."""

from __future__ import annotations

import time

import pytest

from fahuo.bootstrap import sync_after_sales
from fahuo.services.aftersales import LAG_S, AfterSaleError, list_cases, receive_return
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock
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


def test_a_returned_bundle_is_shown_as_bundles_while_stock_takes_its_parts(fahuo, sandbox):
    from collections import Counter

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from fahuo.bootstrap import set_app
    from fahuo.entrypoints.cli import cli
    from fahuo.entrypoints.web.app import create_app
    from fahuo.services.shipping import Pipeline
    from fahuo.services.stock.bundles import set_bundle
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
        api = client.get("/api/aftersales", params={"status": "all"}).json()["items"]
    assert f"良 {bundle}×1（组套）" in page and "良3" not in page  # not 3 part units
    assert [c["received_good"] for c in api if c["aftersale_id"] == case_id] == [
        f"{bundle}×1（组套）"]
    set_app(fahuo)
    try:
        wide, narrow = (CliRunner().invoke(cli, ["aftersales", "list", "--status", "all"],
                                           env={"COLUMNS": width}) for width in ("250", "100"))
    finally:
        set_app(None)
    assert wide.exit_code == 0 and f"完好 {bundle}×1（组套）" in wide.output, wide.output
    # an ordinary terminal: the ids are still whole (they were cut to "7300…"), the rest wraps
    assert narrow.exit_code == 0 and case_id in narrow.output and oid in narrow.output


# ---- issue 11 D: a return cannot invent stock ----------------------------------------------

def _case(sandbox, oid, line, kind, **kw):
    r = sandbox.http.post("/sandbox/aftersales", json={
        "order_id": oid, "sku_order_id": line.sku_order_id, "kind": kind, **kw})
    assert r.status_code == 200, r.text
    return str(r.json()["aftersales"][0]["aftersale_id"])


def _level(fahuo, code):
    with fahuo.uow() as uow:
        return next(r for r in uow.stock.levels(limit=5000)[1] if r["sku_code"] == code)


def _shipped_order(fahuo, sandbox, seed):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 10, seed=seed)
    with fahuo.uow() as uow:
        packs = uow.pipeline.packs_in_state(["confirmed"], limit=50)
        loaded = uow.pipeline.load_orders(sorted({p["main_order_id"] for p in packs}))
    oid, order = next((oid, o) for oid, (_, _, o) in sorted(loaded.items())
                      if len(o.sub_orders) == 1)
    line = order.sub_orders[0]
    move_stock(fahuo.uow, "receive", [StockLine(line.merchant_code, 10)], actor="t")
    return ref, oid, line


def _sync_cases(fahuo, ref):
    sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + LAG_S + 5)


def test_a_refund_only_case_cannot_put_goods_on_the_shelf(fahuo, sandbox):
    """Issue 11 D: a refund-only case (已发货仅退款, the buyer keeps the goods) took
    --good CODE=50: +50 on hand and the case closed. Now it is refused, in Chinese, naming
    why, and nothing moves."""
    ref, oid, line = _shipped_order(fahuo, sandbox, seed=31)
    case_id = _case(sandbox, oid, line, "refund")
    _sync_cases(fahuo, ref)
    before = _level(fahuo, line.merchant_code)
    with pytest.raises(AfterSaleError, match="仅退款.*没有退货可收"):
        receive_return(fahuo.uow, case_id, good={line.merchant_code: 50}, damaged={},
                       actor="t")
    assert _level(fahuo, line.merchant_code)["on_hand"] == before["on_hand"]
    (case,) = [c for c in list_cases(fahuo.uow, status="all") if c["aftersale_id"] == case_id]
    assert case["received_at"] is None and case["closed_at"] is None


def test_a_return_receives_at_most_what_left_less_what_came_back(fahuo, sandbox):
    """A return-refund case may bring back what the order sent less what was received back
    on it already: more is refused naming the code and the limit, and nothing is applied
    (neither the good nor the damaged part)."""
    ref, oid, line = _shipped_order(fahuo, sandbox, seed=32)
    code, sent = line.merchant_code, line.quantity
    case_id = _case(sandbox, oid, line, "return")
    _sync_cases(fahuo, ref)
    before = _level(fahuo, code)
    with pytest.raises(AfterSaleError, match=f"{code}：最多还能退货入库 {sent} 件"):
        receive_return(fahuo.uow, case_id, good={code: sent}, damaged={code: 1}, actor="t")
    after = _level(fahuo, code)
    assert (after["on_hand"], after["damaged"]) == (before["on_hand"], before["damaged"])
    receive_return(fahuo.uow, case_id, good={code: sent}, damaged={}, actor="t")
    assert _level(fahuo, code)["on_hand"] == before["on_hand"] + sent
    # the buyer's next case on the same order: everything that left is back already
    r = sandbox.http.post(f"/sandbox/aftersales/{case_id}/status", json={"aftersale_status": 28})
    assert r.status_code == 200, r.text
    second = _case(sandbox, oid, line, "return")
    _sync_cases(fahuo, ref)
    with pytest.raises(AfterSaleError, match=f"最多还能退货入库 0 件（本订单发出 {sent} 件，"
                                             f"已退回 {sent} 件）"):
        receive_return(fahuo.uow, second, good={code: 1}, damaged={}, actor="t")


def test_a_case_refunded_before_shipment_has_nothing_to_receive(fahuo, sandbox):
    """A refund agreed before the parcel left: no units went out, none can come back."""
    ref, creds = orders_in_fahuo(fahuo, sandbox, 8, seed=33, run=False)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
        oid = next(r["order_id"] for r in rows if r["order_status"] == 2)
        line = uow.pipeline.load_orders([oid])[oid][2].sub_orders[0]
    case_id = _case(sandbox, oid, line, "refund")
    _sync_cases(fahuo, ref)
    with pytest.raises(AfterSaleError, match="未发货仅退款：商品没有发出"):
        receive_return(fahuo.uow, case_id, good={line.merchant_code: 1}, damaged={},
                       actor="t")
