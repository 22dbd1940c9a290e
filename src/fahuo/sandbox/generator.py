"""Deterministic generator of realistic ``shop_order_list[]`` elements (doc §6.1)."""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from .catalogue import ALL_SKUS
from .receivers import apply_receiver, random_receiver


GMT8 = timezone(timedelta(hours=8))


ORDER_STATUS_DESC = {1: "待支付", 105: "已支付", 2: "备货中", 101: "部分发货", 3: "已发货", 4: "已取消", 5: "已完成"}
MAIN_STATUS_DESC = {**ORDER_STATUS_DESC, 4: "已关闭", 103: "部分支付", 21: "发货前退款完结"}


BUYER_WORDS = ["请尽快发货，谢谢！", "麻烦发顺丰，补差价联系我", "送人的，不要放发票", "包装好一点，易碎", "周末不在家，请放快递柜",
               "颜色要和图片一样", "能不能早点发货？急用", "尺码偏小吗？帮我换大一码", "请不要发韵达", "备注：生日礼物，帮忙写张卡片"]
SELLER_WORDS = ["已联系买家改地址", "优先发货", "赠品已备注", "缺货，等补货后发", "顺丰发出", "VIP客户，多送一份小样", "合并发货"]


def end_of_day_gmt8(ts: float, plus_days: int = 0) -> int:
    d = datetime.fromtimestamp(ts, GMT8).date() + timedelta(days=plus_days)
    return int(datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=GMT8).timestamp())


def set_status(order: dict[str, Any], status: int) -> None:
    order["order_status"] = status
    order["order_status_desc"] = ORDER_STATUS_DESC[status]
    order["main_status"] = status
    order["main_status_desc"] = MAIN_STATUS_DESC[status]
    for sku in order["sku_order_list"]:
        sku["order_status"] = status
        sku["order_status_desc"] = ORDER_STATUS_DESC[status]
        sku["main_status"] = status
        sku["main_status_desc"] = MAIN_STATUS_DESC[status]


