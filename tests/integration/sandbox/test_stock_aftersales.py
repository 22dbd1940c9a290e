"""Inventory (doc §11) and after-sale (doc §12, pushes §10) in the sandbox, driven where possible through
fahuo's own client (``DoudianShopApi``) to prove the two agree."""
from __future__ import annotations

import json
import time
from collections import Counter

import httpx
import pytest

from fahuo.adapters.platforms.doudian import (
    AppCredentials,
    BusinessError,
    DoudianClient,
    DoudianShopApi,
    InMemoryTokenStore,
    RetryPolicy,
    ShopSession,
)
from fahuo.sandbox import catalogue

DAY = 86400
PRODUCT = catalogue.CATALOGUE[0]  # 9 SKUs
OTHER = catalogue.CATALOGUE[1]


@pytest.fixture
def shop_api():
    """fahuo's real API facade for a sandbox app (self-built: it creates its own token)."""
    made = []

    def make(url: str, app: dict, clock=time.time) -> DoudianShopApi:
        http = httpx.Client(trust_env=False, timeout=30)
        made.append(http)
        client = DoudianClient(AppCredentials(app["app_key"], app["app_secret"], gateway_url=url), http=http,
                               retry=RetryPolicy(max_attempts=1), clock=clock)
        return DoudianShopApi(ShopSession(client, InMemoryTokenStore(), "t", self_built_shop_id=str(app["shop_id"]),
                                          clock=clock))

    yield make
    for http in made:
        http.close()


def stock_of(client) -> dict:
    return client.admin(f"/sandbox/stock?shop_id={client.app['shop_id']}", method="GET")


def levels(client) -> dict[int, int]:
    return {int(s["sku_id"]): s["stock_num"] for s in stock_of(client)["skus"]}


def err(client, method: str, params: dict) -> dict:
    res = client.raw(method, params)
    assert res["code"] != 10000, res
    return res


def all_orders(client) -> dict[str, dict]:
    out, page = {}, 0
    while True:
        data = client.call("order.searchList", {"size": 100, "page": page})
        out.update({o["order_id"]: o for o in data["shop_order_list"]})
        if (page + 1) * 100 >= data["total"]:
            return out
        page += 1


def paid_units(orders) -> Counter:
    c: Counter = Counter()
    for o in orders:
        if o["order_status"] in (2, 105):
            for s in o["sku_order_list"]:
                if s["after_sale_info"]["after_sale_status"] != 12:
                    c[s["sku_id"]] += s["item_num"]
    return c


def pushes(rec, tag: str | None = None) -> list[dict]:
    return [dict(json.loads(m["data"]), _tag=m["tag"]) for m in rec.ok_messages() if tag in (None, m["tag"])]


def ready_orders(client, n: int, seed: int) -> list[dict]:
    """``n`` generated orders forced to 待发货 (2), oldest id first."""
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": n, "seed": seed, "spread_seconds": 3600})
    for i in client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET"):
        if i["order_status"] != 2:
            client.admin("/sandbox/orders/status", {"order_id": i["order_id"], "order_status": 2})
    return sorted(all_orders(client).values(), key=lambda o: o["order_id"])


def ship(client, order: dict, no: str, company: str = "zhongtong") -> None:
    assert client.call("order.logisticsAdd", {"order_id": order["order_id"], "company_code": company,
                                              "logistics_code": no}) == {}


# ---------------------------------------------------------------------------- stock

