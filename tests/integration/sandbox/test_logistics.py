"""E-waybill (doc §9) and shipping (doc §8) methods over real HTTP, with their refusals and pushes."""
from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

FORMATS = {"zhongtong": r"^7[3-68]\d{12}$", "yuantong": r"^YT\d{13}$", "yunda": r"^3\d{12}$",
           "shentong": r"^77\d{13}$", "jtexpress": r"^JT\d{13}$", "shunfeng": r"^SF\d{13}$"}
HZ = {"province_name": "浙江省", "city_name": "杭州市", "district_name": "西湖区", "street_name": "文新街道",
      "detail_address": "##c2FuZGJveA#1##"}
LHASA = {"province_name": "西藏自治区", "city_name": "拉萨市", "district_name": "城关区", "detail_address": "北京中路1号"}
CONTACT = {"name": "张三", "mobile": "13800000000"}


def prepare(client, n: int = 12, seed: int = 1) -> list[dict]:
    """Generate ``n`` orders for the client's shop, force them to 待发货 (2) and return their payloads."""
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": n, "seed": seed})
    index = client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")
    for i in index:
        client.admin("/sandbox/orders/status", {"order_id": i["order_id"], "order_status": 2})
    data = client.call("order.searchList", {"size": 100})
    return sorted(data["shop_order_list"], key=lambda o: o["order_id"])


def detail(client, oid: str) -> dict:
    return client.call("order.orderDetail", {"shop_order_id": oid})["shop_order_detail"]


def sender(client, code: str, k: int = 0) -> dict:
    nets = client.call("logistics.listShopNetsite", {"logistics_code": code})["netsites"]
    return {"address": dict(nets[k]["sender_address"][0], country_code="CHN"), "contact": CONTACT}


def info(oid: str, pack_id: str | None = None, addr: dict | None = None) -> dict:
    it = {"order_id": oid, "receiver_info": {"address": addr or HZ, "contact": CONTACT},
          "items": [{"item_name": "T恤", "item_count": 1}]}
    if pack_id is not None:
        it["pack_id"] = pack_id
    return it


def take(client, code: str, infos: list[dict], k: int = 0) -> dict:
    return client.call("logistics.newCreateOrder", {"logistics_code": code, "sender_info": sender(client, code, k),
                                                    "order_infos": infos})


def balance(client, code: str, k: int = 0) -> dict:
    return client.call("logistics.listShopNetsite", {"logistics_code": code})["netsites"][k]


def err(client, method: str, params: dict) -> dict:
    res = client.raw(method, params)
    assert res["code"] != 10000, res
    return res


def pushes(rec, tag: str) -> list[dict]:
    return [json.loads(m["data"]) for m in rec.ok_messages() if m["tag"] == tag]


def verify_signed(client, rec) -> None:
    for headers, body, _ in rec.requests:
        assert headers["event-sign"] == hashlib.md5(client.key.encode() + body + client.secret.encode()).hexdigest()


# ---------------------------------------------------------------------------- netsites / numbers

def test_list_shop_netsite_shapes(client):
    data = client.call("logistics.listShopNetsite", {"logistics_code": ""})
    codes = {n["company"] for n in data["netsites"]}
    assert codes == set(FORMATS)
    for n in data["netsites"]:
        assert isinstance(n["amount"], str) and int(n["amount"]) > 0
        assert {"netsite_code", "netsite_name", "allocated_quantity", "cancelled_quantity", "recycled_quantity",
                "company_type"} <= set(n)
        assert set(n["sender_address"][0]) == {"province_name", "city_name", "district_name", "street_name",
                                               "detail_address"}
    one = client.call("logistics.listShopNetsite", {"logistics_code": "zhongtong"})
    assert one["logistics_code"] == "zhongtong" and one["company_type"] == 2
    assert {n["company"] for n in one["netsites"]} == {"zhongtong"} and 1 <= len(one["netsites"]) <= 2
    assert err(client, "logistics.listShopNetsite", {"logistics_code": "nope"})["sub_code"] == \
        "isv.parameter-invalid:logistics_code"
    # every courier accepted by the e-waybill API is in order.logisticsCompanyList
    assert codes <= {c["code"] for c in client.call("order.logisticsCompanyList")}


