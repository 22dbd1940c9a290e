"""Reserved stock from the console, the API and the CLI: what is reserved and why, release by
hand with a note, 拆包放回, and a return receipt refused by the same rule everywhere."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from fahuo.adapters.store import models as m
from fahuo.entrypoints.web.app import create_app
from fahuo.services.holds import hold_orders
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock.orders import reserve_in, settle_in
from support import flat

HELD, BOXED = "6900000000000000101", "6900000000000000202"


@pytest.fixture
def shop(fahuo, make_order):
    """HELD: 2 × TEE-RED-0 reserved, held by a person. BOXED: 2 × TEE-RED-0 reserved, its
    printed parcel voided and the order refunded: the goods are in the box."""
    with fahuo.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        store_platform_orders(u, ref, [make_order(HELD, 1_700_000_000),
                                       make_order(BOXED, 1_700_000_100)])
    move_stock(fahuo.uow, "receive", [StockLine("TEE-RED-0", 10)], actor="t")
    with fahuo.uow() as u:
        assert reserve_in(u, [HELD, BOXED]).reserved == [HELD, BOXED]
        order = u.pipeline.load_orders([BOXED])[BOXED][2]
        pid = u.pipeline.add_pack({
            "shop_ref": ref, "kind": "whole", "state": "cancelled", "main_order_id": BOXED,
            "platform_pack_id": "", "courier_code": "zhongtong", "track_no": "7300000000001",
            "request_id": "r-boxed", "exp_ship_time": order.exp_ship_time},
            [{"order_id": BOXED, "sku_order_id": s.sku_order_id, "quantity": s.quantity}
             for s in order.sub_orders])
        u.prints.add_batch(pack_ids=[pid], records_reprint=False, kind="labels", format="pdf",
                           size="100x150", order_by="deadline", selection_key="k",
                           fingerprint="f", file_name="f.pdf", created_by="t")
        u.pipeline.set_states({BOXED: "refunded"})
        u.conn.execute(m.after_sales.insert().values(
            aftersale_id="7200000000000000001", shop_ref=ref, order_id=HELD,
            sku_order_ids=f'["{HELD}"]', aftersale_type=1, aftersale_status=6,
            refund_amount=4900, stage="after_ship", update_time=int(time.time())))
    hold_orders(fahuo.uow, [HELD], note="等买家回复", actor="t")
    with fahuo.uow() as u:
        settle_in(u)  # the refunded order keeps what is in its unopened box
    return ref, pid


def _reserved(fahuo) -> int:
    with fahuo.uow() as u:
        return next(r for r in u.stock.levels()[1] if r["sku_code"] == "TEE-RED-0")["reserved"]


def _csrf(client, page: str) -> str:
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(page).text)[1]


def test_api_and_console_release_and_unpack(fahuo, shop):
    _, pid = shop
    assert _reserved(fahuo) == 4
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        view = c.get("/api/stock/reservations").json()
        assert {o["order_id"] for o in view["orders"]} == {HELD, BOXED}
        assert [b["id"] for b in view["boxes"]] == [pid]
        r = c.post(f"/api/stock/reservations/{HELD}/release", json={"note": " "})
        assert r.status_code == 422 and "备注必填" in r.json()["message"]
        r = c.post(f"/api/stock/reservations/{HELD}/release", json={"note": "买家不要了"})
        assert r.status_code == 200 and r.json()["released"] == {HELD: {"TEE-RED-0": 2}}
        assert _reserved(fahuo) == 2
        page = c.get("/stock/reservations").text
        assert "待拆包的包裹" in page and "7300000000001" in page
        assert "手工释放：买家不要了" in page  # the latest releases, with their reasons
        r = c.post("/stock/unpack", data={"pack_id": str(pid), "note": "放回A区",
                                          "csrf_token": _csrf(c, "/stock/reservations")},
                   follow_redirects=False)
        assert r.status_code == 303 and "/stock/reservations" in r.headers["location"]
        assert _reserved(fahuo) == 0
        page = c.get("/stock/reservations").text
        assert "拆包放回：包裹 7300000000001，放回A区" in page and "没有待拆包的包裹" in page
        r = c.post("/api/packs/unpack", json={"pack_id": pid})
        assert r.status_code == 422 and "确认拆包" in r.json()["message"]
        assert c.post("/api/packs/unpack", json={}).status_code == 422
        # a refund-only case on an order that never left: the receipt is refused, in Chinese
        r = c.post("/api/aftersales/7200000000000000001/receive",
                   json={"good": {"TEE-RED-0": 50}})
        assert r.status_code == 422 and "仅退款" in r.json()["message"]
        assert "收货入库" not in c.get("/aftersales").text  # no form where nothing comes back
    assert _reserved(fahuo) == 0


def test_cli_release_unpack_and_receive(fahuo, shop, run):
    _, pid = shop
    listed = run("stock", "reservations")
    assert listed.exit_code == 0 and HELD in listed.output and "7300000000001" in listed.output
    assert run("stock", "release", HELD).exit_code == 2  # --note is required
    got = run("stock", "release", HELD, "--note", "货给别人", "--actor", "老王")
    assert got.exit_code == 0 and "已手工释放 TEE-RED-0×2" in flat(got)
    again = run("stock", "release", HELD, "--note", "x")
    assert again.exit_code == 2 and "没有占用中的库存" in flat(again)
    done = run("stock", "unpack", "7300000000001", "--note", "放回")
    assert done.exit_code == 0 and "已拆包放回：TEE-RED-0×2" in flat(done)
    twice = run("stock", "unpack", "--pack", str(pid))
    assert twice.exit_code == 2 and "确认拆包" in flat(twice)
    bad = run("aftersales", "receive", "7200000000000000001", "--good", "TEE-RED-0=50")
    assert bad.exit_code == 2 and "仅退款" in flat(bad)
    assert _reserved(fahuo) == 0
    with fahuo.uow() as u:
        (entry,) = [a for a in u.audit.for_subject("order", HELD) if a["action"] == "stock.release"]
    assert entry["actor"] == "老王"
