"""E-waybill accounts and numbers (§9): netsites and their balance, ``logistics.listShopNetsite``,
``logistics.newCreateOrder``, ``logistics.cancelOrder`` and the admin views of netsites and waybills."""
from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from .. import generator as gen
from ..gateway import Ctx, api_method
from ..methods import COMPANY_BY_CODE, shop_addresses
from ..params import bad, list_param, missing, obj_param, p_int, str_param
from .fields import address_param, biz, contact_param, courier_param
from .reach import out_of_range

if TYPE_CHECKING:
    from ..core import Sandbox


# code → (name, company_type, [netsite balances], number prefix, digits after the prefix)
# Formats follow tracking-and-couriers.md §5 (first/"typical" column).
COURIERS: dict[str, tuple[str, int, list[int], str, int]] = {
    "zhongtong": ("中通快递", 2, [1_000_000, 3000], "78", 12),   # 14 digits, ^7[3-68]\d{12}$
    "yuantong": ("圆通速递", 2, [1_000_000], "YT", 13),          # ^YT\d{13}$
    "yunda": ("韵达快递", 2, [1_000_000, 3000], "3", 12),        # 13 digits, ^3\d{12}$
    "shentong": ("申通快递", 2, [1_000_000], "77", 13),          # 15 digits, ^77\d{13}$
    "jtexpress": ("极兔速递", 2, [1_000_000, 3000], "JT", 13),   # ^JT\d{13}$
    "shunfeng": ("顺丰速运", 1, [1_000_000], "SF", 13),          # ^SF\d{13}$
}
TRACK_REGEX = {code: re.compile("^" + re.escape(c[3]) + r"\d{" + str(c[4]) + "}$") for code, c in COURIERS.items()}
_MULT = 7919393  # odd, not a multiple of 5 → (seq * _MULT + off) mod 10^k is a bijection


def track_no_for(code: str, seq: int) -> str:
    _, _, _, prefix, k = COURIERS[code]
    off = int(hashlib.md5(code.encode()).hexdigest()[:12], 16)
    return prefix + f"{(seq * _MULT + off) % (10 ** k):0{k}d}"


def ensure_netsites(sb: Sandbox, conn: Any, shop_id: int) -> None:
    if shop_id in sb.netsite_shops:
        return
    if conn.execute("SELECT 1 FROM netsites WHERE shop_id=? LIMIT 1", (shop_id,)).fetchone() is None:
        addrs = shop_addresses(shop_id)
        rows = []
        for k, (code, (_name, ctype, balances, _, _)) in enumerate(COURIERS.items()):
            for i, bal in enumerate(balances):
                a = addrs[i]
                sender = [{"province_name": a["receiver_provinc"], "city_name": a["receiver_city"],
                           "district_name": a["receiver_district"], "street_name": a["receiver_street"],
                           "detail_address": a["receiver_detail"]}]
                ncode = f"{code[:2].upper()}{(shop_id * 31 + k * 7 + i) % 1000000:06d}"
                nname = f"{a['receiver_city']}{a['receiver_district']}{'一二'[i]}部"
                rows.append((shop_id, code, ncode, nname, ctype, bal, json.dumps(sender, ensure_ascii=False), i))
        conn.executemany("INSERT OR IGNORE INTO netsites (shop_id, logistics_code, netsite_code, netsite_name,"
                         " company_type, amount, sender_address, seq) VALUES (?,?,?,?,?,?,?,?)", rows)
    sb.netsite_shops.add(shop_id)


def _netsite_json(r: tuple) -> dict[str, Any]:
    code, ncode, nname, ctype, amount, alloc, canc, recyc, sender = r
    return {"netsite_code": ncode, "netsite_name": nname, "amount": str(amount), "allocated_quantity": alloc,
            "cancelled_quantity": canc, "recycled_quantity": recyc, "company": code, "company_type": ctype,
            "sender_address": json.loads(sender)}


_NETSITE_COLS = ("logistics_code, netsite_code, netsite_name, company_type, amount, allocated_quantity,"
                 " cancelled_quantity, recycled_quantity, sender_address")


