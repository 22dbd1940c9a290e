"""A third-party warehouse that exchanges files: labelled parcels go out once, its shipment
confirmations are confirmed on the platform, bad rows are named, refunded ones never leave."""

from __future__ import annotations

import csv
import json
import time

from fahuo.adapters.wms import FileWarehouse
from fahuo.services.wms import export_outbound, import_confirmations
from support import orders_in_fahuo, sync_now


def test_parcels_go_out_once_and_the_warehouse_confirms_them(fahuo, sandbox, tmp_path):
    # labels taken; the warehouse ships them
    ref, creds = orders_in_fahuo(fahuo, sandbox, 12, seed=13, confirm_mode="on_scan",
                                 hold_after_sale=False)
    port = FileWarehouse(tmp_path / "wms")
    first = export_outbound(fahuo.uow, port)
    assert first.exported >= 5
    assert export_outbound(fahuo.uow, port).exported == 0  # each parcel goes out once
    doc = json.loads((tmp_path / "wms" / "outbound" / first.files[0]).read_text())
    rows = list(csv.DictReader((tmp_path / "wms" / "outbound" /
                                first.files[0].replace(".json", ".csv")).open(encoding="utf-8-sig")))
    assert len(doc["orders"]) == first.exported and rows and rows[0]["sku_code"]
    assert all("*" in o["receiver"] for o in doc["orders"])  # masked: no plain PII leaves
    out = doc["orders"]
    # the buyer of the second parcel asks for a refund before the warehouse ships it
    refunded = out[1]["order_ids"][0]
    r = sandbox.http.post("/sandbox/orders/refund", json={"order_id": refunded})
    assert r.status_code == 200, r.text
    sync_now(fahuo, ref)
    inbound = tmp_path / "wms" / "inbound"
    (inbound / "shipped-1.csv").write_text(
        "pack_id,track_no,shipped_at\n"
        f"{out[0]['pack_id']},{out[0]['track_no']},{int(time.time())}\n"
        f"{out[1]['pack_id']},,\n"
        f",{out[2]['track_no']},\n"
        f"{out[3]['pack_id']},WRONG123456,\n"
        "abc,,\n", encoding="utf-8")
    rep = import_confirmations(fahuo.uow, fahuo.platform_for, port)
    assert rep.confirmed == 2
    assert any("row 6" in k and "not a number" in k for k in rep.refused)
    assert any("row 5" in k and "not WRONG123456" in v for k, v in rep.refused.items())
    assert any("退款" in v for v in rep.refused.values())  # stopped, number given back
    assert not any(inbound.glob("*.csv")) and (inbound / "done" / "shipped-1.csv").exists()
    shipped = {o for s in sandbox.http.get("/sandbox/shipments",
                                           params={"shop_id": creds["shop_id"]}).json()
               for o in s["order_ids"]}
    assert set(out[0]["order_ids"]) | set(out[2]["order_ids"]) <= shipped
    assert refunded not in shipped
    # the stopped parcel is called back from the warehouse, once
    back = export_outbound(fahuo.uow, port)
    assert back.cancelled == 1 and back.exported == 0
    called = json.loads((tmp_path / "wms" / "outbound" / back.files[0]).read_text())
    assert called["cancel"] == [{"pack_id": out[1]["pack_id"], "track_no": out[1]["track_no"]}]
    assert export_outbound(fahuo.uow, port).cancelled == 0
    # the same file again changes nothing
    (inbound / "again.json").write_text(json.dumps({"shipments": [
        {"pack_id": out[0]["pack_id"]}]}))
    assert import_confirmations(fahuo.uow, fahuo.platform_for, port).confirmed == 0
