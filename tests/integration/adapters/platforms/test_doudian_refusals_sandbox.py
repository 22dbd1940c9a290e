"""fahuo's Doudian adapter against the sandbox: each refusal the services act on arrives as its
type (errors.py's list), through the real client, so the rules match what the sandbox sends."""
from __future__ import annotations

import time

import httpx
import pytest

from fahuo.adapters.platforms.doudian import (
    AppCredentials,
    DoudianClient,
    DoudianShopApi,
    InMemoryTokenStore,
    RetryPolicy,
    ShopSession,
)
from fahuo.adapters.platforms.doudian.errors import (
    AfterSaleOpen,
    AlreadyShipped,
    BusinessError,
    PartlyShippedOrder,
    WaybillAlreadyCancelled,
    WaybillItemProblem,
    WaybillPickedUp,
)
from fahuo.adapters.platforms.doudian.shipping import PostalAddress, ShippedLine, WaybillRequest

HZ = PostalAddress("浙江省", "杭州市", "西湖区", "文新街道", "##c2FuZGJveA#1##")


@pytest.fixture
def shop(sandbox_url):
    """(fahuo's API for a fresh self-built sandbox app, an admin poster, the app)."""
    admin = httpx.Client(base_url=sandbox_url, trust_env=False, timeout=60)
    http = httpx.Client(trust_env=False, timeout=60)

    def post(path: str, body=None, method: str = "POST"):
        r = admin.request(method, path, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    app = post("/sandbox/apps", {})
    client = DoudianClient(AppCredentials(app["app_key"], app["app_secret"], gateway_url=sandbox_url),
                           http=http, retry=RetryPolicy(max_attempts=1))
    api = DoudianShopApi(ShopSession(client, InMemoryTokenStore(), "t",
                                     self_built_shop_id=str(app["shop_id"]), clock=time.time))
    yield api, post, app
    http.close()
    admin.close()


def ready(post, app, n: int) -> list[str]:
    shop = app["shop_id"]
    post("/sandbox/orders/generate", {"shop_id": shop, "count": n, "seed": 3})
    ids = [i["order_id"] for i in post(f"/sandbox/orders/index?shop_id={shop}", method="GET")]
    for oid in ids:
        post("/sandbox/orders/status", {"order_id": oid, "order_status": 2})
    return sorted(ids)


def numbers(api, courier: str, oids: list[str]):
    net = api.netsites(courier)[0]
    a = net.sender_addresses[0]
    sender = PostalAddress(a["province_name"], a["city_name"], a["district_name"],
                           a.get("street_name", ""), a["detail_address"])
    reqs = [WaybillRequest(o, "", HZ, "张三", "13800000000", [("T恤", 1)]) for o in oids]
    return api.take_waybills(courier, sender, "李四", "13900000000", reqs, net.netsite_code)


def test_shipping_refusals_arrive_typed(shop):
    api, post, app = shop
    oids = ready(post, app, 16)
    bills, errs = numbers(api, "yunda", oids[:4])
    assert errs == []
    no = {b.order_id: b.track_no for b in bills}
    a, b = oids[0], oids[1]
    api.ship_order(a, "yunda", no[a])
    for tn in (no[a], no[b]):  # again, with the same number or another one
        with pytest.raises(AlreadyShipped):
            api.ship_order(a, "yunda", tn)
    # an open after-sale blocks shipping (unless the refund is refused)
    sku = api.order_detail(b)["sku_order_list"][0]["order_id"]
    post("/sandbox/orders/refund", {"order_id": b, "sku_order_id": sku})
    with pytest.raises(AfterSaleOpen) as ei:
        api.ship_order(b, "yunda", no[b])
    assert sku in ei.value.sub_msg
    with pytest.raises(AfterSaleOpen):
        api.ship_single_pack([b], [ShippedLine(sku, 1)], "yunda", no[b], "req-b")
    # a cancelled order is refused, but with no type of its own
    c = oids[2]
    post("/sandbox/orders/status", {"order_id": c, "order_status": 4})
    with pytest.raises(BusinessError) as plain:
        api.ship_order(c, "yunda", no[c])
    assert type(plain.value) is BusinessError
    # partly shipped: the whole-order call is refused with the doc's words
    multi = next(o for o in oids[3:] if sum(
        s["item_num"] for s in api.order_detail(o)["sku_order_list"]) >= 2)
    s0 = api.order_detail(multi)["sku_order_list"][0]["order_id"]
    api.ship_single_pack([multi], [ShippedLine(s0, 1)], "yunda", "3000000000003", "req-m")
    with pytest.raises(PartlyShippedOrder):
        api.ship_order(multi, "yunda", "3000000000004")


def test_cancel_refusals_and_balance_arrive_typed(shop):
    api, post, app = shop
    oids = ready(post, app, 6)
    bills, _ = numbers(api, "yuantong", oids[:2])
    first, second = bills
    assert api.cancel_waybill("yuantong", first.track_no) is True
    with pytest.raises(WaybillAlreadyCancelled):
        api.cancel_waybill("yuantong", first.track_no)
    api.ship_order(second.order_id, "yuantong", second.track_no)
    post("/sandbox/shipments/pickup", {"tracking_no": second.track_no})
    with pytest.raises(WaybillPickedUp):
        api.cancel_waybill("yuantong", second.track_no)
    # an exhausted netsite answers per item, inside a successful envelope
    for net in api.netsites("jtexpress"):
        post("/sandbox/netsites/balance", {"shop_id": app["shop_id"], "logistics_code": "jtexpress",
                                           "netsite_code": net.netsite_code, "amount": 0})
    got, errs = numbers(api, "jtexpress", oids[2:4])
    assert got == [] and [e.kind for e in errs] == [WaybillItemProblem.BALANCE_EXHAUSTED] * 2