def test_new_create_order_formats_idempotency_and_balance(client):
    orders = prepare(client, 8)
    oids = [o["order_id"] for o in orders]
    before = balance(client, "zhongtong")
    first = take(client, "zhongtong", [info(oids[0]), info(oids[1]), info(oids[2], "P2")])
    assert first["err_infos"] == []
    nos = [e["track_no"] for e in first["ebill_infos"]]
    assert len(set(nos)) == 3 and all(re.match(FORMATS["zhongtong"], n) for n in nos)
    e0 = first["ebill_infos"][0]
    assert e0["order_id"] == oids[0] and e0["pack_id"] == "" and e0["company"] == "zhongtong"
    assert e0["sort_code"] and e0["package_center_name"] and e0["short_address_name"]
    # same (order_id, pack_id) → same number, no balance spent; a new pack_id → a new number
    again = take(client, "zhongtong", [info(oids[0]), info(oids[2], "P2"), info(oids[0], "P3")])
    assert [e["track_no"] for e in again["ebill_infos"][:2]] == [nos[0], nos[2]]
    assert again["ebill_infos"][2]["track_no"] not in nos
    after = balance(client, "zhongtong")
    assert int(before["amount"]) - int(after["amount"]) == 4
    assert after["allocated_quantity"] - before["allocated_quantity"] == 4
    for i, code in enumerate(FORMATS):
        got = take(client, code, [info(oids[3 + i % 5], f"C{i}")])
        assert got["err_infos"] == [] and re.match(FORMATS[code], got["ebill_infos"][0]["track_no"]), got
    wb = client.admin(f"/sandbox/waybills?shop_id={client.app['shop_id']}", method="GET")
    assert len(wb) == 4 + len(FORMATS) and {w["status"] for w in wb} == {"live"}


def test_new_create_order_strict_params(client):
    orders = prepare(client, 3)
    oid = orders[0]["order_id"]
    too_many = [info(oid, f"p{i}") for i in range(101)]
    res = err(client, "logistics.newCreateOrder", {"logistics_code": "yunda", "sender_info": sender(client, "yunda"),
                                                   "order_infos": too_many})
    assert res["code"] == 40003 and res["sub_code"] == "isv.parameter-invalid:order_infos"
    bad_sender = {"address": dict(HZ, detail_address="不存在的仓库"), "contact": CONTACT}
    res = err(client, "logistics.newCreateOrder", {"logistics_code": "yunda", "sender_info": bad_sender,
                                                   "order_infos": [info(oid)]})
    assert res["code"] == 50002 and "不存在的仓库" in res["sub_msg"] and "yunda" in res["sub_msg"]
    no_contact = info(oid)
    del no_contact["receiver_info"]["contact"]
    res = err(client, "logistics.newCreateOrder", {"logistics_code": "yunda", "sender_info": sender(client, "yunda"),
                                                   "order_infos": [no_contact]})
    assert res["code"] == 40002 and "receiver_info.contact" in res["sub_msg"]
    assert balance(client, "yunda")["allocated_quantity"] == 0


