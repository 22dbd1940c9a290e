"""``afterSale.List`` (§12.1) and ``afterSale.Detail`` (§12.2): filters, order, and the item shapes."""
from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from ..gateway import Ctx, api_method
from ..methods import shop_addresses
from ..params import bad, id_param, p_bool, p_int
from .cases import COLS, line_of, load_case, not_found, row_case
from .parcels import order_logistics
from .rules import STATUS_TEXT, TYPE_TEXT

if TYPE_CHECKING:
    from ..core import Sandbox


ORDER_BY_FIELDS = {"status_deadline", "apply_time", "update_time"}


def _related_status(order: dict[str, Any], s: dict[str, Any]) -> int:
    """afterSale.List order_status: 2 未发货, 3 已发货, 5 已收货/完成."""
    if order["order_status"] == 5:
        return 5
    return 3 if s.get("ship_time") else 2


def _fmt(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + 8 * 3600))


def _list_item(sb: Sandbox, c: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    i, s = c["info"], line_of(order, c["sku_order_id"])
    ol = order_logistics(sb, order, c["sku_order_id"])
    ret = i["return"] or {}
    got = 1 if c["aftersale_type"] == 0 or any(x["logistics_state"] == 2 for x in ol) else 0
    aftersale_info = {
        "aftersale_id": c["aftersale_id"], "aftersale_order_type": 1, "aftersale_type": c["aftersale_type"],
        "aftersale_status": c["aftersale_status"], "related_id": c["sku_order_id"], "apply_time": c["apply_time"],
        "update_time": c["update_time"], "create_time": c["apply_time"], "status_deadline": c["status_deadline"],
        "refund_amount": i["refund_amount"], "refund_post_amount": i["refund_post_amount"],
        "aftersale_num": i["aftersale_num"], "part_type": 0 if i["aftersale_num"] == s["item_num"] else 1,
        "aftersale_refund_type": 0, "refund_type": 2, "refund_status": c["refund_status"], "arbitrate_status": 0,
        "return_logistics_code": ret.get("tracking_no", ""),
        "return_logistics_company_name": ret.get("company_name", ""),
        "order_logistics": ol, "got_pkg": got, "remark": "", "aftersale_tags": []}
    related = {
        "sku_order_id": s["order_id"], "order_status": _related_status(order, s), "pay_amount": s["pay_amount"],
        "post_amount": s.get("post_amount", 0), "item_num": s["item_num"], "create_time": s["create_time"],
        "product_name": s["product_name"], "product_id": s["product_id"], "product_image": s.get("product_pic", ""),
        "sku_spec": [{"name": x["name"], "value": x["value"]} for x in s.get("spec", [])],
        "shop_sku_code": s.get("code", ""), "logistics_code": ol[0]["tracking_no"] if ol else "",
        "aftersale_pay_amount": i["refund_amount"], "aftersale_post_amount": i["refund_post_amount"],
        "aftersale_item_num": i["aftersale_num"], "price": s["goods_price"], "tags": [], "given_sku_order_ids": []}
    text = {"aftersale_status_text": STATUS_TEXT[c["aftersale_status"]],
            "aftersale_type_text": TYPE_TEXT[c["aftersale_type"]],
            "logistics_text": "已发货" if s.get("ship_time") else "未发货",
            "return_logistics_text": "买家已退货" if ret else "", "reason_text": i["reason"],
            "aftersale_refund_type_text": "原路退款", "arbitrate_status_text": "", "bad_item_text": ""}
    return {"aftersale_info": aftersale_info,
            "order_info": {"shop_order_id": c["order_id"], "related_order_info": [related], "order_flag": 0},
            "text_part": text, "seller_logs": []}


def _int_list(params: dict[str, Any], name: str, allowed: set[int] | None = None) -> list[int] | None:
    v = params.get(name)
    if v is None or v == []:
        return None
    if not isinstance(v, list):
        raise bad(name, f"{name}应为数组")
    out = []
    for x in v:
        if isinstance(x, bool) or not (isinstance(x, int) or (isinstance(x, str) and x.strip().isdigit())):
            raise bad(name, f"{name}元素应为整数: {x!r}")
        if allowed is not None and int(x) not in allowed:
            raise bad(name, f"{name}取值非法: {x}（可选 {', '.join(map(str, sorted(allowed)))}）")
        out.append(int(x))
    return out


def _order_by(params: dict[str, Any]) -> str:
    v = params.get("order_by")
    if v is None or v == []:
        return "apply_time DESC, seq DESC"
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise bad("order_by", "order_by应为字符串数组，如[\"update_time asc\"]")
    parts = []
    for x in v:
        bits = x.split()
        if len(bits) != 2 or bits[0] not in ORDER_BY_FIELDS or bits[1].lower() not in ("asc", "desc"):
            raise bad("order_by", f"order_by非法: {x!r}（字段 status_deadline / apply_time / update_time，asc 或 desc）")
        parts.append(f"{bits[0]} {bits[1].upper()}")
    last = parts[0].split()[1]
    return ", ".join(parts) + f", seq {last}"  # a total order: stable pages


@api_method("afterSale.List")
def after_sale_list(ctx: Ctx, params: dict[str, Any]) -> Any:
    size = p_int(params, "size", 10, lo=1, hi=100, msg="size参数非法，单页大小限制1~100")
    page = p_int(params, "page", 0, lo=0, msg="page参数非法，页码从0开始")
    where: list[str] = ["shop_id=?"]
    args: list[Any] = [ctx.shop]
    if params.get("order_id") not in (None, ""):
        where.append("order_id=?")
        args.append(str(id_param(params["order_id"], "order_id")))
    if params.get("aftersale_id") not in (None, ""):
        where.append("aftersale_id=?")
        args.append(str(id_param(params["aftersale_id"], "aftersale_id")))
    a_type = p_int(params, "aftersale_type", None)
    if a_type is not None:
        if a_type not in TYPE_TEXT:
            raise bad("aftersale_type", f"aftersale_type取值非法: {a_type}")
        where.append("aftersale_type=?")
        args.append(a_type)
    statuses = _int_list(params, "standard_aftersale_status", set(STATUS_TEXT)) or []
    old = p_int(params, "aftersale_status", None)  # deprecated single-status filter, still honoured
    if old is not None:
        if old not in STATUS_TEXT:
            raise bad("aftersale_status", f"aftersale_status取值非法: {old}")
        statuses = [s for s in statuses if s == old] if statuses else [old]
        if not statuses:
            statuses = [-1]
    if statuses:
        where.append("aftersale_status IN (%s)" % ",".join("?" * len(statuses)))
        args.extend(statuses)
    for col, lo_name, hi_name in (("apply_time", "start_time", "end_time"),
                                  ("update_time", "update_start_time", "update_end_time")):
        lo, hi = p_int(params, lo_name, None, lo=0), p_int(params, hi_name, None, lo=0)
        if lo is not None:
            where.append(f"{col}>=?")
            args.append(lo)
        if hi is not None:
            where.append(f"{col}<=?")
            args.append(hi)
    nos = params.get("order_logistics_tracking_no")
    if nos not in (None, []):
        if not isinstance(nos, list) or not all(isinstance(x, str) and x for x in nos):
            raise bad("order_logistics_tracking_no", "order_logistics_tracking_no应为运单号字符串数组")
        where.append("order_id IN (SELECT j.value FROM shipments AS sh, json_each(sh.order_ids) AS j WHERE"
                     " sh.shop_id=? AND sh.tracking_no IN (%s))" % ",".join("?" * len(nos)))
        args += [ctx.shop] + nos
    order = _order_by(params)
    w = " AND ".join(where)
    sb = ctx.sb
    total = sb.store.one(f"SELECT COUNT(*) FROM aftersales WHERE {w}", args)[0]
    rows = sb.store.all(f"SELECT {COLS} FROM aftersales WHERE {w} ORDER BY {order} LIMIT ? OFFSET ?",
                        args + [size, page * size])
    cases = [row_case(r) for r in rows]
    orders: dict[str, dict[str, Any]] = {}
    ids = sorted({int(c["order_id"]) for c in cases})
    if ids:
        for oid, payload in sb.store.all("SELECT order_id, payload FROM orders WHERE order_id IN (%s)"
                                         % ",".join("?" * len(ids)), ids):
            orders[str(oid)] = json.loads(payload)
    items = [_list_item(sb, c, orders[c["order_id"]]) for c in cases]
    return {"items": items, "has_more": (page + 1) * size < total, "total": total, "page": page,
            "size": len(items)}


@api_method("afterSale.Detail")
def after_sale_detail(ctx: Ctx, params: dict[str, Any]) -> Any:
    aid = str(id_param(params.get("after_sale_id"), "after_sale_id"))
    records = p_bool(params, "need_operation_record", False)
    sb = ctx.sb
    c = load_case(sb.store.conn, aid, ctx.shop)
    if c is None:
        raise not_found(aid)
    order = json.loads(sb.orders.payload(ctx.shop, int(c["order_id"])) or "{}")
    i, s = c["info"], line_of(order, c["sku_order_id"])
    ol = order_logistics(sb, order, c["sku_order_id"])
    ret = i["return"]
    ret_addr = next(a for a in shop_addresses(ctx.shop) if a["is_default"])
    info = {
        "after_sale_id": int(c["aftersale_id"]), "after_sale_status": c["aftersale_status"],
        "after_sale_status_desc": STATUS_TEXT[c["aftersale_status"]], "refund_status": c["refund_status"],
        "refund_type": 2, "refund_type_text": "原路退款",
        "refund_total_amount": i["refund_amount"] + i["refund_post_amount"],
        "refund_post_amount": i["refund_post_amount"], "real_refund_amount": i["real_refund_amount"],
        "apply_time": c["apply_time"], "update_time": c["update_time"], "status_deadline": c["status_deadline"],
        "reason": i["reason"], "reason_code": i["reason_code"], "after_sale_type": c["aftersale_type"],
        "after_sale_type_text": TYPE_TEXT[c["aftersale_type"]], "after_sale_apply_count": i["aftersale_num"],
        "need_return_count": i["aftersale_num"] if c["aftersale_type"] == 0 else 0,
        "got_pkg": 1 if c["aftersale_type"] == 0 or any(x["logistics_state"] == 2 for x in ol) else 0,
        "return_address_id": ret_addr["address_id"] if c["aftersale_type"] == 0 else 0,
        "part_type": 0 if i["aftersale_num"] == s["item_num"] else 1, "refund_voucher_num": 0,
        "after_sale_order_type": 1}
    logistics = {"return": ret and {k: ret[k] for k in ("tracking_no", "company_name", "company_code",
                                                         "logistics_time")},
                 "order": [dict(x, value_added_services=[]) for x in ol], "exchange": None, "resend": None}
    logs = [{"operator": x["operator"], "time": _fmt(x["time"]), "text": x["text"], "images": [], "desc_kvs": [],
             "action": x["action"], "role": x["role"], "all_evidence": []} for x in i["logs"]] if records else []
    sku_info = {
        "sku_order_id": int(s["order_id"]), "order_status": _related_status(order, s), "pay_amount": s["pay_amount"],
        "post_amount": s.get("post_amount", 0), "item_quantity": s["item_num"], "create_time": s["create_time"],
        "product_name": s["product_name"], "product_id": s["product_id"], "product_image": s.get("product_pic", ""),
        "sku_spec": [{"name": x["name"], "value": x["value"]} for x in s.get("spec", [])],
        "shop_sku_code": s.get("code", ""), "sku_id": s["sku_id"], "item_sum_amount": s["origin_amount"],
        "sku_pay_amount": s["pay_amount"], "promotion_amount": s["promotion_amount"], "pay_type": order["pay_type"],
        "after_sale_item_count": i["aftersale_num"], "tags": [], "insurance_tags": [], "given_sku_details": []}
    return {"process_info": {"after_sale_info": info, "logistics_info": logistics, "record_logs_list": logs,
                             "arbitrate_info": None, "after_sale_shop_remarks": []},
            "order_info": {"shop_order_id": int(c["order_id"]), "sku_order_infos": [sku_info]}}
