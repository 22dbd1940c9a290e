"""Buyers ask for after-sales once their parcel is signed, through the platform's own path: the
cases show up in the admin list with the product's reason, a parcel is looked at once, and an
unsigned or refused parcel brings none."""
from __future__ import annotations

from fahuo.sandbox.aftersales.buyers import SHORT_OF_PRODUCT
from fahuo.sandbox.aftersales.rules import REASONS

DAY = 86400


def _orders(c, n: int, seed: int) -> list[dict]:
    shop = c.app["shop_id"]
    c.admin("/sandbox/orders/generate", {"shop_id": shop, "count": n, "seed": seed, "spread_seconds": 3600})
    for i in c.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET"):
        if i["order_status"] != 2:
            c.admin("/sandbox/orders/status", {"order_id": i["order_id"], "order_status": 2})
    data = c.call("order.searchList", {"size": 100, "page": 0})
    return sorted(data["shop_order_list"], key=lambda o: o["order_id"])


def test_signed_parcels_bring_after_sales_with_the_products_reasons(fresh_client):
    c = fresh_client()
    c.login()
    a, b, *rest = _orders(c, 12, seed=131)

    def products(o):
        return {SHORT_OF_PRODUCT[int(s["product_id"])] for s in o["sku_order_list"]}

    # everything from the buyers of a's and b's products; the rest never
    shorts = products(a) | products(b)
    d = next(o for o in rest if not products(o) & shorts)
    c.admin("/sandbox/aftersales/buyers", {"default": {"rate": 0.0},
                                           "products": {k: {"rate": 1.0, "reasons": {"7": 1}} for k in shorts}})
    c.admin("/sandbox/tracking/character", {"preset": "demo"})
    for o, no in ((a, "78000000013101"), (b, "78000000013102"), (d, "78000000013103")):
        assert c.call("order.logisticsAdd", {"order_id": o["order_id"], "company_code": "zhongtong",
                                             "logistics_code": no}) == {}
    c.admin("/sandbox/tracking/anomaly", {"track_no": "78000000013102", "kind": "refused"})
    c.admin("/sandbox/tracking/tick")
    shop = c.app["shop_id"]
    assert c.admin(f"/sandbox/aftersales?shop_id={shop}", method="GET") == []  # nothing signed yet
    c.travel(DAY)  # a day of sandbox clock: weeks of the parcels' lives at 1200×
    c.admin("/sandbox/tracking/tick")  # (the couriers' own thread may have been first)
    cases = c.admin(f"/sandbox/aftersales?shop_id={shop}", method="GET")
    assert len(cases) == len([s for s in a["sku_order_list"] if s["pay_amount"]])
    assert {x["order_id"] for x in cases} == {str(a["order_id"])}  # b refused, d's product not chosen
    assert {(x["aftersale_type"], x["reason_code"]) for x in cases} == {(0, 7)}  # 退货退款, 尺码不合适
    assert REASONS[7] == "尺码不合适"
    assert c.admin("/sandbox/tracking/tick")["aftersales_opened"] == 0  # looked at once


def test_bad_buyer_settings_are_a_400_naming_the_problem(fresh_client):
    c = fresh_client()
    r = c.http.post("/sandbox/aftersales/buyers", json={"products": {"NOPE": {"rate": 1}}})
    assert r.status_code == 400 and "NOPE" in r.json()["error"]
    r = c.http.post("/sandbox/tracking/character", json={"couriers": {"yunda": {"pace": 99}}})
    assert r.status_code == 400 and "pace must be within" in r.json()["error"]
