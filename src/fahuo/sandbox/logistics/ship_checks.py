"""What the shipping calls check before anything is written: the order's status, open after-sales,
quantities still owed per line, tracking numbers, request ids (replayed results)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from ..gateway import Ctx
from ..methods import shop_addresses
from ..params import bad, id_param, missing, p_bool, p_int
from .fields import biz

if TYPE_CHECKING:
    from ..core import Sandbox


OPEN_AFTER_SALE = {6, 7, 11}  # 售后申请, 售后退货中, 售后已发货 (buyer returned goods)
DONE_AFTER_SALE = {12}  # 售后成功 (refunded): nothing left to ship on that line


def shipped_qty(order: dict[str, Any]) -> dict[str, int]:
    done: dict[str, int] = {}
    for pk in order.get("logistics_info") or []:
        for p in pk.get("product_info") or []:
            done[str(p["sku_order_id"])] = done.get(str(p["sku_order_id"]), 0) + int(p["product_count"])
    return done


def _shipped_label(order: dict[str, Any]) -> str:
    return ",".join(f"{pk['company']}:{pk['tracking_no']}" for pk in order.get("logistics_info") or [])


def check_shippable(order: dict[str, Any], *, allow_partial: bool) -> None:
    st = order["order_status"]
    oid = order["order_id"]
    if st in (3, 5):
        raise biz(2, f"订单已发货，请勿重复发货，已发货运单: {_shipped_label(order)}")
    if st == 101 and not allow_partial:
        raise biz(3, "该订单当前为“部分发货”状态，无法调用此接口")
    if st == 4:
        raise biz(4, f"订单已取消，无法发货: {oid}")
    if st == 1:
        raise biz(4, f"订单未支付，无法发货: {oid}")
    if st == 105:
        raise biz(6, f"风控审核中的订单暂不能发货: {oid}")


def check_refunds(sb: Sandbox, conn: Any, skus: list[dict[str, Any]], reject: bool,
                   now: int) -> list[dict[str, Any]]:
    """Open after-sale on a line: refuse to ship, or (``is_reject_refund``) refuse the after-sale; return its pushes."""
    open_ = list({s["order_id"]: s for s in skus
                  if (s.get("after_sale_info") or {}).get("after_sale_status") in OPEN_AFTER_SALE}.values())
    if open_ and not reject:
        raise biz(5, "订单存在售后申请，无法发货: " + ",".join(s["order_id"] for s in open_))
    if not open_:
        return []
    from ..aftersales.cases import refuse_on_ship  # late: after-sales imports the shipping module
    return refuse_on_ship(sb, conn, open_, now)  # ship anyway = refuse the refund (拒绝售后申请)


def reject_flag(params: dict[str, Any]) -> bool:
    return p_bool(params, "is_reject_refund", False) or p_bool(params, "is_refund_reject", False)


def check_address_id(params: dict[str, Any], shop_id: int) -> None:
    for name in ("address_id", "after_sale_address_id"):
        aid = p_int(params, name, None)
        if aid is not None and aid not in {a["address_id"] for a in shop_addresses(shop_id)}:
            raise bad(name, f"{name}不存在: {aid}")


def check_serials(v: Any, name: str = "serial_number_list") -> None:
    if v in (None, []):
        return
    if not isinstance(v, list) or not all(isinstance(x, str) and re.fullmatch(r"\d{15,17}", x) for x in v):
        raise bad(name, f"{name}应为15-17位数字串数组")


def check_waybill(conn: Any, shop_id: int, tn: str, company: str) -> None:
    row = conn.execute("SELECT logistics_code, status FROM waybills WHERE track_no=? AND shop_id=?",
                       (tn, shop_id)).fetchone()
    if row is None:
        return
    if row[0] != company:
        raise biz(7, f"运单号与物流公司不匹配: {tn} 属于 {row[0]}，传入 {company}")
    if row[1] == "cancelled":
        raise biz(7, f"运单号已取消，不能用于发货: {tn}")
    if row[1] == "live":
        conn.execute("UPDATE waybills SET status='used' WHERE track_no=?", (tn,))


def request_id_param(params: dict[str, Any]) -> str | None:
    rid = params.get("request_id")
    if rid in (None, ""):
        return None
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or len(str(rid)) > 64:
        raise bad("request_id", "request_id应为不超过64位的字符串")
    return str(rid)


def replay(ctx: Ctx, method: str, rid: str | None) -> Any:
    if rid is None:
        return None
    row = ctx.sb.store.one("SELECT result FROM ship_requests WHERE shop_id=? AND method=? AND request_id=?",
                           (ctx.shop, method, rid))
    return orjson.loads(row[0]) if row else None


def shipped_lines(order_map: dict[str, dict[str, Any]], info: Any, label: str) -> list[tuple[str, dict[str, Any], int]]:
    """Validate ``shipped_order_info`` → [(parent_id, sku, num)]; sub-orders must belong to the orders."""
    if not isinstance(info, list) or not info:
        raise missing(label)
    sku_parent = {s["order_id"]: (pid, s) for pid, o in order_map.items() for s in o["sku_order_list"]}
    out = []
    for i, it in enumerate(info):
        if not isinstance(it, dict):
            raise bad(label, f"{label}[{i}]应为对象")
        sid = str(id_param(it.get("shipped_order_id"), "shipped_order_id"))
        num = p_int(it, "shipped_num", None, lo=1, msg="shipped_num必须大于0")
        if num is None:
            raise missing("shipped_num")
        if sid not in sku_parent:
            raise biz(7, f"子订单不属于指定订单: {sid}")
        pid, s = sku_parent[sid]
        out.append((pid, s, num))
    return out


def check_quantities(conn: Any, order_map: dict[str, dict[str, Any]],
                      lines: list[tuple[str, dict[str, Any], int]]) -> None:
    want: dict[str, int] = {}
    for _, s, n in lines:
        want[s["order_id"]] = want.get(s["order_id"], 0) + n
    for _pid, o in order_map.items():
        done = shipped_qty(o)
        refunded = refunded_units(conn, [s["order_id"] for s in o["sku_order_list"]])
        for s in o["sku_order_list"]:
            w = want.get(s["order_id"], 0)
            if not w:
                continue
            if not to_send(s, refunded):
                raise biz(7, f"子订单已退款，无需发货: {s['order_id']}")
            left = to_send(s, refunded) - done.get(s["order_id"], 0)
            if w > left:
                raise biz(7, f"发货数量超过可发货数量: 子订单{s['order_id']} 可发{left}件，本次{w}件")


def refunded_units(conn: Any, sku_order_ids: list[str]) -> dict[str, int]:
    """Units refunded before shipment per line: 未发货仅退款 cases agreed with the money back
    (12 / refund 3), by their aftersale_num (a partial refund leaves the rest to ship)."""
    out: dict[str, int] = {}
    ids = sorted({str(i) for i in sku_order_ids})
    for k in range(0, len(ids), 500):
        part = ids[k:k + 500]
        for sku, info in conn.execute(
                "SELECT sku_order_id, info FROM aftersales WHERE aftersale_type=2 AND aftersale_status=12"
                f" AND refund_status=3 AND sku_order_id IN ({','.join('?' * len(part))})", part):
            out[sku] = out.get(sku, 0) + int(orjson.loads(info).get("aftersale_num") or 0)
    return out


def to_send(s: dict[str, Any], refunded: dict[str, int]) -> int:
    """Units of a line the merchant still sends: a line refunded (12) with no agreed partial
    case known sends nothing; otherwise item_num less the units refunded before shipment."""
    units = refunded.get(str(s["order_id"]), 0)
    if (s.get("after_sale_info") or {}).get("after_sale_status") in DONE_AFTER_SALE and not units:
        return 0
    return max(0, s["item_num"] - units)
