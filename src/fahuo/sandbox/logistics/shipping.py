"""Shipping (§8): ``order.logisticsAdd``, ``logisticsAddSinglePack``, ``logisticsAddMultiPack``,
``logisticsEdit``; settling line and order statuses after shipping (or a refund before it); the
admin pickup and shipment views."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import orjson

from .. import generator as gen
from ..gateway import Ctx, api_method
from ..methods import COMPANY_BY_CODE
from ..orders import load_order, push_to_shop, save_order, touch
from ..params import bad, id_param, list_param
from .fields import biz, company_param, tracking_param
from .ship_checks import (check_address_id, check_quantities, check_refunds, check_serials, check_shippable,
                          check_waybill, refunded_units, reject_flag, replay, request_id_param, shipped_lines,
                          shipped_qty, to_send)

if TYPE_CHECKING:
    from ..core import Sandbox


def settle_status(conn: Any, order: dict[str, Any], now: int) -> bool:
    """Recompute line and order statuses from what has shipped and what was refunded before
    shipment: 3 once every line has sent what it still owes, else 101. Returns complete."""
    done = shipped_qty(order)
    complete = True
    refunded = refunded_units(conn, [s["order_id"] for s in order["sku_order_list"]])
    for s in order["sku_order_list"]:
        need = to_send(s, refunded)
        got = done.get(s["order_id"], 0)
        if got and not s.get("ship_time"):
            s["ship_time"] = now
        if got >= need:
            s["order_status"], s["main_status"] = 3, 3
            s["order_status_desc"] = s["main_status_desc"] = gen.ORDER_STATUS_DESC[3]
        else:
            complete = False
    status = 3 if complete else 101
    order["order_status"], order["main_status"] = status, status
    order["order_status_desc"] = order["main_status_desc"] = gen.ORDER_STATUS_DESC[status]
    return complete


def _receiver_msg(order: dict[str, Any]) -> dict[str, Any]:
    """``receiver_msg`` of the shipping pushes (102, 104, 108): the masked receiver."""
    pa = order["post_addr"]
    return {"addr": json.dumps({"province": pa["province"], "city": pa["city"], "town": pa["town"],
                                "street": pa["street"], "detail": pa["detail"],
                                "encrypt_detail": pa["encrypt_detail"]}, ensure_ascii=False, separators=(",", ":")),
            "name": order["mask_post_receiver"], "tel": order["mask_post_tel"]}


def _apply_ship(sb: Sandbox, order: dict[str, Any], packages: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    """Append packages, recompute statuses, bump update_time; return the push messages (102 or 108)."""
    order.setdefault("logistics_info", []).extend(packages)
    complete = settle_status(sb.store.conn, order, now)
    if not order.get("ship_time"):
        order["ship_time"] = now
    ut = touch(order, now)
    P = sb.push
    rmsg = _receiver_msg(order)
    msgs = []
    if complete:
        last = packages[-1]
        msgs.append(P.msg(102, order, update_time=ut, receiver_msg=rmsg, logistics_msg={
            "express_company_id": COMPANY_BY_CODE[last["company"]]["id"], "logistics_code": last["tracking_no"]}))
    else:
        by_id = {s["order_id"]: s for s in order["sku_order_list"]}
        for pk in packages:
            msgs.append(P.msg(108, order, update_time=ut, receiver_msg=rmsg, logistics_msg={
                "express_company_id": COMPANY_BY_CODE[pk["company"]]["id"], "logistics_code": pk["tracking_no"],
                "pack_id": pk["delivery_id"],
                "shipped_order_info": [{"shipped_order_id": int(p["sku_order_id"]), "product_id": p["product_id"],
                                        "sku_id": p["sku_id"], "sku_num": by_id[p["sku_order_id"]]["item_num"],
                                        "shipped_num": p["product_count"]} for p in pk["product_info"]]}))
    return msgs


def _record(conn: Any, shop_id: int, method: str, pack_id: str, order_ids: list[str], tn: str, company: str,
            request_id: str | None, items: list[dict[str, Any]], now: int, previous: str | None = None) -> None:
    conn.execute("INSERT INTO shipments (shop_id, method, pack_id, order_ids, tracking_no, company_code, request_id,"
                 " items, ship_time, previous_tracking_no) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (shop_id, method, pack_id, orjson.dumps(order_ids).decode(), tn, company,
                  request_id, orjson.dumps(items).decode(), now, previous))


def _remember(conn: Any, shop_id: int, method: str, request_id: str, result: dict[str, Any]) -> None:
    """The first successful result of a ``request_id``, replayed by :func:`.ship_checks.replay`."""
    conn.execute("INSERT INTO ship_requests (shop_id, method, request_id, result) VALUES (?,?,?,?)",
                 (shop_id, method, request_id, json.dumps(result)))


def _new_pack_id(conn: Any, k: int = 0) -> str:
    n = conn.execute("SELECT COALESCE(MAX(id), 0) FROM shipments").fetchone()[0] + 1 + k
    return str(1_000_000_000_000 + n * 37 + 11)


def _package(order: dict[str, Any], pack_id: str, tn: str, company: dict[str, Any], now: int,
             lines: list[tuple[dict[str, Any], int]]) -> dict[str, Any]:
    return {"tracking_no": tn, "company": company["code"], "company_name": company["name"], "ship_time": now,
            "delivery_id": pack_id,
            "product_info": [{"sku_order_id": s["order_id"], "sku_id": s["sku_id"], "product_id": s["product_id"],
                              "product_name": s["product_name"], "product_count": n, "outer_sku_id": s.get("code", ""),
                              "sku_specs": [{"name": x["name"], "value": x["value"]} for x in s.get("spec", [])],
                              "price": s["goods_price"]} for s, n in lines]}


@api_method("order.logisticsAdd")
def logistics_add(ctx: Ctx, params: dict[str, Any]) -> Any:
    oid = id_param(params.get("order_id"))
    company = company_param(params)
    tn = tracking_param(params)
    reject = reject_flag(params)
    check_address_id(params, ctx.shop)
    check_serials(params.get("serial_number_list"))
    sb, now = ctx.sb, int(ctx.now)
    with sb.store.transaction() as conn:
        order = load_order(conn, ctx.shop, oid)
        if order is None:
            raise biz(1, f"订单不存在: {oid}")
        check_shippable(order, allow_partial=False)
        refusals = check_refunds(sb, conn, order["sku_order_list"], reject, now)
        refunded = refunded_units(conn, [s["order_id"] for s in order["sku_order_list"]])
        lines = [(s, to_send(s, refunded)) for s in order["sku_order_list"] if to_send(s, refunded)]
        if not lines:  # refunded in full: nothing to ship (as the pack calls refuse a refunded line)
            raise biz(7, "子订单已退款，无需发货: " + ",".join(s["order_id"] for s in order["sku_order_list"]))
        check_waybill(conn, ctx.shop, tn, company["code"])
        pack_id = _new_pack_id(conn)
        msgs = refusals + _apply_ship(sb, order, [_package(order, pack_id, tn, company, now, lines)], now)
        save_order(conn, order)
        _record(conn, ctx.shop, "order.logisticsAdd", pack_id, [str(oid)], tn, company["code"], None,
                [{"shipped_order_id": s["order_id"], "shipped_num": n} for s, n in lines], now)
    push_to_shop(sb, ctx.shop, msgs)
    return {}


@api_method("order.logisticsAddSinglePack")
def logistics_add_single_pack(ctx: Ctx, params: dict[str, Any]) -> Any:
    ids = list_param(params, "order_id_list", 50)
    oids = [str(id_param(x, "order_id_list")) for x in ids]
    if len(set(oids)) != len(oids):
        raise bad("order_id_list", "order_id_list存在重复订单")
    company = company_param(params)
    tn = tracking_param(params)
    rid = request_id_param(params)
    reject = reject_flag(params)
    check_address_id(params, ctx.shop)
    method = "order.logisticsAddSinglePack"
    prev = replay(ctx, method, rid)
    if prev is not None:
        return prev
    info = params.get("shipped_order_info")
    sb, now = ctx.sb, int(ctx.now)
    with sb.store.transaction() as conn:
        order_map = {}
        for oid in oids:
            o = load_order(conn, ctx.shop, int(oid))
            if o is None:
                raise biz(1, f"订单不存在: {oid}")
            check_shippable(o, allow_partial=True)
            order_map[oid] = o
        lines = shipped_lines(order_map, info, "shipped_order_info")
        for oid in oids:
            if not any(pid == oid for pid, _, _ in lines):
                raise biz(7, f"订单{oid}没有商品在本包裹中")
        msgs = check_refunds(sb, conn, [s for _, s, _ in lines], reject, now)
        check_quantities(conn, order_map, lines)
        check_waybill(conn, ctx.shop, tn, company["code"])
        pack_id = _new_pack_id(conn)
        for oid, o in order_map.items():
            mine = [(s, n) for pid, s, n in lines if pid == oid]
            msgs += _apply_ship(sb, o, [_package(o, pack_id, tn, company, now, mine)], now)
            save_order(conn, o)
        result = {"pack_id": pack_id}
        _record(conn, ctx.shop, method, pack_id, oids, tn, company["code"], rid,
                [{"order_id": pid, "shipped_order_id": s["order_id"], "shipped_num": n} for pid, s, n in lines], now)
        if rid is not None:
            _remember(conn, ctx.shop, method, rid, result)
    push_to_shop(sb, ctx.shop, msgs)
    return result


@api_method("order.logisticsAddMultiPack")
def logistics_add_multi_pack(ctx: Ctx, params: dict[str, Any]) -> Any:
    oid = str(id_param(params.get("order_id")))
    packs = list_param(params, "pack_list", 50)
    rid = request_id_param(params)
    reject = reject_flag(params)
    check_address_id(params, ctx.shop)
    check_serials(params.get("serial_number_list"))
    parsed = []
    for i, pk in enumerate(packs):
        if not isinstance(pk, dict):
            raise bad("pack_list", f"pack_list[{i}]应为对象")
        parsed.append((pk, company_param(pk), tracking_param(pk)))
    method = "order.logisticsAddMultiPack"
    prev = replay(ctx, method, rid)
    if prev is not None:
        return prev
    sb, now = ctx.sb, int(ctx.now)
    with sb.store.transaction() as conn:
        o = load_order(conn, ctx.shop, int(oid))
        if o is None:
            raise biz(1, f"订单不存在: {oid}")
        check_shippable(o, allow_partial=True)
        order_map = {oid: o}
        all_lines, per_pack = [], []
        for i, (pk, _co, _no) in enumerate(parsed):
            lines = shipped_lines(order_map, pk.get("shipped_order_info"), f"pack_list[{i}].shipped_order_info")
            per_pack.append(lines)
            all_lines += lines
        refusals = check_refunds(sb, conn, [s for _, s, _ in all_lines], reject, now)  # one open refund fails all
        check_quantities(conn, order_map, all_lines)
        out, packages, records = [], [], []
        for i, ((_pk, company, tn), lines) in enumerate(zip(parsed, per_pack, strict=True)):
            check_waybill(conn, ctx.shop, tn, company["code"])
            pack_id = _new_pack_id(conn, i)
            packages.append(_package(o, pack_id, tn, company, now, [(s, n) for _, s, n in lines]))
            info = [{"shipped_order_id": s["order_id"], "shipped_num": n} for _, s, n in lines]
            out.append({"pack_id": pack_id, "logistics_code": tn,
                        "shipped_order_info": [dict(x, shipped_item_ids=[]) for x in info]})
            records.append((pack_id, tn, company["code"], info))
        msgs = refusals + _apply_ship(sb, o, packages, now)
        save_order(conn, o)
        for pack_id, tn, code, info in records:
            _record(conn, ctx.shop, method, pack_id, [oid], tn, code, rid, info, now)
        result = {"pack_list": out}
        if rid is not None:
            _remember(conn, ctx.shop, method, rid, result)
    push_to_shop(sb, ctx.shop, msgs)
    return result


@api_method("order.logisticsEdit")
def logistics_edit(ctx: Ctx, params: dict[str, Any]) -> Any:
    oid = id_param(params.get("order_id"))
    company = company_param(params)
    tn = tracking_param(params)
    sb, now = ctx.sb, int(ctx.now)
    with sb.store.transaction() as conn:
        o = load_order(conn, ctx.shop, oid)
        if o is None:
            raise biz(1, f"订单不存在: {oid}")
        packs = o.get("logistics_info") or []
        if o["order_status"] not in (3, 101) or not packs:
            raise biz(4, f"订单未发货，无法修改物流信息: {oid}")
        if len(packs) > 1:
            raise biz(7, f"订单有{len(packs)}个包裹，请使用order.logisticsEditByPack: {oid}")
        check_waybill(conn, ctx.shop, tn, company["code"])
        pk = packs[0]
        previous = pk["tracking_no"]
        pk.update(tracking_no=tn, company=company["code"], company_name=company["name"])
        ut = touch(o, now)
        save_order(conn, o)
        _record(conn, ctx.shop, "order.logisticsEdit", pk["delivery_id"], [str(oid)], tn, company["code"], None,
                [], now, previous)
    push_to_shop(sb, ctx.shop, [sb.push.msg(104, o, update_time=ut, receiver_msg=_receiver_msg(o), logistics_msg={
        "express_company_id": company["id"], "logistics_code": tn})])
    return {}


def admin_pickup(sb: Sandbox, tracking_no: str) -> dict[str, Any]:
    with sb.store.transaction() as conn:
        n1 = conn.execute("UPDATE waybills SET picked_up=1 WHERE track_no=?", (tracking_no,)).rowcount
        n2 = conn.execute("UPDATE shipments SET picked_up=1 WHERE tracking_no=?", (tracking_no,)).rowcount
        if not (n1 or n2):
            raise ValueError(f"unknown tracking number {tracking_no}")
    return {"tracking_no": tracking_no, "waybill": bool(n1), "shipments": n2}


def admin_shipments(sb: Sandbox, shop_id: int) -> list[dict[str, Any]]:
    rows = sb.store.all("SELECT id, method, pack_id, order_ids, tracking_no, company_code, request_id, items,"
                        " ship_time, previous_tracking_no, picked_up FROM shipments WHERE shop_id=? ORDER BY id",
                        (shop_id,))
    return [{"id": r[0], "method": r[1], "pack_id": r[2], "order_ids": json.loads(r[3]), "tracking_no": r[4],
             "company_code": r[5], "request_id": r[6], "shipped_order_info": json.loads(r[7]), "ship_time": r[8],
             "previous_tracking_no": r[9], "picked_up": bool(r[10])} for r in rows]