def test_exhausted_balance_and_per_item_errors(client, new_client):
    orders = prepare(client, 8)
    oids = [o["order_id"] for o in orders]
    other = new_client()
    other.login()
    foreign = prepare(other, 1, seed=9)[0]["order_id"]
    client.admin("/sandbox/orders/status", {"order_id": oids[5], "order_status": 4})
    shop = client.app["shop_id"]
    client.admin("/sandbox/netsites/balance", {"shop_id": shop, "logistics_code": "jtexpress", "amount": 2})
    batch = [info(oids[0]), info(foreign), info(oids[1]), info(oids[5]), info(oids[2]), info(oids[3])]
    res = client.raw("logistics.newCreateOrder", {"logistics_code": "jtexpress", "sender_info": sender(client, "jtexpress"),
                                                  "order_infos": batch})
    assert res["code"] == 10000
    data = res["data"]
    assert [e["order_id"] for e in data["ebill_infos"]] == [oids[0], oids[1]]
    errs = {e["order_id"]: e for e in data["err_infos"]}
    assert errs[foreign]["err_code"] == "10702"
    assert errs[oids[5]]["err_code"] == "10703"
    assert errs[oids[2]]["err_code"] == errs[oids[3]]["err_code"] == "10701"
    assert errs[oids[2]]["err_msg"] == "电子面单库存不足"
    assert balance(client, "jtexpress")["amount"] == "0"
    # the second netsite of the same courier still has stock
    ok = take(client, "jtexpress", [info(oids[2])], k=1)
    assert ok["err_infos"] == [] and len(ok["ebill_infos"]) == 1


def test_out_of_range_consistent_with_get_out_range(client):
    oid = prepare(client, 2)[0]["order_id"]
    res = take(client, "yunda", [info(oid, addr=LHASA)])
    assert res["ebill_infos"] == [] and res["err_infos"][0]["err_code"] == "10704"
    assert "西藏" in res["err_infos"][0]["err_msg"]
    ok = take(client, "zhongtong", [info(oid, addr=LHASA)])  # 中通 only skips 阿里/那曲
    assert ok["err_infos"] == [] and ok["ebill_infos"]
    # a sender in Hangzhou: the shop's own (random) address may itself be remote
    snd = dict(HZ, country_code="CHN")
    for code, want in (("yunda", True), ("zhongtong", False), ("shunfeng", False)):
        r = client.call("logistics.getOutRange", {"logistics_code": code, "sender_address": snd,
                                                  "receiver_address": LHASA, "type": 0})
        assert r["is_out_range"] is want and (r["out_range_reason"] != 0) is want
    r = client.call("logistics.getOutRange", {"logistics_code": "zhongtong", "sender_address": snd, "type": 2,
                                              "receiver_address": dict(LHASA, city_name="阿里地区", district_name="噶尔县")})
    assert r["is_out_range"] is True
    assert err(client, "logistics.getOutRange", {"logistics_code": "yunda", "type": 2})["sub_code"] == \
        "isv.parameter-missing:receiver_address"


def test_waybill_apply_and_cancel(client):
    oids = [o["order_id"] for o in prepare(client, 4)]
    nos = [e["track_no"] for e in take(client, "yuantong", [info(o) for o in oids[:3]])["ebill_infos"]]
    before = balance(client, "yuantong")
    assert client.call("logistics.cancelOrder", {"logistics_code": "yuantong", "track_no": nos[1]}) == \
        {"cancel_result": {"success": True}}
    after = balance(client, "yuantong")
    assert int(after["amount"]) == int(before["amount"]) + 1
    assert after["cancelled_quantity"] == before["cancelled_quantity"] + 1
    assert after["recycled_quantity"] == before["recycled_quantity"] + 1
    twice = err(client, "logistics.cancelOrder", {"logistics_code": "yuantong", "track_no": nos[1]})
    assert twice["code"] == 50002 and twice["sub_code"] == "isv.business-failed:9" and nos[1] in twice["sub_msg"]
    res = client.call("logistics.waybillApply", {"waybill_applies": [
        {"logistics_code": "yuantong", "track_no": nos[0]}, {"logistics_code": "yuantong", "track_no": nos[1]},
        {"logistics_code": "yuantong", "track_no": "YT0000000000000"}]})
    (w,) = res["waybill_infos"]
    assert w["track_no"] == nos[0] and w["order_id"].split("|")[0] == oids[0] and len(w["sign"]) == 64
    assert len(w["print_data"]) > 500 and base64.b64decode(w["print_data"])
    errs = {e["track_no"]: e for e in res["err_infos"]}
    assert set(errs) == {nos[1], "YT0000000000000"} and errs[nos[1]]["err_code"] != errs["YT0000000000000"]["err_code"]
    big = [{"logistics_code": "yuantong", "track_no": nos[0]}] * 101
    assert err(client, "logistics.waybillApply", {"waybill_applies": big})["sub_code"] == \
        "isv.parameter-invalid:waybill_applies"
    # a cancelled number cannot be used for shipping; a shipped + picked-up one cannot be cancelled
    res = err(client, "order.logisticsAdd", {"order_id": oids[1], "company_code": "yuantong", "logistics_code": nos[1]})
    assert res["sub_code"] == "isv.business-failed:7"
    client.call("order.logisticsAdd", {"order_id": oids[2], "company_code": "yuantong", "logistics_code": nos[2]})
    client.admin("/sandbox/shipments/pickup", {"tracking_no": nos[2]})
    res = err(client, "logistics.cancelOrder", {"logistics_code": "yuantong", "track_no": nos[2]})
    assert res["sub_code"] == "isv.business-failed:9" and "揽收" in res["sub_msg"]
    wb = {w["track_no"]: w for w in client.admin(f"/sandbox/waybills?shop_id={client.app['shop_id']}", method="GET")}
    assert [wb[n]["status"] for n in nos] == ["live", "cancelled", "used"] and wb[nos[2]]["picked_up"]