def pick_status(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.02:
        return 105
    if r < 0.07:
        return 1
    if r < 0.11:
        return 4
    return 2


def make_order(rng: random.Random, shop_id: int, order_id: int, create_time: int,
               status: int | None = None) -> dict[str, Any]:
    """Build one ``shop_order_list[]`` element. ``order_id`` must leave room for +1..+3 sub ids."""
    if status is None:
        status = pick_status(rng)
    paid = status != 1
    pay_time = create_time + rng.randint(3, 240) if paid else 0
    update_time = pay_time if paid else create_time
    if status == 4:
        update_time = max(update_time, create_time) + rng.randint(60, 3600)
    presale = rng.random() < 0.05
    pre_sale_type = rng.choice((1, 2)) if presale else 0
    exp_ship = end_of_day_gmt8(pay_time or create_time, rng.randint(7, 15) if presale else 2)
    n_lines = rng.choices((1, 2, 3, 4), weights=(70, 18, 8, 4))[0]
    lines = rng.sample(ALL_SKUS, n_lines)
    pid = str(order_id)
    skus = []
    total = 0
    for k, (prod, sku) in enumerate(lines):
        qty = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        origin = sku["price"] * qty
        discount = rng.choice((0, 0, 0, 100, 200, 500)) if origin > 1000 else 0
        pay_amount = origin - discount
        total += pay_amount
        sku_order = {
            "order_id": str(order_id + k),
            "parent_order_id": pid,
            "order_level": 3,
            "order_status": status,
            "order_status_desc": ORDER_STATUS_DESC[status],
            "main_status": status,
            "main_status_desc": MAIN_STATUS_DESC[status],
            "product_id": prod["product_id"],
            "product_id_str": str(prod["product_id"]),
            "product_name": prod["product_name"],
            "product_pic": f"https://p3-aio.ecombdimg.com/obj/ecom-shop-material/{prod['product_id']}.jpeg",
            "out_product_id": f"P-{prod['short']}",
            "sku_id": sku["sku_id"],
            "out_sku_id": sku["code"],
            "code": sku["code"],
            "supplier_id": "",
            "spec": sku["spec"],
            "item_num": qty,
            "goods_price": sku["price"],
            "origin_amount": origin,
            "sum_amount": origin,
            "pay_amount": pay_amount,
            "promotion_amount": discount,
            "post_amount": 0,
            "goods_type": 0,
            "create_time": create_time,
            "pay_time": pay_time,
            "update_time": update_time,
            "exp_ship_time": exp_ship,
            "ship_time": 0,
            "finish_time": 0,
            "appointment_ship_time": 0,
            "pre_sale_type": pre_sale_type,
            "given_product_type": "MASTER",
            "master_sku_order_id_list": [],
            "need_serial_number": False,
            "receive_type": 1,
            "after_sale_info": {"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0},
            "bundle_sku_info": [],
            "inventory_list": [{"warehouse_id": "0", "out_warehouse_id": "", "count": qty, "inventory_type": 0}],
            "is_comment": 0,
        }
        if rng.random() < 0.03:  # 组套 bundle
            sku_order["bundle_sku_info"] = [
                {"sub_product_id": str(prod["product_id"]), "sub_sku_id": str(sku["sku_id"] + 50000 + b),
                 "code": f"{sku['code']}-B{b + 1}", "item_num": 1, "product_name": prod["product_name"],
                 "picture_url": sku_order["product_pic"]}
                for b in range(2)
            ]
        skus.append(sku_order)
    if rng.random() < 0.02:  # a free gift line
        prod, sku = ALL_SKUS[rng.randrange(len(ALL_SKUS))]
        gift = dict(skus[0], order_id=str(order_id + len(skus)), product_id=prod["product_id"],
                    product_id_str=str(prod["product_id"]), product_name=prod["product_name"] + "（赠品）",
                    sku_id=sku["sku_id"], code=sku["code"], out_sku_id=sku["code"], spec=sku["spec"], item_num=1,
                    origin_amount=0, sum_amount=0, pay_amount=0, promotion_amount=0, given_product_type="FREE",
                    master_sku_order_id_list=[skus[0]["order_id"]],
                    inventory_list=[{"warehouse_id": "0", "out_warehouse_id": "", "count": 1, "inventory_type": 0}])
        skus.append(gift)
    post_amount = 0 if total >= 4900 else 600
    stars = 0
    seller_words = ""
    if rng.random() < 0.03:
        seller_words = rng.choice(SELLER_WORDS)
        stars = rng.randint(1, 5)
    order = {
        "order_id": pid,
        "shop_id": shop_id,
        "shop_name": "",
        "open_id": "",
        "order_level": 2,
        "biz": 2,
        "biz_desc": "小店自卖",
        "order_type": 0,
        "order_type_desc": "普通订单",
        "trade_type": 0,
        "trade_type_desc": "普通",
        "order_phase_list": [],
        "order_status": status,
        "order_status_desc": ORDER_STATUS_DESC[status],
        "main_status": status,
        "main_status_desc": MAIN_STATUS_DESC[status],
        "create_time": create_time,
        "pay_time": pay_time,
        "update_time": update_time,
        "finish_time": 0,
        "ship_time": 0,
        "order_expire_time": 1800 if status == 1 else 0,
        "exp_ship_time": exp_ship,
        "appointment_ship_time": 0,
        "cancel_reason": "买家取消：不想要了" if status == 4 else "",
        "buyer_words": rng.choice(BUYER_WORDS) if rng.random() < 0.10 else "",
        "seller_words": seller_words,
        "seller_remark_stars": stars,
        "b_type": rng.choice((2, 2, 2, 1, 3)),
        "b_type_desc": "",
        "sub_b_type": 0,
        "app_id": 1128,
        "pay_type": 1 if paid else 0,
        "channel_payment_no": f"TP{create_time}{order_id % 10 ** 8:08d}" if paid else "",
        "order_amount": total + post_amount,
        "pay_amount": (total + post_amount) if paid else 0,
        "post_amount": post_amount,
        "post_insurance_amount": 0,
        "modify_amount": 0,
        "modify_post_amount": 0,
        "promotion_amount": sum(s["promotion_amount"] for s in skus),
        "promotion_shop_amount": 0,
        "promotion_platform_amount": 0,
        "doudian_open_id": "1@#" + hashlib.sha1(f"{order_id}buyer".encode()).hexdigest()[:24],
        "user_tag_ui": [],
        "shop_order_tag_ui": [{"key": "pre_sale_label", "text": "预售", "help_doc": ""}] if presale else [],
        "address_tag_ui": [],
        "promise_info": "",
        "serial_number_list": [],
        "logistics_info": [],
        "sku_order_list": skus,
    }
    apply_receiver(order, random_receiver(rng))
    return order


def dumps(order: dict[str, Any]) -> str:
    """Compact UTF-8 JSON, as the stdlib's ``ensure_ascii=False`` gives, several times faster:
    every shipping call loads and stores its order's document."""
    return orjson.dumps(order).decode()


def gen_chunk(base_seed: str, k: int, n: int, shop_id: int, now: int, spread: float,
              profile: str) -> list[tuple[int, int, int, int, int, str]]:
    """Rows ``(order_id, shop_id, create_time, update_time, order_status, payload)`` for chunk ``k``.

    Deterministic in its arguments; runs in worker processes for big batches.
    """
    rng = random.Random(f"{base_seed}:{k}")
    rows = []
    for _ in range(n):
        if profile == "spike":  # most orders crowd into a short window near the end
            u = rng.triangular(0.0, 1.0, 0.05) if rng.random() < 0.8 else rng.random()
            u = u * 0.25 if rng.random() < 0.8 else u
        else:
            u = rng.random()
        ct = int(now - u * spread)
        oid = new_order_id(rng)
        order = make_order(rng, shop_id, oid, ct)
        if order["update_time"] > now:
            order["update_time"] = now
            for s in order["sku_order_list"]:
                s["update_time"] = now
        rows.append((oid, shop_id, ct, order["update_time"], order["order_status"], dumps(order)))
    return rows


def _gen_chunk_star(args: tuple) -> list[tuple[int, int, int, int, int, str]]:
    return gen_chunk(*args)


def new_order_id(rng: random.Random) -> int:
    """19-digit parent id starting with 69, a multiple of 8 (room for sub-order ids +1..+7)."""
    return (6900000000000000000 + rng.randrange(10 ** 17)) // 8 * 8
