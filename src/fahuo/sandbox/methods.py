"""Gateway method handlers (token.*, order.*, address.list). Add more with ``@api_method``."""
from __future__ import annotations

from typing import Any

from .receivers import WAREHOUSE_REGIONS
from .core import ApiError
from .gateway import Ctx, Raw, api_method, window_floor
from .params import p_bool, p_int

VALID_ORDER_STATUS = {1, 2, 3, 4, 5, 101, 105}

LOGISTICS_COMPANIES = [
    {"id": 1, "name": "中通快递", "code": "zhongtong"},
    {"id": 7, "name": "圆通快递", "code": "yuantong"},
    {"id": 3, "name": "韵达快递", "code": "yunda"},
    {"id": 4, "name": "申通快递", "code": "shentong"},
    {"id": 1045, "name": "极兔速递", "code": "jtexpress"},
    {"id": 12, "name": "顺丰速运", "code": "shunfeng"},
    {"id": 6, "name": "EMS", "code": "ems"},
    {"id": 15, "name": "京东快递", "code": "jd"},
    {"id": 10, "name": "邮政快递包裹", "code": "youzhengguonei"},
    {"id": 16, "name": "德邦快递", "code": "debangwuliu"},
    {"id": 1048, "name": "丰网速运", "code": "fengwang"},
    {"id": 23, "name": "百世快递", "code": "huitongkuaidi"},
    {"id": 92, "name": "众邮快递", "code": "zhongyouex"},
    {"id": 99, "name": "其他", "code": "qita"},
]
COMPANY_BY_CODE = {c["code"]: c for c in LOGISTICS_COMPANIES}


# ---------------------------------------------------------------------------- token

@api_method("token.create", needs_token=False)
def token_create(ctx: Ctx, params: dict[str, Any]) -> Any:
    grant = params.get("grant_type")
    if not grant:
        raise ApiError(40002, "isv.parameter-missing:grant_type", "缺少grant_type")
    if grant == "authorization_self":
        shop_id = params.get("shop_id")
        if params.get("auth_subject_type"):
            raise ApiError(50002, "dop.token-generate-failed:no-authorization", "沙箱仅支持店铺授权")
        if shop_id in (None, ""):
            raise ApiError(40002, "isv.parameter-missing:shop_id", "自用型应用需要传shop_id")
        try:
            shop_id = int(shop_id)
        except (TypeError, ValueError):
            raise ApiError(40003, "isv.parameter-invalid:shop_id", "shop_id非法") from None
        if shop_id != ctx.app["shop_id"]:
            raise ApiError(50002, "dop.token-generate-failed:no-authorization", "店铺未授权该应用")
        return ctx.sb.new_token(ctx.app["app_key"], shop_id)
    if grant == "authorization_code":
        code = params.get("code")
        if not code:
            raise ApiError(40002, "isv.parameter-missing:code", "缺少code")
        return ctx.sb.token_from_code(ctx.app["app_key"], str(code))
    raise ApiError(50002, "dop.token-generate-failed:grant-type-invalid", f"grant_type非法: {grant}")


@api_method("token.refresh", needs_token=False)
def token_refresh(ctx: Ctx, params: dict[str, Any]) -> Any:
    if params.get("grant_type") != "refresh_token":
        raise ApiError(50002, "dop.token-generate-failed:grant-type-invalid", "grant_type应为refresh_token")
    rt = params.get("refresh_token")
    if not rt:
        raise ApiError(40002, "isv.parameter-missing:refresh_token", "缺少refresh_token")
    return ctx.sb.refresh(ctx.app["app_key"], str(rt))


# ---------------------------------------------------------------------------- orders

