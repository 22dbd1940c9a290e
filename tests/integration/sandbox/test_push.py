"""Message push (doc §10): signing, batching, retries, duplicates, mutations."""
from __future__ import annotations

import hashlib
import json
import time


def verify(client, headers, body):
    assert headers["app-id"] == client.key
    want = hashlib.md5(client.key.encode() + body + client.secret.encode()).hexdigest()
    assert headers["event-sign"] == want


def test_push_on_create_signed_and_shaped(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 30, "seed": 2})
    index = {i["order_id"]: i for i in client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")}
    tags_for = {1: ["100"], 2: ["100", "101"], 105: ["100", "110"], 4: ["100", "101", "106"]}
    # every order's messages, not only its first: a 101 may land after another order's 100
    expected = sum(len(tags_for[i["order_status"]]) for i in index.values())
    assert rec.wait_for(lambda r: len(r.ok_messages()) >= expected)
    for headers, body, _ in rec.requests:
        verify(client, headers, body)
        assert isinstance(json.loads(body), list)
    msgs = rec.ok_messages()
    assert len({m["msg_id"] for m in msgs}) == len(msgs)
    by_order: dict[str, list[str]] = {}
    for m in msgs:
        assert isinstance(m["data"], str)
        data = json.loads(m["data"])
        assert data["shop_id"] == shop
        by_order.setdefault(str(data["p_id"]), []).append(m["tag"])
        if m["tag"] == "101":
            assert {"p_id", "s_ids", "order_status", "order_type", "biz", "pay_type", "pay_time",
                    "pay_amount"} <= set(data)
            assert str(data["s_ids"][0]) == str(data["p_id"])
    assert set(by_order) == set(index)
    for oid, tags in by_order.items():
        st = index[oid]["order_status"]
        assert tags[0] == "100"
        assert tags == tags_for[st]


def test_push_retries_after_500(client, receiver):
    rec = receiver(fail_first=2)
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url, "retry_base_s": 0.05})
    client.admin("/sandbox/orders/generate", {"shop_id": client.app["shop_id"], "count": 1, "seed": 3})
    assert rec.wait_for(lambda r: len(r.ok_messages()) >= 1)
    statuses = [s for _, _, s in rec.requests]
    assert statuses[:2] == [500, 500] and statuses[2] == 200
    assert rec.requests[0][1] == rec.requests[2][1]  # same batch re-sent


def test_push_duplicates_and_ping(client, receiver):
    rec = receiver()
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url, "duplicate_rate": 1.0,
                                          "reorder": True})
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 5, "seed": 4})
    per_status = {1: 1, 2: 2, 105: 2, 4: 3}
    index = client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")
    expected = sum(per_status[i["order_status"]] for i in index)
    assert rec.wait_for(lambda r: len(r.ok_messages()) >= 2 * expected)
    ids = [m["msg_id"] for m in rec.ok_messages()]
    assert len(set(ids)) == expected and all(ids.count(i) == 2 for i in ids)
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url, "duplicate_rate": 0})
    ping = client.admin("/sandbox/push/ping", {"app_key": client.key})
    assert ping["tag"] == "0"
    assert rec.wait_for(lambda r: any(m["tag"] == "0" for m in r.ok_messages()))


def test_mutations_update_orders_and_push(client, receiver):
    rec = receiver()
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 60, "seed": 8, "spread_seconds": 3600})
    before = {i["order_id"]: i for i in client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")}
    client.admin("/sandbox/push/config", {"app_key": client.key, "url": rec.url})
    time.sleep(1.1)
    res = client.admin("/sandbox/orders/mutate", {"shop_id": shop, "count": 25, "seed": 1})["mutated"]
    assert len(res) == 25
    after = {i["order_id"]: i for i in client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")}
    expected_tags = {"release": "101", "paid": "101", "cancel": "106", "remark": "113", "address": "105",
                     "deadline": "126", "appointment": "112"}
    for m in res:
        oid = m["order_id"]
        assert after[oid]["update_time"] > before[oid]["update_time"]
        assert m["tags"] == [expected_tags[m["kind"]]]
        detail = client.call("order.orderDetail", {"shop_order_id": oid})["shop_order_detail"]
        assert detail["update_time"] == after[oid]["update_time"]
        assert detail["order_status"] == after[oid]["order_status"] == m["order_status"]
        if m["kind"] == "cancel":
            assert detail["order_status"] == 4
    kinds = {m["kind"] for m in res}
    assert len(kinds) >= 3
    want = {(m["order_id"], m["tags"][0]) for m in res}
    assert rec.wait_for(lambda r: want <= {(str(json.loads(x["data"])["p_id"]), x["tag"]) for x in r.ok_messages()})
