"""Gateway strictness over real HTTP (doc §1–§4, §6, §8.5, §8.6)."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

GMT8 = timezone(timedelta(hours=8))


def err(res, code, sub_code):
    assert res["code"] == code, res
    assert res["sub_code"] == sub_code, res
    assert res["err_no"] == code and res["log_id"] and res["msg"]


def test_success_envelope(client):
    a = client.raw("order.logisticsCompanyList", {})
    b = client.raw("order.logisticsCompanyList", {})
    for r in (a, b):
        assert r["code"] == 10000 and r["msg"] == "success" and r["sub_code"] == "" and r["sub_msg"] == ""
        assert r["err_no"] == 0 and r["message"] == "success"
    assert a["log_id"] and a["log_id"] != b["log_id"]
    codes = {c["code"]: c for c in a["data"]}
    for code in ("zhongtong", "yuantong", "yunda", "shentong", "jtexpress", "shunfeng", "ems", "jd",
                 "youzhengguonei", "debangwuliu"):
        assert code in codes and isinstance(codes[code]["id"], int) and codes[code]["name"]
    assert codes["zhongtong"]["name"] == "中通快递"


def test_signature_missing_and_invalid(client):
    err(client.raw("order.logisticsCompanyList", {}, sign=None), 40001, "isv.signature-missing")
    err(client.raw("order.logisticsCompanyList", {}, sign="0" * 64), 40003, "isv.signature-invalid")
    err(client.raw("order.searchList", {"size": 10}, sign_pj='{"size":11}'), 40003, "isv.signature-invalid")
    err(client.raw("order.searchList", {"size": 10}, secret="nope"), 40003, "isv.signature-invalid")


def test_sign_method_absent_means_md5(client, h):
    assert client.raw("order.searchList", {"size": 5}, sign_method=None)["code"] == 10000
    assert client.raw("order.searchList", {"size": 5}, sign_method="md5")["code"] == 10000
    ts = str(int(time.time()))
    pj = h.canon({"size": 5})
    hmac_sig = h.make_sign(client.key, client.secret, "order.searchList", pj, ts, "hmac-sha256")
    err(client.raw("order.searchList", {"size": 5}, ts=ts, sign_method=None, sign=hmac_sig),
        40003, "isv.signature-invalid")
    err(client.raw("order.searchList", {"size": 5}, sign_method="sha1"), 40003, "isv.parameter-invalid:sign_method")


def test_timestamp_formats_and_window(client):
    now = time.time()
    assert client.raw("order.searchList", {"size": 1}, ts=str(int(now * 1000)))["code"] == 10000
    gmt8 = datetime.fromtimestamp(now, GMT8).strftime("%Y-%m-%d %H:%M:%S")
    assert client.raw("order.searchList", {"size": 1}, ts=gmt8)["code"] == 10000
    assert client.raw("order.searchList", {"size": 1}, ts=str(int(now) - 540))["code"] == 10000
    err(client.raw("order.searchList", {"size": 1}, ts=str(int(now) - 660)), 40003, "isv.timestamp-invalid")
    err(client.raw("order.searchList", {"size": 1}, ts=str(int(now) + 660)), 40003, "isv.timestamp-invalid")
    utc = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")  # 8 h off
    err(client.raw("order.searchList", {"size": 1}, ts=utc), 40003, "isv.timestamp-invalid")
    err(client.raw("order.searchList", {"size": 1}, ts="yesterday"), 40003, "isv.timestamp-format-error")
    err(client.raw("order.searchList", {"size": 1}, drop=("timestamp",)), 40001, "isv.parameter-missing:timestamp")


def test_app_key_rules(client):
    err(client.raw("order.searchList", {}, drop=("app_key",)), 40001, "isv.app-id-missing")
    err(client.raw("order.searchList", {}, app_key="12345"), 40003, "isv.app-id-invalid")
    err(client.raw("order.searchList", {}, app_key="9" * 19), 40003, "isv.app-id-invalid")


def test_access_token_rules(client, new_client):
    err(client.raw("order.searchList", {}, access_token=None), 40001, "isv.access-token-missing")
    err(client.raw("order.searchList", {}, access_token="not-a-token"), 40003, "isv.access-token-no-existed")
    other = new_client()
    other.login()
    err(client.raw("order.searchList", {}, access_token=other.token), 40003, "isv.access-token-invalid")


def test_v_method_and_unknown_method(client):
    err(client.raw("order.searchList", {}, extra={"v": "1"}), 40003, "isv.parameter-invalid:v")
    err(client.raw("order.searchList", {}, path="order/orderDetail"), 40003, "isv.parameter-invalid:method")
    res = client.raw("order.noSuchThing", {})
    err(res, 40003, "isv.parameter-invalid:method")
    assert "order.noSuchThing" in res["sub_msg"]


def test_param_json_in_query_string(client, h):
    ts = str(int(time.time()))
    pj = h.canon({"size": 3})
    q = {"app_key": client.key, "method": "order.searchList", "timestamp": ts, "v": "2", "sign_method": "md5",
         "sign": h.make_sign(client.key, client.secret, "order.searchList", pj, ts, "md5"),
         "access_token": client.token, "param_json": pj}
    r = client.http.post("/order/searchList", params=q).json()
    assert r["code"] == 10000 and r["data"]["size"] == 3


def test_java_sdk_body_tolerated(client, h):
    params = {"size": 2, "page": 0, "order_by": "create_time"}
    canonical = h.canon(params)
    body = json.dumps(params, ensure_ascii=True)  # unsorted, with spaces
    assert body != canonical
    assert client.raw("order.searchList", body=body, sign_pj=canonical, sign_method=None)["code"] == 10000
    # the body verifies on its own too (signed as sent)
    assert client.raw("order.searchList", body=body)["code"] == 10000
    err(client.raw("order.searchList", body="{not json"), 40003, "isv.parameter-format-invalid")


def test_search_list_parameter_validation(client):
    now = int(time.time())
    err(client.raw("order.searchList", {"size": 101}), 40003, "isv.parameter-invalid:size")
    err(client.raw("order.searchList", {"size": 0}), 40003, "isv.parameter-invalid:size")
    err(client.raw("order.searchList", {"size": 10, "page": -1}), 40003, "isv.parameter-invalid:page")
    err(client.raw("order.searchList", {"size": "abc"}), 40003, "isv.parameter-invalid:size")
    err(client.raw("order.searchList", {"combine_status": [{"order_status": "2"}, {"order_status": "4"}]}),
        40003, "isv.parameter-invalid:combine_status")
    err(client.raw("order.searchList", {"combine_status": {"order_status": "2"}}),
        40003, "isv.parameter-invalid:combine_status")
    err(client.raw("order.searchList", {"order_by": "pay_time"}), 40003, "isv.parameter-invalid:order_by")
    for name in ("create_time_start", "update_time_start", "create_time_end", "update_time_end"):
        err(client.raw("order.searchList", {name: now - 91 * 86400}), 40003, f"isv.parameter-invalid:{name}")
    assert client.raw("order.searchList", {"update_time_start": now - 89 * 86400, "size": 100,
                                           "page": 0})["code"] == 10000


def test_search_list_pagination_filters_and_live_data(client):
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 250, "seed": 5, "spread_seconds": 86400})
    index = client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")
    assert len(index) == 250
    seen = []
    page = 0
    while True:
        d = client.call("order.searchList", {"size": 100, "page": page, "order_by": "create_time"})
        assert d["total"] == 250 and d["page"] == page and d["size"] == 100
        if not d["shop_order_list"]:
            break
        times = [o["create_time"] for o in d["shop_order_list"]]
        assert times == sorted(times, reverse=True)
        seen += d["shop_order_list"]
        page += 1
    assert page == 3
    assert sorted(o["order_id"] for o in seen) == sorted(i["order_id"] for i in index)
    assert all(o["shop_id"] == shop for o in seen)
    # status filter
    want = sum(1 for i in index if i["order_status"] in (2, 105))
    d = client.call("order.searchList", {"size": 100, "combine_status": [{"order_status": "2,105"}]})
    assert d["total"] == want and all(o["order_status"] in (2, 105) for o in d["shop_order_list"])
    # update-time window, ascending
    uts = sorted(i["update_time"] for i in index)
    lo, hi = uts[50], uts[120]
    d = client.call("order.searchList", {"size": 100, "update_time_start": lo, "update_time_end": hi,
                                         "order_by": "update_time", "order_asc": True})
    assert d["total"] == sum(1 for u in uts if lo <= u <= hi)
    got = [o["update_time"] for o in d["shop_order_list"]]
    assert got == sorted(got) and all(lo <= u <= hi for u in got)
    # live pagination: new orders shift the offsets and the total
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 7, "spread_seconds": 0})
    d = client.call("order.searchList", {"size": 100, "page": 0})
    assert d["total"] == 257


def test_order_detail(client, new_client):
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 3, "seed": 1})
    oid = client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")[0]["order_id"]
    d = client.call("order.orderDetail", {"shop_order_id": oid})["shop_order_detail"]
    assert d["order_id"] == oid and d["sku_order_list"][0]["order_id"] == oid
    res = client.raw("order.orderDetail", {"shop_order_id": "6900000000000000001"})
    assert res["code"] == 50002 and "6900000000000000001" in res["sub_msg"]
    other = new_client()
    other.login()
    res2 = other.raw("order.orderDetail", {"shop_order_id": oid})
    assert res2["code"] == 50002 and res2["sub_code"] == res["sub_code"] and oid in res2["sub_msg"]
    err(client.raw("order.orderDetail", {}), 40002, "isv.parameter-missing:shop_order_id")


def test_address_list(client):
    d = client.call("address.list", {})
    assert d["page_no"] == 1 and d["page_size"] == 10 and d["total"] >= 2
    a = d["address_list"][0]
    for k in ("address_id", "reciever_name", "receiver_provinc", "receiver_city", "receiver_district",
              "receiver_street", "receiver_detail", "is_default", "is_send_default", "create_time", "update_time"):
        assert k in a
    assert sum(x["is_send_default"] for x in d["address_list"]) == 1
    assert client.call("address.list", {"page_no": 2, "page_size": 1})["address_list"][0]["address_id"] == \
        d["address_list"][1]["address_id"]
    err(client.raw("address.list", {"page_no": 0}), 40003, "isv.parameter-invalid:page_no")