def test_sync_stock_absolute_incremental_and_idempotent_through_fahuo(client, sb_url, shop_api):
    api = shop_api(sb_url, client.app)
    pid, sku, other = PRODUCT["product_id"], PRODUCT["skus"][0], OTHER["skus"][0]
    view = stock_of(client)
    assert len(view["skus"]) == len(catalogue.ALL_SKUS) and {s["stock_num"] for s in view["skus"]} == {1000}
    got = api.stock_num(str(sku["sku_id"]))
    assert (got["sku_id"], got["code"], got["stock_num"], got["prehold_stock_num"]) == (sku["sku_id"], sku["code"],
                                                                                         1000, 0)
    assert api.sync_stock(str(pid), str(sku["sku_id"]), 40) is True
    assert api.stock_num(str(sku["sku_id"]))["stock_num"] == 40
    assert api.sync_stock(str(pid), str(sku["sku_id"]), 5, incremental=True, idempotent_id="inc-1") is True
    # the same idempotent id again: refused by the platform, reported by fahuo as "already applied"
    assert api.sync_stock(str(pid), str(sku["sku_id"]), 5, incremental=True, idempotent_id="inc-1") is False
    assert api.stock_num(str(sku["sku_id"]))["stock_num"] == 45
    base = {"product_id": str(pid), "sku_id": str(sku["sku_id"])}
    res = err(client, "sku.syncStock", dict(base, stock_num=1, incremental=True, idempotent_id="inc-1"))
    assert (res["code"], res["sub_code"]) == (40003, "isv.idempotent-id-existed")
    res = err(client, "sku.syncStock", dict(base, stock_num=1, incremental=True))
    assert (res["code"], res["sub_code"]) == (40002, "isv.parameter-missing:idempotent_id")
    res = err(client, "sku.syncStock", dict(base, stock_num=-1))
    assert (res["code"], res["sub_code"]) == (40003, "isv.parameter-invalid:stock_num")
    assert err(client, "sku.syncStock", {"sku_id": str(sku["sku_id"]), "stock_num": 1})["sub_code"] == \
        "isv.parameter-missing:product_id"
    assert err(client, "sku.syncStock", dict(base, sku_id="12ab", stock_num=1))["sub_code"] == \
        "isv.parameter-invalid:sku_id"
    # a delta below zero fails and does not use up its idempotent id
    res = err(client, "sku.syncStock", dict(base, stock_num=-100, incremental=True, idempotent_id="inc-2"))
    assert res["sub_code"] == "isv.business-failed:11" and str(sku["sku_id"]) in res["sub_msg"]
    assert api.sync_stock(str(pid), str(sku["sku_id"]), -45, incremental=True, idempotent_id="inc-2") is True
    assert api.stock_num(str(sku["sku_id"]))["stock_num"] == 0
    # by merchant code
    client.call("sku.syncStock", {"product_id": pid, "code": sku["code"], "stock_num": 7})
    assert client.call("sku.stockNum", {"code": sku["code"]})["stock_num"] == 7
    # a SKU of another product, an unknown SKU: business errors naming them
    with pytest.raises(BusinessError) as ei:
        api.sync_stock(str(pid), str(other["sku_id"]), 3)
    assert ei.value.sub_code == "isv.business-failed:11"
    assert str(other["sku_id"]) in ei.value.sub_msg and str(OTHER["product_id"]) in ei.value.sub_msg
    with pytest.raises(BusinessError) as ei:
        api.sync_stock(str(pid), "1700000000099999999", 3)
    assert "1700000000099999999" in ei.value.sub_msg
    assert err(client, "sku.stockNum", {"sku_id": 1700000000099999999})["sub_code"] == "isv.business-failed:11"
    assert levels(client)[other["sku_id"]] == 1000
    # the call log: every call that reached the method, with what it asked and did
    syncs = stock_of(client)["syncs"]
    ok = [(s["method"], s["incremental"], s["skus"][0]["stock_num"], s["skus"][0]["after"]) for s in syncs
          if s["code"] == 10000]
    assert ok == [("sku.syncStock", False, 40, 40), ("sku.syncStock", True, 5, 45), ("sku.syncStock", True, -45, 0),
                  ("sku.syncStock", False, 7, 7)]
    assert Counter(s["sub_code"] for s in syncs if s["code"] != 10000) == Counter({
        "isv.idempotent-id-existed": 2, "isv.parameter-missing:idempotent_id": 1, "isv.parameter-invalid:stock_num": 1,
        "isv.parameter-missing:product_id": 1, "isv.parameter-invalid:sku_id": 1, "isv.business-failed:11": 3})