# ---------------------------------------------------------------------------- order.logisticsAdd

def test_logistics_add_ships_pushes_and_repeat_error(client, receiver):
    rec = receiver()
    orders = prepare(client, 3)
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    o = orders[0]
    no = take(client, "zhongtong", [info(o["order_id"])])["ebill_infos"][0]["track_no"]
    before = detail(client, o["order_id"])
    assert client.call("order.logisticsAdd", {"order_id": o["order_id"], "company_code": "zhongtong",
                                              "logistics_code": no}) == {}
    d = detail(client, o["order_id"])
    assert d["order_status"] == 3 and d["update_time"] > before["update_time"] and d["ship_time"] > 0
    assert all(s["order_status"] == 3 for s in d["sku_order_list"])
    (li,) = d["logistics_info"]
    assert (li["tracking_no"], li["company"], li["company_name"]) == (no, "zhongtong", "中通快递")
    assert li["delivery_id"] and li["ship_time"] > 0
    assert {p["sku_order_id"]: p["product_count"] for p in li["product_info"]} == \
        {s["order_id"]: s["item_num"] for s in d["sku_order_list"]}
    # repeat (same or other number) → business error that names the existing number
    for tn in (no, "78000000000001"):
        res = err(client, "order.logisticsAdd", {"order_id": o["order_id"], "company_code": "zhongtong",
                                                 "logistics_code": tn})
        assert res["code"] == 50002 and res["sub_code"] == "isv.business-failed:2"
        assert res["sub_msg"] == f"订单已发货，请勿重复发货，已发货运单: zhongtong:{no}"
    res = err(client, "order.logisticsAdd", {"order_id": orders[1]["order_id"], "company_code": "zto",
                                             "logistics_code": no})
    assert res["sub_code"] == "isv.parameter-invalid:company_code"
    res = err(client, "order.logisticsAdd", {"order_id": orders[1]["order_id"], "logistics_code": no})
    assert res["sub_code"] == "isv.parameter-missing:company_code"
    res = err(client, "order.logisticsAdd", {"order_id": "6900000000000000008", "company_code": "zhongtong",
                                             "logistics_code": "78000000000002"})
    assert res["sub_code"] == "isv.business-failed:1"
    assert rec.wait_for(lambda r: pushes(r, "102"))
    (p,) = pushes(rec, "102")
    assert p["p_id"] == int(o["order_id"]) and p["order_status"] == 3 and p["shop_id"] == client.app["shop_id"]
    assert p["logistics_msg"] == {"express_company_id": 1, "logistics_code": no}
    assert set(p["receiver_msg"]) == {"addr", "name", "tel"} and p["update_time"] == d["update_time"]
    verify_signed(client, rec)
    ships = client.admin(f"/sandbox/shipments?shop_id={client.app['shop_id']}", method="GET")
    assert [(s["method"], s["order_ids"], s["tracking_no"], s["company_code"]) for s in ships] == \
        [("order.logisticsAdd", [o["order_id"]], no, "zhongtong")]
    stats = client.admin("/sandbox/stats", method="GET")["calls_by_method_code"]
    assert stats["order.logisticsAdd:10000"] >= 1 and stats["order.logisticsAdd:50002"] >= 3
    assert stats["logistics.newCreateOrder:10000"] >= 1


