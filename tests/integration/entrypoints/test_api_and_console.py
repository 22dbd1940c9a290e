import pytest
from fastapi.testclient import TestClient

from fahuo.entrypoints.web.app import create_app
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop


@pytest.fixture
def client(fahuo, make_order):
    with fahuo.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                    app_secret="s", gateway_url="http://127.0.0.1:1",
                                    shop_name="测试小店"))
        store_platform_orders(uow, ref, [
            make_order("6900000000000000001", 1_700_000_000, buyer_words="请发顺丰"),
            make_order("6900000000000000002", 1_700_000_100, status=4),
            make_order("6900000000000000003", 1_700_000_200, post_receiver="王小明"),
        ])
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        yield c


def test_api_lists_orders_by_state_deadline_first(client):
    r = client.get("/api/orders", params={"state": "synced"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2
    assert [o["order_id"] for o in body["items"]] == ["6900000000000000001",
                                                      "6900000000000000003"]
    assert client.get("/api/orders-summary").json() == {"synced": 2, "cancelled": 1}


def test_api_order_detail_masks_receiver(client):
    o = client.get("/api/orders/6900000000000000003").json()
    assert o["receiver_name_mask"] == "张*" and o["sub_orders"][0]["merchant_code"] == "TEE-RED-0"
    text = client.get("/api/orders/6900000000000000003").text
    assert "王小明" not in text and "receiver_plain_enc" not in text
    assert client.get("/api/orders/6900000000000009999").status_code == 404
    assert client.get("/api/orders/abc").status_code == 422  # not a Douyin order id


def test_api_shop_with_bad_input_names_every_wrong_field_and_adds_nothing(client):
    r = client.post("/api/shops", json={"shop_id": "x1", "app_key": "123", "app_secret": "",
                                        "gateway_url": "ftp://nope"})
    assert r.status_code == 422
    problems = {e["loc"][-1] for e in r.json()["detail"]}
    assert set(problems) == {"shop_id", "app_key", "app_secret", "gateway_url"}
    assert len(client.get("/api/shops").json()) == 1


def test_api_adds_a_shop(client):
    r = client.post("/api/shops", json={"shop_id": "2002", "app_key": "1234567890123456789",
                                        "app_secret": "sec", "gateway_url": "http://127.0.0.1:2"})
    assert r.status_code == 201 and r.json()["shop_id"] == "2002"
    again = client.post("/api/shops", json={"shop_id": "2002", "app_key": "1234567890123456789",
                                            "app_secret": "sec"})
    assert again.status_code == 409 and "already connected" in again.text


def test_console_pages_render_in_chinese_without_plain_pii(client):
    home = client.get("/")
    assert home.status_code == 200 and "订单总数" in home.text and "测试小店" in home.text
    orders = client.get("/orders?state=synced")
    assert "请发顺丰" in orders.text and "6900000000000000002" not in orders.text
    assert "王小明" not in orders.text and "张*" in orders.text
    partial = client.get("/orders?state=cancelled", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "6900000000000000002" in partial.text
    detail = client.get("/orders/6900000000000000001")
    assert "纯棉T恤" in detail.text and "TEE-RED-0" in detail.text
    assert client.get("/orders/6900000000000000404").status_code == 404
    assert "推送消息" in client.get("/inbox").text


def test_console_shop_form_shows_problems(client):
    r = client.post("/shops", data={"shop_id": "", "app_key": "1", "app_secret": ""})
    assert r.status_code == 422 and "店铺未添加" in r.text and "app_key" in r.text


def test_metrics_and_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert "fahuo_push_messages_total" in client.get("/metrics").text


def test_manual_ship_from_address_survives_a_platform_refresh(client, fahuo):
    r = client.put("/api/shops/1/addresses/wh-east", json={
        "name": "王仓管", "phone": "13800001234", "province": "浙江省", "city": "杭州市",
        "district": "余杭区", "detail": "仓前街道 8 号 3 号库", "is_default_send": True})
    assert r.status_code == 200
    bad = client.put("/api/shops/1/addresses/wh-east", json={"name": "", "phone": "x"})
    assert bad.status_code == 422
    with fahuo.uow() as uow:
        uow.settings.replace_addresses(1, [{"address_id": "p1", "name": "平台地址",
                                            "province": "广东省", "city": "广州市",
                                            "district": "白云区", "street": "",
                                            "detail": "1号", "is_default_send": False,
                                            "is_default_return": True}])
    rows = client.get("/api/shops/1/addresses").json()
    assert {r["address_id"] for r in rows} == {"wh-east", "p1"}
    mine = next(r for r in rows if r["address_id"] == "wh-east")
    assert mine["source"] == "manual" and mine["phone"] == "138****1234"


def test_dashboard_lists_every_unshipped_order_by_deadline(client, fahuo):
    from fahuo.services.holds import hold_orders
    hold_orders(fahuo.uow, ["6900000000000000001"], "核对地址", actor="test")
    page = client.get("/").text
    urgent = page.split("最紧急的待发货订单")[1].split("店铺同步")[0]
    assert "6900000000000000001" in urgent and "已挂起" in urgent  # held still counts
    assert "6900000000000000003" in urgent
    assert "6900000000000000002" not in urgent  # cancelled: nothing to ship
