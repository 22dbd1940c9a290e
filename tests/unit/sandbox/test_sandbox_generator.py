"""Generator shape (doc §6.1, §7.1)."""
from __future__ import annotations

import json
import re

from fahuo.sandbox import catalogue
from fahuo.sandbox import generator as gen
from fahuo.sandbox import receivers

CIPHER_NAME = re.compile(r"^##[^#*]+\*[^#]+#1##$")
CIPHER_TEL = re.compile(r"^\$\$[^$*]+\*[^$]+\$1\$\$$")
CIPHER_ADDR = re.compile(r"^##[^#]+#1##$")


def _orders(n=400, seed=3):
    rows = gen.gen_chunk("t", seed, n, 4242, 1764200000, 86400 * 3, "steady")
    return rows, [json.loads(r[5]) for r in rows]


def test_ids_and_sub_orders():
    _, orders = _orders()
    for o in orders:
        assert re.fullmatch(r"\d{19}", o["order_id"])
        assert o["shop_id"] == 4242
        subs = o["sku_order_list"]
        assert 1 <= len(subs) <= 5
        assert subs[0]["order_id"] == o["order_id"]
        assert len({s["order_id"] for s in subs}) == len(subs)
        for s in subs:
            assert re.fullmatch(r"\d{19}", s["order_id"])
            assert s["parent_order_id"] == o["order_id"]
            assert s["product_id_str"] == str(s["product_id"])
            assert s["code"] and s["out_sku_id"] == s["code"]
            assert isinstance(s["spec"], list) and all({"name", "value"} <= set(x) for x in s["spec"])
            assert set(s["after_sale_info"]) == {"after_sale_status", "after_sale_type", "refund_status"}
            assert s["item_num"] >= 1
            assert re.search(r"[\u4e00-\u9fff]", s["product_name"])


def test_privacy_fields():
    _, orders = _orders()
    for o in orders:
        assert CIPHER_NAME.match(o["encrypt_post_receiver"]), o["encrypt_post_receiver"]
        assert CIPHER_TEL.match(o["encrypt_post_tel"]), o["encrypt_post_tel"]
        assert CIPHER_ADDR.match(o["post_addr"]["encrypt_detail"])
        assert o["post_receiver"] == "" and o["post_tel"] == ""
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", o["mask_post_tel"])
        assert re.fullmatch(r"[\u4e00-\u9fff]\*+", o["mask_post_receiver"])
        name = receivers.decrypt_text(o["encrypt_post_receiver"])
        tel = receivers.decrypt_text(o["encrypt_post_tel"])
        assert receivers.mask_name(name) == o["mask_post_receiver"] and receivers.mask_tel(tel) == o["mask_post_tel"]
        pa = o["post_addr"]
        for k in ("province", "city", "town", "street"):
            assert pa[k]["id"] and pa[k]["name"]
        assert "*" in pa["detail"]


def test_status_mix_times_and_amounts():
    _, orders = _orders(2000)
    statuses = [o["order_status"] for o in orders]
    assert statuses.count(2) / len(statuses) > 0.75
    assert {1, 2, 4, 105} <= set(statuses)
    assert any(o["buyer_words"] for o in orders)
    assert any(s["pre_sale_type"] for o in orders for s in o["sku_order_list"])
    for o in orders:
        assert o["order_status_desc"] == gen.ORDER_STATUS_DESC[o["order_status"]]
        assert o["create_time"] <= o["update_time"] <= 1764200000
        assert o["logistics_info"] == []
        assert o["order_amount"] == sum(s["pay_amount"] for s in o["sku_order_list"]) + o["post_amount"]
        if o["order_status"] != 1:
            assert o["pay_time"] >= o["create_time"] and o["exp_ship_time"] > o["pay_time"]


def test_deterministic_with_seed():
    a, _ = _orders(50, seed=9)
    b, _ = _orders(50, seed=9)
    c, _ = _orders(50, seed=10)
    assert a == b and a != c


def test_catalogue_size():
    assert len(catalogue.CATALOGUE) >= 30
    assert len(catalogue.ALL_SKUS) >= 80
    assert len({s["code"] for _, s in catalogue.ALL_SKUS}) == len(catalogue.ALL_SKUS)