def test_sync_stock_batch_is_all_or_nothing(client, sb_url, shop_api):
    api = shop_api(sb_url, client.app)
    pid = str(PRODUCT["product_id"])
    a, b, c = (str(s["sku_id"]) for s in PRODUCT["skus"][:3])
    assert api.sync_stock_batch(pid, [(a, 10), (b, 20), (c, 0)]) is True
    want = {int(a): 10, int(b): 20, int(c): 0}
    assert {k: levels(client)[k] for k in want} == want
    bad_sku = str(OTHER["skus"][0]["sku_id"])
    for wrong in (bad_sku, "1700000000099999999"):
        with pytest.raises(BusinessError) as ei:
            api.sync_stock_batch(pid, [(a, 11), (wrong, 5), (b, 21)])
        assert ei.value.sub_code == "isv.business-failed:11" and wrong in ei.value.sub_msg
        assert {k: levels(client)[k] for k in want} == want  # nothing changed
    assert api.sync_stock_batch(pid, [(a, 1), (b, 1)], incremental=True, idempotent_id="b-1") is True
    assert api.sync_stock_batch(pid, [(a, 1), (b, 1)], incremental=True, idempotent_id="b-1") is False
    want.update({int(a): 11, int(b): 21})
    # one SKU would go below zero: the whole increment fails
    res = err(client, "sku.syncStockBatch", {"product_id": pid, "incremental": True, "idempotent_id": "b-2",
                                             "sku_sync_list": [{"sku_id": a, "stock_num": 5},
                                                               {"sku_id": c, "stock_num": -1}]})
    assert res["sub_code"] == "isv.business-failed:11" and c in res["sub_msg"]
    assert {k: levels(client)[k] for k in want} == want
    # strict parameters
    assert err(client, "sku.syncStockBatch", {"product_id": pid})["sub_code"] == "isv.parameter-missing:sku_sync_list"
    res = err(client, "sku.syncStockBatch", {"product_id": pid, "sku_sync_list": [{"sku_id": a, "stock_num": 1},
                                                                                  {"sku_id": a, "stock_num": 2}]})
    assert res["sub_code"] == "isv.parameter-invalid:sku_sync_list" and a in res["sub_msg"]
    res = err(client, "sku.syncStockBatch", {"product_id": pid, "sku_sync_list": [{"stock_num": 1}]})
    assert res["sub_code"] == "isv.parameter-missing:sku_sync_list[0].sku_id"
    res = err(client, "sku.syncStockBatch", {"product_id": pid, "sku_sync_list": [{"sku_id": a, "stock_num": -3}]})
    assert res["sub_code"] == "isv.parameter-invalid:sku_sync_list[0].stock_num"
    assert {k: levels(client)[k] for k in want} == want
    batches = [s for s in stock_of(client)["syncs"] if s["method"] == "sku.syncStockBatch"]
    assert [s["code"] for s in batches] == [10000, 50002, 50002, 10000, 40003, 50002, 40002, 40003, 40002, 40003]


