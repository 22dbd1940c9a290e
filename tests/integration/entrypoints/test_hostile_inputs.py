"""Hostile files and slow work cannot stop the web server (issue 10 G)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from support import crafted_xlsx, make_fahuo

from fahuo.adapters.platforms.doudian.signing import push_signature
from fahuo.entrypoints.web import webhooks
from fahuo.entrypoints.web.app import create_app
from fahuo.services import manual_ship
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop

APP_KEY = "3409409348479354011"
SECRET = "s3cret"
OIDS = ["6900000000000000001", "6900000000000000002"]


def _shop_with_orders(app, make_order) -> int:
    with app.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id="1001", app_key=APP_KEY, app_secret=SECRET,
                                    gateway_url="http://127.0.0.1:1"))
        store_platform_orders(uow, ref, [make_order(oid, 1_700_000_000) for oid in OIDS])
    return ref


@pytest.fixture
def client(fahuo, make_order):
    _shop_with_orders(fahuo, make_order)
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        yield c


def test_a_50_mb_csv_is_refused_by_the_size_limit_naming_it(client):
    line = b"6900000000000000001,\xe4\xb8\xad\xe9\x80\x9a,781111111111111\n"
    big = "订单号,快递公司,快递单号\n".encode() + line * (50 * (1 << 20) // len(line))
    assert len(big) >= 50 * (1 << 20) - len(line)
    r = client.post("/api/ship/import", files={"file": ("单号.csv", big, "text/csv")})
    assert r.status_code == 413
    assert "超过上限 5.0 MB（FAHUO_IMPORT_MAX_BYTES）" in r.json()["detail"]
    page = client.post("/ship/import", files={"file": ("单号.csv", big, "text/csv")})
    assert page.status_code == 413 and "超过上限 5.0 MB" in page.text
    stock = client.post("/api/stock/import", files={"file": ("盘点.csv", big, "text/csv")})
    assert stock.status_code == 413 and "FAHUO_IMPORT_MAX_BYTES" in stock.json()["message"]


def _old_sqlite_limits(app, variables: int = 999) -> None:
    """Make this engine's SQLite allow only ``variables`` bound parameters per statement,
    as older builds do (the default of current ones, 32766, needs a far longer file)."""
    @sa.event.listens_for(app.engine, "connect")
    def _limit(dbapi_conn, _record):
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variables)
    app.engine.dispose()


def test_a_long_file_under_the_limits_imports_without_too_many_sql_variables(
        tmp_path, make_order):
    app = make_fahuo(tmp_path, import_max_rows=1500)
    _old_sqlite_limits(app)
    _shop_with_orders(app, make_order)
    unknown = [f"69100000000{i:08d}" for i in range(1200)]
    rows = [f"{oid},中通,78{i:012d}" for i, oid in enumerate(OIDS + unknown)]
    data = ("订单号,快递公司,快递单号\n" + "\n".join(rows) + "\n").encode()
    stock = ("商家编码,数量,新编码\n" + "".join(f"SKU-{i:05d},{i % 7},是\n" for i in range(1300))
             ).encode()
    with TestClient(create_app(app, embedded_worker=False)) as c:
        r = c.post("/api/ship/import", files={"file": ("单号.csv", data, "text/csv")})
        assert r.status_code == 200, r.text
        assert r.json()["counts"] == {"ready": 2, "invalid": 1200}
        s = c.post("/api/stock/import", files={"file": ("盘点.csv", stock, "text/csv")})
        assert s.status_code == 200, s.text
        assert s.json()["lines"] == 1300
        assert c.get("/api/stock", params={"limit": 5000}).json()["total"] == 1300
        too_long = ("商家编码,数量\n" + "".join(f"X-{i},1\n" for i in range(1501))).encode()
        t = c.post("/api/stock/import", files={"file": ("盘点.csv", too_long, "text/csv")})
        assert t.status_code == 422 and "超过 1500 行的上限" in t.json()["message"]
        assert c.get("/api/stock", params={"limit": 5000}).json()["total"] == 1300
    app.close()


def test_a_20_digit_quantity_is_a_row_error_not_a_500(client):
    data = "商家编码,数量,新编码\nCUP-A,5,是\nCUP-B,12345678901234567890,是\n".encode()
    r = client.post("/api/stock/import", files={"file": ("盘点.csv", data, "text/csv")})
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "第3行 CUP-B：数量“12345678901234567890”超出范围：一行最多 ±10000000 件"]
    page = client.post("/stock", data={"move": "count"},
                       files={"file": ("盘点.csv", data, "text/csv")}, follow_redirects=False)
    assert page.status_code == 303 and "%E6%9C%AA%E5%A4%84%E7%90%86" in page.headers["location"]
    by_hand = client.post("/stock", data={"move": "receive", "sku_code": "CUP-A",
                                          "quantity": "99999999999"}, follow_redirects=False)
    assert by_hand.status_code == 303
    assert client.get("/api/stock").json()["total"] == 0  # nothing applied anywhere


def test_a_tiny_xlsx_declaring_a_huge_sheet_does_not_freeze_the_server(client):
    data = crafted_xlsx([["订单号", "快递公司", "快递单号"], [OIDS[0], "中通", "78111111111111"]])
    started = time.monotonic()
    r = client.post("/api/ship/import", files={"file": ("单号.xlsx", data)})
    assert r.status_code == 200 and time.monotonic() - started < 15
    assert r.json()["counts"] == {"ready": 1, "invalid": 1}  # the far row is named, invalid


def _health_while(app, slow_request) -> tuple[float, int]:
    """Seconds /healthz takes while ``slow_request`` (a coroutine function taking the client)
    is in progress, and that request's status."""
    async def main() -> tuple[float, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            slow = asyncio.create_task(slow_request(c))
            await asyncio.sleep(0.3)
            assert not slow.done()
            started = time.monotonic()
            h = await c.get("/healthz")
            took = time.monotonic() - started
            assert h.status_code == 200
            return took, (await slow).status_code
    return asyncio.run(main())


def test_healthz_keeps_answering_while_an_upload_is_being_parsed(fahuo, make_order,
                                                                  monkeypatch):
    _shop_with_orders(fahuo, make_order)
    real = manual_ship.parse_import

    def slow_parse(*a, **kw):
        time.sleep(2.0)  # a big file being read: blocking work
        return real(*a, **kw)
    monkeypatch.setattr(manual_ship, "parse_import", slow_parse)
    data = f"订单号,快递公司,快递单号\n{OIDS[0]},中通,781111111111111\n".encode()
    took, status = _health_while(
        create_app(fahuo, embedded_worker=False),
        lambda c: c.post("/api/ship/import", files={"file": ("单号.csv", data)}))
    assert status == 200 and took < 1.0, took


def test_a_slow_push_insert_never_stalls_other_requests(fahuo, make_order, monkeypatch):
    _shop_with_orders(fahuo, make_order)
    real = webhooks.accept_push

    def slow_accept(*a, **kw):
        time.sleep(2.0)  # a database busy with a long write
        return real(*a, **kw)
    monkeypatch.setattr(webhooks, "accept_push", slow_accept)
    body = json.dumps([{"tag": "101", "msg_id": "m1", "data": json.dumps(
        {"p_id": int(OIDS[0]), "s_ids": [int(OIDS[0])], "shop_id": 1001,
         "order_status": 2})}]).encode()
    headers = {"content-type": "application/json", "app-id": APP_KEY,
               "event-sign": push_signature(APP_KEY, SECRET, body)}
    took, status = _health_while(
        create_app(fahuo, embedded_worker=False),
        lambda c: c.post("/webhooks/doudian", content=body, headers=headers))
    assert status == 200 and took < 1.0, took
    with fahuo.uow() as uow:
        assert [m["msg_id"] for m in uow.inbox.recent(10)] == ["m1"]


def _someone_else(make_order):
    """Orders for another buyer at another address (other ciphertexts)."""
    def make(*a, **kw):
        o = make_order(*a, **kw)
        o["encrypt_post_receiver"], o["doudian_open_id"] = "##E1b3RoZXI=#1##", "2@#other"
        return o
    return make


def test_a_number_already_on_another_orders_parcel_is_refused(fahuo, make_order):
    from support import labelled_pack
    _shop_with_orders(fahuo, make_order)
    labelled_pack(fahuo, _someone_else(make_order), "6900000000000000003", "78222222222222")
    data = (f"订单号,快递公司,快递单号\n{OIDS[0]},中通,78222222222222\n"
            f"{OIDS[1]},中通,78333333333333\n").encode()
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        r = c.post("/api/ship/import", files={"file": ("单号.csv", data)})
    items = {i["line_no"]: i for i in r.json()["items"]}
    assert items[2]["status"] == "invalid"
    assert "已用于订单 6900000000000000003" in items[2]["message"]
    assert items[3]["status"] == "ready"


def test_duplicate_pack_ids_for_the_print_component_are_refused_clearly(fahuo, make_order):
    from support import labelled_pack
    _, pid = labelled_pack(fahuo, make_order, "6900000000000000003", "78222222222222")
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        r = c.post("/api/print/component/tasks", json={"pack_ids": [pid, pid]})
    assert r.status_code == 422 and f"包裹 {pid} 重复出现" in r.json()["message"]


def test_one_number_for_two_receivers_orders_in_a_file_is_refused(fahuo, make_order):
    _shop_with_orders(fahuo, make_order)
    with fahuo.uow() as uow:  # a third order, same buyer and address as the first: merged
        ref = uow.shops.list()[0].id
        store_platform_orders(uow, ref, [make_order("6900000000000000004", 1_700_000_000),
                                         _someone_else(make_order)("6900000000000000005",
                                                                   1_700_000_000)])
    data = ("订单号,快递公司,快递单号\n"
            f"{OIDS[0]},中通,78444444444444\n6900000000000000004,中通,78444444444444\n"
            f"{OIDS[1]},中通,78555555555555\n6900000000000000005,中通,78555555555555\n").encode()
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        r = c.post("/api/ship/import", files={"file": ("单号.csv", data)})
    status = {i["line_no"]: (i["status"], i["message"]) for i in r.json()["items"]}
    assert status[2][0] == status[3][0] == "ready"  # one parcel, one receiver: fine
    assert status[4][0] == status[5][0] == "invalid"
    assert "不同收件人的订单 6900000000000000005" in status[4][1]


def test_a_shop_with_a_tiny_rate_is_refused_by_api_and_cli(client, run):
    body = {"shop_id": "2002", "app_key": "1234567890123456789", "app_secret": "sec",
            "gateway_url": "http://127.0.0.1:2", "rate_qps": 0.0001}
    r = client.post("/api/shops", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "rate_qps"
    out = run("shop", "add", "--shop-id", "2003", "--app-key", "1234567890123456780",
              "--app-secret", "s", "--qps", "0.0001", "--no-connect")
    assert out.exit_code == 2 and "0.5 到 10000 之间" in out.output
    assert [s["shop_id"] for s in client.get("/api/shops").json()] == ["1001"]