@api_method("order.searchList")
def order_search_list(ctx: Ctx, params: dict[str, Any]) -> Any:
    size = p_int(params, "size", 10, lo=1, hi=100, msg="size参数非法，单页大小限制100以内")
    page = p_int(params, "page", 0, lo=0, msg="page参数非法，页码从0开始")
    floor = window_floor(ctx)
    bounds = {}
    for name in ("create_time_start", "create_time_end", "update_time_start", "update_time_end"):
        v = p_int(params, name, None, lo=0)
        if v is not None and v < floor:
            raise ApiError(40003, f"isv.parameter-invalid:{name}", "最大支持查询近90天的数据")
        bounds[name] = v
    statuses = None
    cs = params.get("combine_status")
    if cs is not None:
        if not isinstance(cs, list) or len(cs) != 1 or not isinstance(cs[0], dict):
            raise ApiError(40003, "isv.parameter-invalid:combine_status", "combine_status仅支持传一个元素")
        raw = cs[0].get("order_status")
        if raw not in (None, ""):
            try:
                statuses = sorted({int(x) for x in str(raw).split(",") if x.strip()})
            except ValueError:
                raise ApiError(40003, "isv.parameter-invalid:combine_status", "order_status非法") from None
            if not statuses or any(s not in VALID_ORDER_STATUS for s in statuses):
                raise ApiError(40003, "isv.parameter-invalid:combine_status", "order_status非法")
    order_by = params.get("order_by") or "create_time"
    if order_by not in ("create_time", "update_time"):
        raise ApiError(40003, "isv.parameter-invalid:order_by", "order_by仅支持create_time和update_time")
    asc = p_bool(params, "order_asc", False)
    total, blobs = ctx.sb.orders.search(
        ctx.shop, statuses=statuses,
        ct=(bounds["create_time_start"], bounds["create_time_end"]),
        ut=(bounds["update_time_start"], bounds["update_time_end"]),
        order_by=order_by, asc=asc, page=page, size=size)
    return Raw(f'{{"page":{page},"size":{size},"total":{total},"shop_order_list":[' + ",".join(blobs) + "]}")


@api_method("order.orderDetail")
def order_detail(ctx: Ctx, params: dict[str, Any]) -> Any:
    oid = params.get("shop_order_id")
    if oid in (None, ""):
        raise ApiError(40002, "isv.parameter-missing:shop_order_id", "缺少shop_order_id")
    oid = str(oid).strip()
    if not (oid.isdigit() and oid.isascii()):
        raise ApiError(40003, "isv.parameter-invalid:shop_order_id", f"shop_order_id非法: {oid}")
    blob = ctx.sb.orders.payload(ctx.shop, int(oid)) if len(oid) <= 19 else None
    if blob is None:
        raise ApiError(50002, "isv.business-failed", f"订单不存在: {oid}")
    return Raw('{"shop_order_detail":' + blob + "}")


@api_method("order.logisticsCompanyList")
def logistics_company_list(ctx: Ctx, params: dict[str, Any]) -> Any:
    return LOGISTICS_COMPANIES


# ---------------------------------------------------------------------------- address

def shop_addresses(shop_id: int) -> list[dict[str, Any]]:
    regions = WAREHOUSE_REGIONS
    n = len(regions)
    r1, r2, r3 = regions[shop_id % n], regions[(shop_id // 7 + 3) % n], regions[(shop_id // 13 + 5) % n]
    out = []
    for i, (region, name, detail, send, ret) in enumerate((
            (r1, "仓库发货员", "工业园区8号仓A区", 1, 0),
            (r3, "二号仓发货", "电商产业园3号楼1层", 0, 0),
            (r2, "售后小王", "物流园B栋二楼退货组", 0, 1))):
        (_, pn), (_, cn), (_, tn), (_, sn) = region
        ct = 1700000000 + (shop_id % 100000) + i
        out.append({
            "address_id": shop_id * 10 + i + 1,
            "reciever_name": name,
            "receiver_tel": f"1380013{shop_id % 10000:04d}",
            "receiver_provinc": pn,
            "receiver_city": cn,
            "receiver_district": tn,
            "receiver_street": sn,
            "receiver_detail": detail,
            "is_default": ret,
            "is_send_default": send,
            "remark": "退货地址" if ret else "发货地址",
            "create_time": str(ct),
            "update_time": str(ct),
        })
    return out


@api_method("address.list")
def address_list(ctx: Ctx, params: dict[str, Any]) -> Any:
    page_no = p_int(params, "page_no", 1, lo=1, msg="page_no参数非法，页码从1开始")
    page_size = p_int(params, "page_size", 10, lo=1, hi=100)
    items = shop_addresses(ctx.shop)
    if params.get("order_by") == "desc":
        items.reverse()
    start = (page_no - 1) * page_size
    return {"total": len(items), "page_no": page_no, "page_size": page_size,
            "address_list": items[start:start + page_size]}