def test_stock_num_follows_syncs_and_paid_orders(client, sb_url, shop_api):
    api = shop_api(sb_url, client.app)
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 150, "seed": 71, "spread_seconds": 3600})
    first = all_orders(client)
    sold = paid_units(first.values())
    assert sold and levels(client) == {s["sku_id"]: max(0, 1000 - sold[s["sku_id"]]) for _, s in catalogue.ALL_SKUS}
    # the merchant syncs every SKU (0 for the first product: a sale then cannot take it below 0)
    for p in catalogue.CATALOGUE:
        q = 0 if p is PRODUCT else 500
        assert api.sync_stock_batch(str(p["product_id"]), [(str(s["sku_id"]), q) for s in p["skus"]])
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 150, "seed": 72, "spread_seconds": 3600})
    second = {k: o for k, o in all_orders(client).items() if k not in first}
    # every open order changes once: most unpaid ones get paid now, some paid ones are cancelled
    mutated = client.admin("/sandbox/orders/mutate", {"shop_id": shop, "count": 1000, "seed": 73})["mutated"]
    paid_later = [m["order_id"] for m in mutated if m["kind"] == "paid"]
    assert paid_later
    now_orders = all_orders(client)
    # paid after the sync: the second batch as generated, and every order the mutation paid (all were unpaid)
    after_sync = paid_units(second.values()) + paid_units([dict(now_orders[o], order_status=2) for o in paid_later])
    want = {s["sku_id"]: max(0, (0 if p is PRODUCT else 500) - after_sync[s["sku_id"]]) for p, s in catalogue.ALL_SKUS}
    assert levels(client) == want
    # prehold: units of every paid, unshipped line, whenever it was paid
    held = paid_units(now_orders.values())
    victim = next(o for o in now_orders.values() if o["order_status"] == 2)
    x = victim["sku_order_list"][0]["sku_id"]
    got = api.stock_num(str(x))
    assert (got["prehold_stock_num"], got["stock_num"]) == (held[x], want[x]) and held[x] > 0
    ship(client, victim, "78000000009991")
    units = sum(s["item_num"] for s in victim["sku_order_list"] if s["sku_id"] == x)
    got = api.stock_num(str(x))
    assert (got["prehold_stock_num"], got["stock_num"]) == (held[x] - units, want[x])


# ---------------------------------------------------------------------------- after-sales

def test_after_sale_list_pages_and_follows_update_time_through_fahuo(client, sb_url, shop_api):
    api = shop_api(sb_url, client.app)
    t0 = int(time.time()) - 1
    orders = ready_orders(client, 30, seed=81)[:25]
    made = [client.admin("/sandbox/aftersales", {"order_id": o["order_id"], "sku_order_id": o["order_id"]})
            ["aftersales"][0] for o in orders]
    assert {(m["aftersale_type"], m["aftersale_status"], m["refund_status"]) for m in made} == {(2, 6, 1)}
    seen, page = [], 0
    while True:
        got = api.after_sales(update_start=t0, update_end=int(time.time()) + 5, page=page, size=10)
        assert got.total == 25 and len(got.items) == (10 if page < 2 else 5)
        seen += got.items
        if not got.has_more:
            break
        page += 1
    assert page == 2
    # update_time ascending (fahuo asks for it); same-second ties keep the application order
    assert [i["aftersale_info"]["aftersale_id"] for i in seen] == [m["aftersale_id"] for m in made]
    assert [i["aftersale_info"]["update_time"] for i in seen] == sorted(m["update_time"] for m in made)
    by_id = {o["order_id"]: o for o in orders}
    for item in seen:
        info, oi = item["aftersale_info"], item["order_info"]
        line = by_id[oi["shop_order_id"]]["sku_order_list"][0]
        (rel,) = oi["related_order_info"]
        assert (rel["sku_order_id"], rel["order_status"], rel["item_num"], rel["shop_sku_code"]) == \
            (line["order_id"], 2, line["item_num"], line["code"])
        assert (info["aftersale_type"], info["aftersale_status"], info["refund_status"]) == (2, 6, 1)
        assert info["refund_amount"] == line["pay_amount"] and info["return_logistics_code"] == ""
        assert info["related_id"] == line["order_id"] and info["apply_time"] == info["update_time"]
    # later changes are found by their update time alone
    last = max(i["aftersale_info"]["update_time"] for i in seen)
    while int(time.time()) <= last:
        time.sleep(0.05)
    changed = [client.admin(f"/sandbox/aftersales/{m['aftersale_id']}/status", {"aftersale_status": 27})
               for m in made[3:6]]
    assert all(c["update_time"] > last and c["tags"] == ["204"] for c in changed)
    got = api.after_sales(update_start=last + 1, update_end=int(time.time()) + 5)
    assert [i["aftersale_info"]["aftersale_id"] for i in got.items] == [m["aftersale_id"] for m in made[3:6]]
    assert {(i["aftersale_info"]["aftersale_status"], i["aftersale_info"]["refund_status"]) for i in got.items} == \
        {(27, 4)}
    d = client.call("order.orderDetail", {"shop_order_id": orders[3]["order_id"]})["shop_order_detail"]
    assert d["sku_order_list"][0]["after_sale_info"] == {"after_sale_status": 27, "after_sale_type": 2,
                                                         "refund_status": 4}
    assert d["update_time"] >= changed[0]["update_time"]
    # filters and strictness
    assert client.call("afterSale.List", {"standard_aftersale_status": [27]})["total"] == 3
    one = client.call("afterSale.List", {"order_id": orders[0]["order_id"]})
    assert one["total"] == 1 and one["items"][0]["aftersale_info"]["aftersale_id"] == made[0]["aftersale_id"]
    assert client.call("afterSale.List", {"aftersale_id": made[7]["aftersale_id"]})["items"][0]["order_info"][
        "shop_order_id"] == orders[7]["order_id"]
    newest = client.call("afterSale.List", {"size": 2})  # default order: newest application first
    assert newest["size"] == 2 and newest["has_more"] and newest["items"][0]["aftersale_info"]["aftersale_id"] == \
        made[-1]["aftersale_id"]
    assert err(client, "afterSale.List", {"size": 101})["sub_code"] == "isv.parameter-invalid:size"
    assert err(client, "afterSale.List", {"page": -1})["sub_code"] == "isv.parameter-invalid:page"
    assert err(client, "afterSale.List", {"standard_aftersale_status": [99]})["sub_code"] == \
        "isv.parameter-invalid:standard_aftersale_status"
    assert err(client, "afterSale.List", {"order_by": ["price asc"]})["sub_code"] == "isv.parameter-invalid:order_by"