@api_method("logistics.listShopNetsite")
def list_shop_netsite(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = params.get("logistics_code")
    if code is None:
        raise missing("logistics_code", "缺少logistics_code（查询全部请传空字符串）")
    code = str(code).strip()
    if code and code not in COMPANY_BY_CODE:
        raise bad("logistics_code", f"logistics_code不存在: {code}")
    with ctx.sb.store.transaction() as conn:
        ensure_netsites(ctx.sb, conn, ctx.shop)
    sql = f"SELECT {_NETSITE_COLS} FROM netsites WHERE shop_id=?"
    args: list[Any] = [ctx.shop]
    if code:
        sql += " AND logistics_code=?"
        args.append(code)
    rows = ctx.sb.store.all(sql + " ORDER BY rowid", args)
    ctype = COURIERS[code][1] if code in COURIERS else 0
    return {"logistics_code": code, "company_type": ctype, "netsites": [_netsite_json(r) for r in rows]}


def _opened(conn: Any, shop_id: int, code: str) -> list[tuple]:
    return conn.execute("SELECT netsite_code, amount, sender_address FROM netsites WHERE shop_id=? AND"
                        " logistics_code=? ORDER BY seq", (shop_id, code)).fetchall()


def _ebill(code: str, order_id: str, pack_id: str, track_no: str, rcv: dict[str, str]) -> dict[str, Any]:
    h = hashlib.md5(f"{rcv['province_name']}|{rcv['city_name']}|{rcv['district_name']}".encode()).digest()
    prov = rcv["province_name"].replace("省", "").replace("市", "")[:3]
    city = rcv["city_name"].replace("市", "")
    return {
        "order_id": order_id, "pack_id": pack_id, "track_no": track_no, "company": code,
        "sort_code": f"{h[0] % 900 + 100}-{chr(65 + h[1] % 26)}{h[2] % 90 + 10} {h[3] % 90 + 10:02d}",
        "package_center_code": f"{h[4] % 9000 + 1000}{h[5] % 90 + 10}",
        "package_center_name": f"{city}转运中心",
        "short_address_code": f"{h[6] % 900 + 100}",
        "short_address_name": f"{prov}{city}{rcv['district_name'][:2]}",
        "extra_resp": "", "sub_waybill_codes": "", "shipping_code": "", "hint_msg": "", "order_channel": "",
    }


def _item_err(order_id: str, pack_id: str, code: str, msg: str) -> dict[str, Any]:
    return {"order_id": order_id, "pack_id": pack_id, "err_code": code, "err_msg": msg, "order_channel": ""}


@api_method("logistics.newCreateOrder")
def new_create_order(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = courier_param(params)
    sender = obj_param(params, "sender_info")
    s_addr = address_param(obj_param(sender, "address", "sender_info.address"), "sender_info.address")
    contact_param(obj_param(sender, "contact", "sender_info.contact"), "sender_info.contact")
    infos = list_param(params, "order_infos", 100)
    parsed = []
    for i, it in enumerate(infos):
        lab = f"order_infos[{i}]"
        if not isinstance(it, dict):
            raise bad("order_infos", f"{lab}应为对象")
        order_id = str_param(it, "order_id", f"{lab}.order_id")
        pack_id = it.get("pack_id")
        pack_id = "" if pack_id in (None, "") else str(pack_id)
        if pack_id and not re.fullmatch(r"[A-Za-z0-9_]{1,64}", pack_id):
            raise bad("pack_id", f"{lab}.pack_id只能包含字母、数字和下划线: {pack_id}")
        rinfo = obj_param(it, "receiver_info", f"{lab}.receiver_info")
        rcv = address_param(obj_param(rinfo, "address", f"{lab}.receiver_info.address"), f"{lab}.receiver_info.address")
        contact_param(obj_param(rinfo, "contact", f"{lab}.receiver_info.contact"), f"{lab}.receiver_info.contact")
        items = list_param(it, "items", label=f"{lab}.items")
        for j, item in enumerate(items):
            if not isinstance(item, dict):
                raise bad("items", f"{lab}.items[{j}]应为对象")
            str_param(item, "item_name", f"{lab}.items[{j}].item_name")
            if p_int(item, "item_count", None, lo=1, msg="item_count必须大于0") is None:
                raise missing(f"{lab}.items[{j}].item_count")
        parsed.append((order_id, pack_id, rcv))
    sb = ctx.sb
    now = int(ctx.now)
    ebills, errs = [], []
    with sb.store.transaction() as conn:
        ensure_netsites(sb, conn, ctx.shop)
        nets = _opened(conn, ctx.shop, code)
        if not nets:
            raise biz(8, f"店铺未开通该快递公司的电子面单服务: {code}")
        netsite = None
        for ncode, _, sender_json in nets:
            for a in json.loads(sender_json):
                if all(a[f] == s_addr[f] for f in ("province_name", "city_name", "district_name", "detail_address")) \
                        and (not s_addr["street_name"] or s_addr["street_name"] == a["street_name"]):
                    netsite = ncode
                    break
            if netsite:
                break
        if netsite is None:
            addr = "".join(s_addr[f] for f in ("province_name", "city_name", "district_name", "street_name",
                                                "detail_address"))
            raise biz(8, f"寄件人地址不是{code}网点的发货地址（请使用logistics.listShopNetsite返回的sender_address）: {addr}")
        amount = conn.execute("SELECT amount FROM netsites WHERE shop_id=? AND logistics_code=? AND netsite_code=?",
                              (ctx.shop, code, netsite)).fetchone()[0]
        seq_row = conn.execute("SELECT seq FROM waybill_seq WHERE logistics_code=?", (code,)).fetchone()
        seq = seq_row[0] if seq_row else 0
        seq0, spent = seq, 0
        new_rows = []
        for order_id, pack_id, rcv in parsed:
            oid = order_id
            order = None
            if oid.isdigit() and oid.isascii() and len(oid) <= 19:
                row = conn.execute("SELECT order_status FROM orders WHERE order_id=? AND shop_id=?",
                                   (int(oid), ctx.shop)).fetchone()
                order = row
            if order is None:
                errs.append(_item_err(order_id, pack_id, "10702", f"订单不存在或不属于当前店铺: {order_id}"))
                continue
            st = order[0]
            if st not in (2, 101, 3):
                errs.append(_item_err(order_id, pack_id, "10703",
                                      f"订单状态不允许取号: {order_id}（{gen.ORDER_STATUS_DESC.get(st, st)}）"))
                continue
            old = conn.execute("SELECT info FROM waybills WHERE shop_id=? AND order_id=? AND pack_id=? AND"
                               " logistics_code=? AND status!='cancelled'",
                               (ctx.shop, order_id, pack_id, code)).fetchone()
            if old:
                ebills.append(json.loads(old[0]))
                continue
            if out_of_range(code, rcv["province_name"], rcv["city_name"], rcv["district_name"]):
                errs.append(_item_err(order_id, pack_id, "10704", "收件地址超出快递公司派送范围: " + COURIERS.get(
                    code, ("",))[0] + " 不派送 " + rcv["province_name"] + rcv["city_name"] + rcv["district_name"]))
                continue
            if amount - spent <= 0:
                errs.append(_item_err(order_id, pack_id, "10701", "电子面单库存不足"))
                continue
            seq += 1
            spent += 1
            tn = track_no_for(code, seq)
            info = _ebill(code, order_id, pack_id, tn, rcv)
            ebills.append(info)
            new_rows.append((tn, ctx.shop, code, netsite, order_id, pack_id, "live", now,
                             json.dumps(info, ensure_ascii=False)))
        if new_rows:
            conn.executemany("INSERT INTO waybills (track_no, shop_id, logistics_code, netsite_code, order_id,"
                             " pack_id, status, created_at, info) VALUES (?,?,?,?,?,?,?,?,?)", new_rows)
            conn.execute("UPDATE netsites SET amount=amount-?, allocated_quantity=allocated_quantity+? WHERE"
                         " shop_id=? AND logistics_code=? AND netsite_code=?",
                         (spent, spent, ctx.shop, code, netsite))
        if seq != seq0:
            conn.execute("INSERT INTO waybill_seq (logistics_code, seq) VALUES (?,?) ON CONFLICT(logistics_code)"
                         " DO UPDATE SET seq=excluded.seq", (code, seq))
    return {"ebill_infos": ebills, "err_infos": errs}


@api_method("logistics.cancelOrder")
def cancel_order(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = courier_param(params)
    tn = str_param(params, "track_no")
    with ctx.sb.store.transaction() as conn:
        row = conn.execute("SELECT status, picked_up, netsite_code, logistics_code FROM waybills WHERE track_no=?"
                           " AND shop_id=?", (tn, ctx.shop)).fetchone()
        if row is None or row[3] != code:
            raise biz(8, f"运单号不存在: {tn}")
        status, picked, ncode, _ = row
        if picked:
            raise biz(9, f"运单已揽收，无法取消: {tn}")
        if status == "cancelled":
            raise biz(9, f"运单号已取消，请勿重复取消: {tn}")
        conn.execute("UPDATE waybills SET status='cancelled' WHERE track_no=?", (tn,))
        conn.execute("UPDATE netsites SET amount=amount+1, cancelled_quantity=cancelled_quantity+1,"
                     " recycled_quantity=recycled_quantity+1 WHERE shop_id=? AND logistics_code=? AND netsite_code=?",
                     (ctx.shop, code, ncode))
    return {"cancel_result": {"success": True}}


def admin_set_balance(sb: Sandbox, shop_id: int, code: str, netsite_code: str | None, amount: int) -> list[dict]:
    if amount < 0:
        raise ValueError("amount must be >= 0")
    with sb.store.transaction() as conn:
        ensure_netsites(sb, conn, shop_id)
        sql, args = "UPDATE netsites SET amount=? WHERE shop_id=? AND logistics_code=?", [amount, shop_id, code]
        if netsite_code:
            sql += " AND netsite_code=?"
            args.append(netsite_code)
        if conn.execute(sql, args).rowcount == 0:
            raise ValueError(f"no netsite for shop {shop_id} / {code} / {netsite_code}")
    rows = sb.store.all(f"SELECT {_NETSITE_COLS} FROM netsites WHERE shop_id=? AND logistics_code=? ORDER BY seq",
                        (shop_id, code))
    return [_netsite_json(r) for r in rows]


def admin_waybills(sb: Sandbox, shop_id: int) -> list[dict[str, Any]]:
    rows = sb.store.all("SELECT track_no, logistics_code, netsite_code, order_id, pack_id, status, picked_up,"
                        " created_at FROM waybills WHERE shop_id=? ORDER BY rowid", (shop_id,))
    return [{"track_no": r[0], "logistics_code": r[1], "netsite_code": r[2], "order_id": r[3], "pack_id": r[4],
             "status": r[5], "picked_up": bool(r[6]), "created_at": r[7]} for r in rows]