def test_logistics_add_refund_rule_and_status_refusals(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    orders = prepare(client, 16)  # enough that some order has 2+ units
    o = orders[0]
    sku = o["sku_order_list"][0]["order_id"]
    res = client.admin("/sandbox/orders/refund", {"order_id": o["order_id"], "sku_order_id": sku})
    assert res["aftersales"][0]["sku_order_id"] == sku
    d = detail(client, o["order_id"])
    assert d["sku_order_list"][0]["after_sale_info"]["after_sale_status"] == 6
    assert d["update_time"] > o["update_time"]
    assert rec.wait_for(lambda r: pushes(r, "200"))
    (p,) = pushes(rec, "200")
    assert p["p_id"] == int(o["order_id"]) and p["s_id"] == int(sku) and p["shop_id"] == client.app["shop_id"]
    assert str(p["aftersale_id"]) == res["aftersales"][0]["aftersale_id"] and p["aftersale_status"] == 6
    verify_signed(client, rec)
    args = {"order_id": o["order_id"], "company_code": "yunda", "logistics_code": "3000000000001"}
    res = err(client, "order.logisticsAdd", args)
    assert res["sub_code"] == "isv.business-failed:5" and sku in res["sub_msg"]
    assert detail(client, o["order_id"])["order_status"] == 2
    assert client.call("order.logisticsAdd", dict(args, is_reject_refund=True)) == {}
    d = detail(client, o["order_id"])
    assert d["order_status"] == 3 and d["sku_order_list"][0]["after_sale_info"]["after_sale_status"] == 27
    # cancelled / risk control
    for st, code in ((4, "isv.business-failed:4"), (105, "isv.business-failed:6"), (1, "isv.business-failed:4")):
        client.admin("/sandbox/orders/status", {"order_id": orders[1]["order_id"], "order_status": st})
        res = err(client, "order.logisticsAdd", dict(args, order_id=orders[1]["order_id"], logistics_code="3000000000002"))
        assert res["sub_code"] == code, (st, res)
    # partly shipped (101) → the doc's message
    multi = next(x for x in orders[2:] if sum(s["item_num"] for s in x["sku_order_list"]) >= 2)
    s0 = multi["sku_order_list"][0]
    client.call("order.logisticsAddSinglePack", {"order_id_list": [multi["order_id"]], "company_code": "yunda",
                                                 "logistics_code": "3000000000003",
                                                 "shipped_order_info": [{"shipped_order_id": s0["order_id"],
                                                                         "shipped_num": 1}]})
    assert detail(client, multi["order_id"])["order_status"] == 101
    res = err(client, "order.logisticsAdd", dict(args, order_id=multi["order_id"], logistics_code="3000000000004"))
    assert res["sub_code"] == "isv.business-failed:3"
    assert res["sub_msg"] == "该订单当前为“部分发货”状态，无法调用此接口"


def _fixed_shop(new_client, shop_id: int):
    """A client on a fixed shop: the generated buyers (seed × shop id) are the same every
    run, so a test that needs an order of several lines always has one."""
    c = new_client(shop_id=shop_id)
    c.login()
    return c


def test_logistics_add_refuses_an_order_refunded_in_full(new_client):
    """Every line refunded before shipment (售后成功): nothing is left to ship, so the whole-order
    call is refused as the pack calls refuse a refunded line. It used to record a shipment
    with no items and mark the order shipped (found by tests/e2e/test_crash_anywhere.py)."""
    client = _fixed_shop(new_client, 57_300_304)
    orders = prepare(client, 6)
    o = orders[0]
    no = take(client, "zhongtong", [info(o["order_id"])])["ebill_infos"][0]["track_no"]
    for case in client.admin("/sandbox/orders/refund", {"order_id": o["order_id"]})["aftersales"]:
        client.admin(f"/sandbox/aftersales/{case['aftersale_id']}/status", {"aftersale_status": 12})
    res = err(client, "order.logisticsAdd", {"order_id": o["order_id"], "company_code": "zhongtong",
                                             "logistics_code": no})
    assert res["sub_code"] == "isv.business-failed:7" and "已退款" in res["sub_msg"]
    d = detail(client, o["order_id"])
    assert d["order_status"] == 2 and not d.get("logistics_info")
    assert client.admin(f"/sandbox/shipments?shop_id={client.app['shop_id']}", method="GET") == []
    # one line refunded of several: the call ships what is left
    multi = next(x for x in orders[1:] if len(x["sku_order_list"]) >= 2)
    first, *rest = [s["order_id"] for s in multi["sku_order_list"]]
    for case in client.admin("/sandbox/orders/refund", {"order_id": multi["order_id"],
                                                         "sku_order_id": first})["aftersales"]:
        client.admin(f"/sandbox/aftersales/{case['aftersale_id']}/status", {"aftersale_status": 12})
    no2 = take(client, "zhongtong", [info(multi["order_id"])])["ebill_infos"][0]["track_no"]
    assert client.call("order.logisticsAdd", {"order_id": multi["order_id"], "company_code": "zhongtong",
                                              "logistics_code": no2}) == {}
    (li,) = detail(client, multi["order_id"])["logistics_info"]
    assert sorted(p["sku_order_id"] for p in li["product_info"]) == sorted(rest)


# ---------------------------------------------------------------------------- pack APIs

def test_single_pack_merge_and_request_id(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    a, b = prepare(client, 4)[:2]
    items = [{"shipped_order_id": s["order_id"], "shipped_num": s["item_num"]}
             for o in (a, b) for s in o["sku_order_list"]]
    args = {"order_id_list": [a["order_id"], b["order_id"]], "shipped_order_info": items, "company_code": "shentong",
            "logistics_code": "770000000000001", "request_id": "req-merge-1"}
    first = client.call("order.logisticsAddSinglePack", args)
    assert re.fullmatch(r"\d+", first["pack_id"])
    for o in (a, b):
        d = detail(client, o["order_id"])
        assert d["order_status"] == 3
        assert [(li["tracking_no"], li["delivery_id"]) for li in d["logistics_info"]] == \
            [("770000000000001", first["pack_id"])]
    # same request_id → the first result, nothing shipped again (even though the orders are shipped now)
    assert client.call("order.logisticsAddSinglePack", args) == first
    ships = client.admin(f"/sandbox/shipments?shop_id={client.app['shop_id']}", method="GET")
    assert len(ships) == 1 and ships[0]["request_id"] == "req-merge-1"
    assert ships[0]["order_ids"] == [a["order_id"], b["order_id"]]
    res = err(client, "order.logisticsAddSinglePack", dict(args, request_id="req-merge-2"))
    assert res["sub_code"] == "isv.business-failed:2"
    assert rec.wait_for(lambda r: len(pushes(r, "102")) == 2)
    assert {p["p_id"] for p in pushes(rec, "102")} == {int(a["order_id"]), int(b["order_id"])}


def test_single_pack_partial_then_rest(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    orders = prepare(client, 20, seed=5)
    o = next(x for x in orders if sum(s["item_num"] for s in x["sku_order_list"]) >= 2)
    other = next(x for x in orders if x is not o)
    s0 = o["sku_order_list"][0]
    base = {"order_id_list": [o["order_id"]], "company_code": "jtexpress"}
    res = err(client, "order.logisticsAddSinglePack", dict(base, logistics_code="JT0000000000001", shipped_order_info=[
        {"shipped_order_id": other["sku_order_list"][0]["order_id"], "shipped_num": 1}]))
    assert res["sub_code"] == "isv.business-failed:7"
    res = err(client, "order.logisticsAddSinglePack", dict(base, logistics_code="JT0000000000001", shipped_order_info=[
        {"shipped_order_id": s0["order_id"], "shipped_num": s0["item_num"] + 1}]))
    assert res["sub_code"] == "isv.business-failed:7" and "发货数量" in res["sub_msg"]
    pack1 = client.call("order.logisticsAddSinglePack", dict(base, logistics_code="JT0000000000001", shipped_order_info=[
        {"shipped_order_id": s0["order_id"], "shipped_num": 1}]))["pack_id"]
    d = detail(client, o["order_id"])
    assert d["order_status"] == 101
    assert rec.wait_for(lambda r: pushes(r, "108"))
    (p,) = pushes(rec, "108")
    assert p["p_id"] == int(o["order_id"]) and p["logistics_msg"]["pack_id"] == pack1
    assert p["logistics_msg"]["shipped_order_info"][0]["shipped_order_id"] == int(s0["order_id"])
    assert p["logistics_msg"]["shipped_order_info"][0]["shipped_num"] == 1
    rest = [{"shipped_order_id": s["order_id"], "shipped_num": s["item_num"] - (1 if s is s0 else 0)}
            for s in o["sku_order_list"] if s["item_num"] - (1 if s is s0 else 0) > 0]
    client.call("order.logisticsAddSinglePack", dict(base, logistics_code="JT0000000000002", shipped_order_info=rest))
    d = detail(client, o["order_id"])
    assert d["order_status"] == 3 and len(d["logistics_info"]) == 2
    assert rec.wait_for(lambda r: pushes(r, "102"))
    verify_signed(client, rec)


def test_partly_shipped_order_whose_last_unshipped_line_is_refunded_has_shipped(new_client):
    """One line shipped (101), the other refunded before shipment (未发货仅退款, agreed): nothing
    is left to send, so the order reads 已发货 (3), as when the last parcel ships. It used to
    stay 101 forever (found by tests/e2e/test_crash_anywhere.py)."""
    client = _fixed_shop(new_client, 57_300_305)
    orders = prepare(client, 20, seed=5)
    o = next(x for x in orders if len(x["sku_order_list"]) >= 2)
    first, *rest = o["sku_order_list"]
    client.call("order.logisticsAddSinglePack", {
        "order_id_list": [o["order_id"]], "company_code": "jtexpress", "logistics_code": "JT0000000000011",
        "shipped_order_info": [{"shipped_order_id": first["order_id"], "shipped_num": first["item_num"]}]})
    assert detail(client, o["order_id"])["order_status"] == 101
    for i, s in enumerate(rest):
        (case,) = client.admin("/sandbox/orders/refund", {"order_id": o["order_id"],
                                                           "sku_order_id": s["order_id"]})["aftersales"]
        assert case["aftersale_type"] == 2
        client.admin(f"/sandbox/aftersales/{case['aftersale_id']}/status", {"aftersale_status": 12})
        # still one line owed until the last is refunded
        assert detail(client, o["order_id"])["order_status"] == (3 if i == len(rest) - 1 else 101)
    d = detail(client, o["order_id"])
    assert [s["order_status"] for s in d["sku_order_list"]][0] == 3
    # and a pending (not agreed) refund of an unshipped line leaves the order owing it
    o2 = next(x for x in orders if len(x["sku_order_list"]) >= 2 and x is not o)
    a, b = o2["sku_order_list"][:2]
    client.call("order.logisticsAddSinglePack", {
        "order_id_list": [o2["order_id"]], "company_code": "jtexpress", "logistics_code": "JT0000000000012",
        "shipped_order_info": [{"shipped_order_id": a["order_id"], "shipped_num": a["item_num"]}]})
    client.admin("/sandbox/orders/refund", {"order_id": o2["order_id"], "sku_order_id": b["order_id"]})
    assert detail(client, o2["order_id"])["order_status"] == 101


def test_multi_pack_all_or_nothing_and_idempotent(client):
    orders = prepare(client, 20, seed=6)
    o = next(x for x in orders if sum(s["item_num"] for s in x["sku_order_list"]) >= 2)
    lines = [(s["order_id"], k) for s in o["sku_order_list"] for k in range(s["item_num"])]
    packs = [{"shipped_order_info": [{"shipped_order_id": sid, "shipped_num": 1}], "company_code": "zhongtong",
              "logistics_code": f"7800000000{i:04d}"} for i, (sid, _) in enumerate(lines)]
    args = {"order_id": o["order_id"], "pack_list": packs, "request_id": "multi-1"}
    last_sku = lines[-1][0]
    client.admin("/sandbox/orders/refund", {"order_id": o["order_id"], "sku_order_id": last_sku})
    res = err(client, "order.logisticsAddMultiPack", args)
    assert res["sub_code"] == "isv.business-failed:5"
    d = detail(client, o["order_id"])
    assert d["order_status"] == 2 and d["logistics_info"] == []
    assert client.admin(f"/sandbox/shipments?shop_id={client.app['shop_id']}", method="GET") == []
    over = dict(args, request_id="multi-over", pack_list=packs + packs[:1], is_reject_refund=True)
    assert err(client, "order.logisticsAddMultiPack", over)["sub_code"] == "isv.business-failed:7"
    ok = client.call("order.logisticsAddMultiPack", dict(args, is_reject_refund=True))
    assert [p["logistics_code"] for p in ok["pack_list"]] == [p["logistics_code"] for p in packs]
    assert len({p["pack_id"] for p in ok["pack_list"]}) == len(packs)
    assert ok["pack_list"][0]["shipped_order_info"][0]["shipped_order_id"] == lines[0][0]
    d = detail(client, o["order_id"])
    assert d["order_status"] == 3 and len(d["logistics_info"]) == len(packs)
    assert client.call("order.logisticsAddMultiPack", dict(args, is_reject_refund=True)) == ok
    ships = client.admin(f"/sandbox/shipments?shop_id={client.app['shop_id']}", method="GET")
    assert len(ships) == len(packs) and {s["request_id"] for s in ships} == {"multi-1"}


def test_logistics_edit_pushes_104(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    o, o2 = prepare(client, 3)[:2]
    args = {"order_id": o["order_id"], "company_code": "yunda", "logistics_code": "3000000000009"}
    assert err(client, "order.logisticsEdit", args)["sub_code"] == "isv.business-failed:4"
    client.call("order.logisticsAdd", args)
    client.call("order.logisticsEdit", dict(args, company_code="shunfeng", logistics_code="SF1000000000001"))
    (li,) = detail(client, o["order_id"])["logistics_info"]
    assert (li["tracking_no"], li["company"]) == ("SF1000000000001", "shunfeng")
    assert rec.wait_for(lambda r: pushes(r, "104"))
    assert pushes(rec, "104")[0]["logistics_msg"]["logistics_code"] == "SF1000000000001"
    ships = client.admin(f"/sandbox/shipments?shop_id={client.app['shop_id']}", method="GET")
    assert ships[-1]["method"] == "order.logisticsEdit" and ships[-1]["previous_tracking_no"] == "3000000000009"


@pytest.mark.parametrize("bad", [{"company_code": "nope"}, {"logistics_code": "x"}, {"order_id": "abc"}])
def test_logistics_add_param_errors(client, bad):
    args = dict({"order_id": "6900000000000000008", "company_code": "yunda", "logistics_code": "3000000000001"}, **bad)
    res = err(client, "order.logisticsAdd", args)
    assert res["code"] == 40003