def test_return_refund_story_with_pushes_list_and_detail(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    o, other = ready_orders(client, 3, seed=91)[:2]
    r = client.http.post("/sandbox/aftersales", json={"order_id": o["order_id"], "kind": "return"})
    assert r.status_code == 400 and "not shipped" in r.json()["error"]  # nothing to send back yet
    ship(client, o, "78000000009101")
    made = client.admin("/sandbox/aftersales", {"order_id": o["order_id"], "sku_order_id": o["order_id"],
                                                "kind": "return"})["aftersales"][0]
    aid = made["aftersale_id"]
    assert (made["aftersale_type"], made["aftersale_status"], made["refund_status"]) == (0, 6, 1)
    again = client.http.post("/sandbox/aftersales", json={"order_id": o["order_id"], "sku_order_id": o["order_id"]})
    assert again.status_code == 400 and aid in again.json()["error"]
    bad = client.http.post(f"/sandbox/aftersales/{aid}/status", json={"aftersale_status": 12})
    assert bad.status_code == 400  # a return-refund is agreed only after the goods come back
    assert client.http.post(f"/sandbox/aftersales/{aid}/return_shipped",
                            json={"company_code": "yuantong", "tracking_no": "YT1234567890123"}).status_code == 400
    assert client.admin(f"/sandbox/aftersales/{aid}/status", {"aftersale_status": 7})["tags"] == ["202"]
    assert client.http.post(f"/sandbox/aftersales/{aid}/status", json={"aftersale_status": 11}).status_code == 400
    back = client.admin(f"/sandbox/aftersales/{aid}/return_shipped",
                        {"company_code": "yuantong", "tracking_no": "YT1234567890123"})
    assert (back["aftersale_status"], back["tags"]) == (11, ["203"])
    item = client.call("afterSale.List", {"aftersale_id": aid})["items"][0]
    info = item["aftersale_info"]
    assert (info["aftersale_status"], info["return_logistics_code"], info["return_logistics_company_name"]) == \
        (11, "YT1234567890123", "圆通快递")
    assert info["order_logistics"][0]["tracking_no"] == "78000000009101"
    assert item["order_info"]["related_order_info"][0]["order_status"] == 3  # shipped
    done = client.admin(f"/sandbox/aftersales/{aid}/status", {"aftersale_status": 12})
    assert (done["aftersale_status"], done["refund_status"], done["tags"]) == (12, 3, ["201", "206"])
    assert client.http.post(f"/sandbox/aftersales/{aid}/status", json={"aftersale_status": 28}).status_code == 400
    assert client.http.post("/sandbox/aftersales/7200000000000000000/status",
                            json={"aftersale_status": 7}).status_code == 404
    d = client.call("afterSale.Detail", {"after_sale_id": aid, "need_operation_record": True})
    a = d["process_info"]["after_sale_info"]
    assert (a["after_sale_id"], a["after_sale_status"], a["refund_status"], a["after_sale_type"]) == \
        (int(aid), 12, 3, 0)
    assert d["process_info"]["logistics_info"]["return"]["company_code"] == "yuantong"
    assert [x["action"] for x in d["process_info"]["record_logs_list"]] == ["apply", "agree_return", "return", "agree"]
    assert d["order_info"]["shop_order_id"] == int(o["order_id"])
    assert err(client, "afterSale.Detail", {"after_sale_id": "7200000000000000001"})["sub_code"] == \
        "isv.business-failed:12"
    assert err(client, "afterSale.Detail", {})["sub_code"] == "isv.parameter-missing:after_sale_id"
    line = client.call("order.orderDetail", {"shop_order_id": o["order_id"]})["shop_order_detail"]["sku_order_list"][0]
    assert line["after_sale_info"] == {"after_sale_status": 12, "after_sale_type": 0, "refund_status": 3}
    assert rec.wait_for(lambda r: len(pushes(r, None)) >= 5 and "206" in {m["_tag"] for m in pushes(r)})
    mine = [m for m in pushes(rec) if str(m.get("aftersale_id")) == aid]
    assert [m["_tag"] for m in mine] == ["200", "202", "203", "201", "206"]
    assert all((m["p_id"], m["s_id"], m["shop_id"]) == (int(o["order_id"]), int(o["order_id"]), client.app["shop_id"])
               for m in mine)
    assert mine[-1]["success_time"] == done["update_time"] and mine[3]["agree_time"] == done["update_time"]
    # the old admin refund still answers as before (refund-only, per line)
    res = client.admin("/sandbox/orders/refund", {"order_id": other["order_id"]})
    assert [x["sku_order_id"] for x in res["aftersales"]] == [s["order_id"] for s in other["sku_order_list"]]
    assert {x["aftersale_type"] for x in res["aftersales"]} == {2}


def test_shipping_over_an_open_refund_refuses_the_stored_case(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    o = ready_orders(client, 2, seed=95)[0]
    aid = client.admin("/sandbox/orders/refund", {"order_id": o["order_id"], "sku_order_id": o["order_id"]})[
        "aftersales"][0]["aftersale_id"]
    assert client.call("order.logisticsAdd", {"order_id": o["order_id"], "company_code": "yunda",
                                              "logistics_code": "3000000009501", "is_reject_refund": True}) == {}
    info = client.call("afterSale.List", {"aftersale_id": aid})["items"][0]["aftersale_info"]
    assert (info["aftersale_status"], info["refund_status"]) == (27, 4)
    assert rec.wait_for(lambda r: any(str(m.get("aftersale_id")) == aid for m in pushes(r, "204")))


def test_intercept_in_transit_succeeds_and_after_delivery_is_refused(fresh_client, fresh_url, shop_api):
    c = fresh_client()
    c.login()
    api = shop_api(fresh_url, c.app, clock=lambda: time.time() + c.offset)
    a, b, u = ready_orders(c, 3, seed=97)
    ship(c, a, "78000000009701")
    c.travel(10 * DAY)  # a is delivered by now
    c.login()
    ship(c, b, "78000000009702")
    c.travel(10 * DAY + 14 * 3600)  # b is collected and travelling
    c.login()
    aid_a, aid_b, aid_u = (c.admin("/sandbox/aftersales", {"order_id": o["order_id"], "sku_order_id": o["order_id"]})
                           ["aftersales"][0]["aftersale_id"] for o in (a, b, u))
    res = api.apply_intercept(aid_a, [("zhongtong", "78000000009701")])
    (r,) = res["intercept_results"]
    assert (r["can_intercept"], r["is_success"], r["unavailable_reason_code"]) == (False, False, 4)
    assert "签收" in r["unavailable_reason"] and (res["success_count"], res["failed_count"]) == (0, 1)
    res = api.apply_intercept(aid_b, [("zhongtong", "78000000009702"), ("zhongtong", "78000000009701"),
                                      ("yunda", "78000000009702")])
    ok, foreign, wrong_company = res["intercept_results"]
    assert (ok["can_intercept"], ok["is_success"], ok["intercept_cost"]) == (True, True, 300)
    assert ok["cur_product"]["order_id"] == int(b["order_id"]) and ok["value_amount"] > 0
    assert (foreign["is_success"], foreign["unavailable_reason_code"]) == (False, 1)
    assert (wrong_company["is_success"], wrong_company["unavailable_reason_code"]) == (False, 2)
    assert (res["success_count"], res["failed_count"], res["refund_amount"]) == (1, 2, b["sku_order_list"][0][
        "pay_amount"])
    again = api.apply_intercept(aid_b, [("zhongtong", "78000000009702")])["intercept_results"][0]
    assert (again["is_success"], again["unavailable_reason_code"]) == (False, 3)
    track = c.admin("/sandbox/tracking/78000000009702", method="GET")
    assert track["anomaly"] == "intercepted" and track["events"][-1]["step"] == "returned"
    assert any(e["step"] == "collected" and e["due"] for e in track["events"])
    # whole-call refusals: an unshipped order, an unknown after-sale, missing op_from
    res = err(c, "afterSale.applyLogisticsIntercept", {"after_sale_id": int(aid_u), "op_from": 1,
                                                       "intercept_targets": [{"company_code": "zhongtong",
                                                                              "tracking_no": "78000000009703"}]})
    assert res["sub_code"] == "isv.business-failed:13"
    res = err(c, "afterSale.applyLogisticsIntercept", {"after_sale_id": 7200000000000000001, "op_from": 1,
                                                       "intercept_targets": [{"company_code": "zhongtong",
                                                                              "tracking_no": "78000000009703"}]})
    assert res["sub_code"] == "isv.business-failed:12"
    res = err(c, "afterSale.applyLogisticsIntercept", {"after_sale_id": int(aid_b), "intercept_targets": [
        {"company_code": "zhongtong", "tracking_no": "78000000009702"}]})
    assert res["sub_code"] == "isv.parameter-missing:op_from"
    # the List shows where the parcels are: a signed (2), b on its way back and later back home (4)
    c.travel(40 * DAY)
    state = {i["aftersale_info"]["aftersale_id"]: i["aftersale_info"] for i in
             api.after_sales(update_start=0, update_end=int(time.time() + c.offset) + 5).items}
    assert state[aid_a]["order_logistics"][0]["logistics_state"] == 2 and state[aid_a]["got_pkg"] == 1
    assert state[aid_b]["order_logistics"][0]["logistics_state"] == 4 and state[aid_b]["got_pkg"] == 0
    assert state[aid_u]["order_logistics"] == []


def test_couriers_marked_outside_the_platforms_interception_are_refused_per_parcel(fresh_client, fresh_url,
                                                                                  shop_api):
    c = fresh_client()
    c.login()
    api = shop_api(fresh_url, c.app, clock=lambda: time.time() + c.offset)
    a, b = ready_orders(c, 2, seed=98)
    ship(c, a, "78000000009801")
    ship(c, b, "YT9800000009802", company="yuantong")
    c.travel(14 * 3600)  # both collected and travelling
    c.login()
    aid_a, aid_b = (c.admin("/sandbox/aftersales", {"order_id": o["order_id"], "sku_order_id": o["order_id"]})
                    ["aftersales"][0]["aftersale_id"] for o in (a, b))
    r = c.http.post("/sandbox/aftersales/intercept_unsupported", json={"company_codes": ["nosuch"]})
    assert r.status_code == 400 and "nosuch" in r.json()["error"]
    assert c.admin("/sandbox/aftersales/intercept_unsupported", {"company_codes": ["zhongtong"]}) == {
        "company_codes": ["zhongtong"]}
    (r,) = api.apply_intercept(aid_a, [("zhongtong", "78000000009801")])["intercept_results"]
    assert (r["can_intercept"], r["is_success"], r["unavailable_reason_code"]) == (False, False, 7)
    assert "不支持平台拦截" in r["unavailable_reason"]
    assert c.admin("/sandbox/tracking/78000000009801", method="GET")["anomaly"] != "intercepted"
    (r,) = api.apply_intercept(aid_b, [("yuantong", "YT9800000009802")])["intercept_results"]
    assert r["is_success"]  # other couriers are unaffected
    c.admin("/sandbox/aftersales/intercept_unsupported", {"company_codes": []})
    (r,) = api.apply_intercept(aid_a, [("zhongtong", "78000000009801")])["intercept_results"]
    assert r["is_success"] and r["intercept_cost"] == 300


def test_fahuo_after_sale_sync_reads_the_sandbox_cases(fahuo, sb_url, h):
    from support import SandboxAdmin, connect_sandbox_shop

    from fahuo.bootstrap import sync_after_sales
    from fahuo.services.aftersales import list_cases
    admin = SandboxAdmin(sb_url)
    try:
        ref, creds = connect_sandbox_shop(fahuo, admin)
    finally:
        admin.http.close()
    client = h.Client(sb_url, creds)
    client.login()
    before, after = ready_orders(client, 2, seed=99)
    ship(client, after, "78000000009901")
    pre = client.admin("/sandbox/aftersales", {"order_id": before["order_id"], "sku_order_id": before["order_id"]})
    ret = client.admin("/sandbox/aftersales", {"order_id": after["order_id"], "sku_order_id": after["order_id"],
                                               "kind": "return"})
    rid = ret["aftersales"][0]["aftersale_id"]
    client.admin(f"/sandbox/aftersales/{rid}/status", {"aftersale_status": 7})
    client.admin(f"/sandbox/aftersales/{rid}/return_shipped", {"company_code": "yuantong",
                                                               "tracking_no": "YT9999999999901"})
    # fahuo reads up to now − 3 s; each change may stamp a case one second ahead of the clock
    rep = sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + 10)
    assert rep.cases == 2
    cases = {x["aftersale_id"]: x for x in list_cases(fahuo.uow, status="all")}
    p, r = cases[pre["aftersales"][0]["aftersale_id"]], cases[rid]
    assert (p["order_id"], p["stage"], p["aftersale_type"], p["aftersale_status"], p["refund_status"]) == \
        (before["order_id"], "before_ship", 2, 6, 1)
    assert p["refund_amount"] == before["sku_order_list"][0]["pay_amount"]
    assert p["sku_order_ids"] == [before["order_id"]]
    assert (r["stage"], r["aftersale_type"], r["aftersale_status"], r["return_tracking_no"]) == \
        ("after_ship", 0, 11, "YT9999999999901")
    client.close()
