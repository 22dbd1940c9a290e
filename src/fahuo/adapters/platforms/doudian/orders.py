"""Douyin order payloads (shop_order_list[] / shop_order_detail) → domain orders."""

from __future__ import annotations

from typing import Any

from fahuo.domain.orders import Order, Receiver, SubOrder


def _int(v: Any, default: int | None = 0) -> int | None:
    if v is None or v == "":
        return default
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _name(node: Any) -> str:
    return (node or {}).get("name", "") if isinstance(node, dict) else ""


def _spec(spec: Any) -> str:
    if isinstance(spec, list):
        return ";".join(f"{s.get('name', '')}:{s.get('value', '')}" for s in spec
                        if isinstance(s, dict))
    return str(spec or "")


def _plain(value: Any) -> str:
    """Plain receiver text the platform may send; masked or empty values are not plain."""
    text = str(value or "")
    return "" if not text or "*" in text else text


def _mask_addr(mask: Any, detail: str) -> str:
    """mask_post_addr is an address object in real payloads (a string in some samples)."""
    if isinstance(mask, dict):
        return str(mask.get("detail") or "")
    if mask:
        return str(mask)
    return detail if "*" in detail else ""


class OrderPayloadError(ValueError):
    pass


def parse_order(p: dict[str, Any]) -> Order:
    order_id = str(p.get("order_id") or "")
    if not order_id.isdigit():
        raise OrderPayloadError(f"order payload without a numeric order_id: {order_id!r}")
    addr = p.get("post_addr") or {}
    detail = str(addr.get("detail") or "")
    receiver = Receiver(
        name_cipher=str(p.get("encrypt_post_receiver") or ""),
        phone_cipher=str(p.get("encrypt_post_tel") or ""),
        detail_cipher=str(addr.get("encrypt_detail") or ""),
        name_mask=str(p.get("mask_post_receiver") or ""),
        phone_mask=str(p.get("mask_post_tel") or ""),
        address_mask=_mask_addr(p.get("mask_post_addr"), detail),
        province=_name(addr.get("province")), city=_name(addr.get("city")),
        district=_name(addr.get("town")), street=_name(addr.get("street")),
        name_plain=_plain(p.get("post_receiver")), phone_plain=_plain(p.get("post_tel")),
        detail_plain=_plain(detail),
    )
    subs = []
    for s in p.get("sku_order_list") or []:
        asi = s.get("after_sale_info") or {}
        subs.append(SubOrder(
            sku_order_id=str(s.get("order_id")),
            product_id=str(s.get("product_id_str") or s.get("product_id") or ""),
            sku_id=str(s.get("sku_id") or ""),
            merchant_code=str(s.get("code") or s.get("out_sku_id") or ""),
            product_name=str(s.get("product_name") or ""),
            quantity=_int(s.get("item_num"), 1) or 1,
            pay_amount=_int(s.get("pay_amount")) or 0,
            order_status=_int(s.get("order_status"), 0) or 0,
            after_sale_status=_int(asi.get("after_sale_status")) or 0,
            after_sale_type=_int(asi.get("after_sale_type"), None),
            refund_status=_int(asi.get("refund_status"), None),
            presale_type=_int(s.get("pre_sale_type")) or 0,
            exp_ship_time=_int(s.get("exp_ship_time"), None),
            spec=_spec(s.get("spec")),
        ))
    presale = max([s.presale_type for s in subs], default=0)
    return Order(
        order_id=order_id, shop_id=str(p.get("shop_id") or ""),
        order_status=_int(p.get("order_status")) or 0,
        main_status=_int(p.get("main_status"), None),
        create_time=_int(p.get("create_time")) or 0,
        pay_time=_int(p.get("pay_time"), None) or None,
        update_time=_int(p.get("update_time")) or 0,
        exp_ship_time=_int(p.get("exp_ship_time"), None) or None,
        order_amount=_int(p.get("order_amount")) or 0,
        pay_amount=_int(p.get("pay_amount")) or 0,
        post_amount=_int(p.get("post_amount")) or 0,
        buyer_words=str(p.get("buyer_words") or ""),
        seller_words=str(p.get("seller_words") or ""),
        seller_remark_stars=_int(p.get("seller_remark_stars")) or 0,
        presale_type=presale, receiver=receiver, sub_orders=subs,
        buyer_id=str(p.get("doudian_open_id") or ""), raw=p,
    )
