"""E-waybill (§9) and shipping (§8) methods, plus the admin helpers that drive them.

Every handler that writes runs in ONE SQLite transaction (``_tx``) and only touches indexed rows
(orders by ``order_id``, waybills by ``track_no`` / ``(shop_id, order_id, pack_id, logistics_code)``,
netsites by primary key), so the 100 000-order benchmark stays linear.

Error shapes (all HTTP 200 envelopes; the numbering is the sandbox's own, UNCONFIRMED):

* parameter missing → 40002 ``isv.parameter-missing:<name>``; bad → 40003 ``isv.parameter-invalid:<name>``;
* business refusals → 50002 with ``sub_code`` = ``isv.business-failed:<n>``:

  ====  ==========================================================================================
  n     meaning (``sub_msg`` starts with)
  ====  ==========================================================================================
  1     ``订单不存在: <order_id>``
  2     ``订单已发货，请勿重复发货，已发货运单: <company_code>:<tracking_no>[,<code>:<no>…]``
  3     ``该订单当前为“部分发货”状态，无法调用此接口`` (doc §8.1 wording)
  4     order not shippable: ``订单已取消，无法发货`` / ``订单未支付，无法发货`` / ``订单未发货…``
  5     ``订单存在售后申请，无法发货: <sku_order_id,…>`` (open after-sale, no ``is_reject_refund``;
        with it the after-sale is refused, see :func:`.aftersales.refuse_on_ship`)
  6     ``风控审核中的订单暂不能发货: <order_id>`` (status 105)
  7     item / quantity / tracking-number checks (sub-order not in order, over-ship, cancelled number…)
  8     e-waybill account checks (courier not opened, sender address not a netsite address, unknown number)
  9     ``运单已揽收，无法取消`` / ``运单号已取消，请勿重复取消``
  10    ``trackNoRouteDetail``: ``运单号不存在或不属于当前店铺`` / ``运单号与物流公司不匹配`` /
        ``暂不支持该物流公司的轨迹查询``
  ====  ==========================================================================================
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
from typing import Any, Iterator

import orjson

from . import generator as gen
from .core import ApiError, Sandbox
from .gateway import Ctx, api_method
from .params import p_bool, p_int
from .methods import LOGISTICS_COMPANIES, shop_addresses

COMPANY_BY_CODE = {c["code"]: c for c in LOGISTICS_COMPANIES}

# ---------------------------------------------------------------------------- couriers / numbers
# code → (name, company_type, [netsite balances], number prefix, digits after the prefix, regex)
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

# Remote areas (out of delivery range) per courier: (province, city | None, district | None).
_SANSHA = ("海南省", "三沙市", None)
OUT_OF_RANGE: dict[str, list[tuple[str, str | None, str | None]]] = {
    "zhongtong": [("西藏自治区", "阿里地区", None), ("西藏自治区", "那曲市", None), _SANSHA],
    "yuantong": [("西藏自治区", "阿里地区", None), ("新疆维吾尔自治区", "和田地区", None), _SANSHA],
    "yunda": [("西藏自治区", None, None), ("青海省", "玉树藏族自治州", None), _SANSHA],
    "shentong": [("西藏自治区", None, None), ("新疆维吾尔自治区", "和田地区", None),
                 ("新疆维吾尔自治区", "阿勒泰地区", None), _SANSHA],
    "jtexpress": [("西藏自治区", "阿里地区", None), _SANSHA],
    "shunfeng": [_SANSHA],
}
OUT_RANGE_REASON = 4  # 网点经营问题

OPEN_AFTER_SALE = {6, 7, 11}  # 售后申请, 售后退货中, 售后已发货 (buyer returned goods)
DONE_AFTER_SALE = {12}  # 售后成功 (refunded): nothing left to ship on that line


def track_no_for(code: str, seq: int) -> str:
    _, _, _, prefix, k = COURIERS[code]
    off = int(hashlib.md5(code.encode()).hexdigest()[:12], 16)
    return prefix + f"{(seq * _MULT + off) % (10 ** k):0{k}d}"


def _name_match(a: str, b: str) -> bool:
    a, b = (a or "").strip(), (b or "").strip()
    return bool(a and b) and (a == b or a.startswith(b) or b.startswith(a))


def out_of_range(code: str, province: str, city: str, district: str) -> bool:
    for p, c, d in OUT_OF_RANGE.get(code, ()):
        if _name_match(province, p) and (c is None or _name_match(city, c)) and (d is None or _name_match(district, d)):
            return True
    return False


# ---------------------------------------------------------------------------- helpers

def bad(name: str, msg: str | None = None) -> ApiError:
    return ApiError(40003, f"isv.parameter-invalid:{name}", msg or f"{name}参数非法")


def missing(name: str, msg: str | None = None) -> ApiError:
    return ApiError(40002, f"isv.parameter-missing:{name}", msg or f"缺少{name}")


def biz(n: int, msg: str) -> ApiError:
    return ApiError(50002, f"isv.business-failed:{n}", msg)


def _req_str(d: dict[str, Any], name: str, label: str | None = None) -> str:
    v = d.get(name)
    if v is None or (isinstance(v, str) and not v.strip()):
        raise missing(label or name)
    if not isinstance(v, (str, int)) or isinstance(v, bool):
        raise bad(label or name, f"{label or name}参数类型错误")
    return str(v).strip()


def _oid(v: Any, name: str = "order_id") -> int:
    if v is None or v == "":
        raise missing(name)
    s = str(v).strip()
    if isinstance(v, bool) or not (s.isdigit() and s.isascii() and len(s) <= 19):
        raise bad(name, f"{name}非法: {s}")
    return int(s)


def _obj(d: dict[str, Any], name: str, label: str | None = None) -> dict[str, Any]:
    v = d.get(name)
    if v is None:
        raise missing(label or name)
    if not isinstance(v, dict):
        raise bad(label or name, f"{label or name}应为对象")
    return v


def _list(d: dict[str, Any], name: str, hi: int | None = None, label: str | None = None) -> list[Any]:
    v = d.get(name)
    if v is None or v == []:
        raise missing(label or name)
    if not isinstance(v, list):
        raise bad(label or name, f"{label or name}应为数组")
    if hi is not None and len(v) > hi:
        raise bad(label or name, f"{label or name}最多{hi}条，实际{len(v)}条")
    return v


def _company(params: dict[str, Any]) -> dict[str, Any]:
    code = _req_str(params, "company_code")
    c = COMPANY_BY_CODE.get(code)
    if c is None:
        raise bad("company_code", f"company_code不存在: {code}（请使用order.logisticsCompanyList返回的code）")
    return c


def _tracking(params: dict[str, Any], name: str = "logistics_code") -> str:
    no = _req_str(params, name)
    if not re.fullmatch(r"[A-Za-z0-9-]{6,32}", no):
        raise bad(name, f"运单号格式错误: {no}")
    return no


def _address(addr: dict[str, Any], label: str, street_required: bool = False) -> dict[str, str]:
    out = {}
    for f in ("province_name", "city_name", "district_name", "detail_address"):
        out[f] = _req_str(addr, f, f"{label}.{f}")
    st = addr.get("street_name")
    if street_required and not st:
        raise missing(f"{label}.street_name")
    out["street_name"] = str(st).strip() if st not in (None, "") else ""
    return out


def _contact(c: dict[str, Any], label: str) -> dict[str, str]:
    name = _req_str(c, "name", f"{label}.name")
    mobile, phone = c.get("mobile"), c.get("phone")
    if not mobile and not phone:
        raise missing(f"{label}.mobile", f"{label}需要mobile或phone")
    return {"name": name, "mobile": str(mobile or ""), "phone": str(phone or "")}


@contextlib.contextmanager
def _tx(sb: Sandbox) -> Iterator[Any]:
    with sb.store.transaction() as conn:
        yield conn


def _load_order(conn: Any, shop_id: int | None, oid: int) -> dict[str, Any] | None:
    if shop_id is None:
        row = conn.execute("SELECT payload FROM orders WHERE order_id=?", (oid,)).fetchone()
    else:
        row = conn.execute("SELECT payload FROM orders WHERE order_id=? AND shop_id=?", (oid, shop_id)).fetchone()
    return orjson.loads(row[0]) if row else None


def _save_order(conn: Any, order: dict[str, Any]) -> None:
    conn.execute("UPDATE orders SET update_time=?, order_status=?, payload=? WHERE order_id=?",
                 (order["update_time"], order["order_status"], gen.dumps(order), int(order["order_id"])))


def _touch(order: dict[str, Any], now: int) -> int:
    ut = max(now, int(order["update_time"]) + 1)
    order["update_time"] = ut
    for s in order["sku_order_list"]:
        s["update_time"] = ut
    return ut


def _push(sb: Sandbox, shop_id: int, msgs: list[dict[str, Any]]) -> None:
    if not msgs:
        return
    for app_key in sb.push.apps_for_shop(shop_id):
        sb.push.enqueue(app_key, msgs)


# ---------------------------------------------------------------------------- netsites

def _ensure_netsites(sb: Sandbox, conn: Any, shop_id: int) -> None:
    seeded = sb.__dict__.setdefault("_netsite_shops", set())
    if shop_id in seeded:
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
    seeded.add(shop_id)


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
    with _tx(ctx.sb) as conn:
        _ensure_netsites(ctx.sb, conn, ctx.shop)
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


def _courier_param(params: dict[str, Any]) -> str:
    code = _req_str(params, "logistics_code")
    if code not in COMPANY_BY_CODE:
        raise bad("logistics_code", f"logistics_code不存在: {code}")
    return code


# ---------------------------------------------------------------------------- newCreateOrder

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
    code = _courier_param(params)
    sender = _obj(params, "sender_info")
    s_addr = _address(_obj(sender, "address", "sender_info.address"), "sender_info.address")
    _contact(_obj(sender, "contact", "sender_info.contact"), "sender_info.contact")
    infos = _list(params, "order_infos", 100)
    parsed = []
    for i, it in enumerate(infos):
        lab = f"order_infos[{i}]"
        if not isinstance(it, dict):
            raise bad("order_infos", f"{lab}应为对象")
        order_id = _req_str(it, "order_id", f"{lab}.order_id")
        pack_id = it.get("pack_id")
        pack_id = "" if pack_id in (None, "") else str(pack_id)
        if pack_id and not re.fullmatch(r"[A-Za-z0-9_]{1,64}", pack_id):
            raise bad("pack_id", f"{lab}.pack_id只能包含字母、数字和下划线: {pack_id}")
        rinfo = _obj(it, "receiver_info", f"{lab}.receiver_info")
        rcv = _address(_obj(rinfo, "address", f"{lab}.receiver_info.address"), f"{lab}.receiver_info.address")
        _contact(_obj(rinfo, "contact", f"{lab}.receiver_info.contact"), f"{lab}.receiver_info.contact")
        items = _list(it, "items", label=f"{lab}.items")
        for j, item in enumerate(items):
            if not isinstance(item, dict):
                raise bad("items", f"{lab}.items[{j}]应为对象")
            _req_str(item, "item_name", f"{lab}.items[{j}].item_name")
            if p_int(item, "item_count", None, lo=1, msg="item_count必须大于0") is None:
                raise missing(f"{lab}.items[{j}].item_count")
        parsed.append((order_id, pack_id, rcv))
    sb = ctx.sb
    now = int(ctx.now)
    ebills, errs = [], []
    with _tx(sb) as conn:
        _ensure_netsites(sb, conn, ctx.shop)
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


# ---------------------------------------------------------------------------- waybillApply / cancel / range

def _print_blob(track_no: str, info: dict[str, Any], shop_id: int) -> tuple[str, str]:
    plain = json.dumps({"waybillCode": track_no, "routingInfo": info, "shop": shop_id,
                        "pad": hashlib.sha512(track_no.encode()).hexdigest() * 6}, ensure_ascii=False).encode()
    key = hashlib.sha256(b"sandbox-print:" + track_no.encode()).digest() * (len(plain) // 32 + 1)
    blob = base64.b64encode(bytes(a ^ b for a, b in zip(plain, key))).decode()
    sign = hmac.new(b"fahuo-sandbox-print", blob.encode(), hashlib.sha256).hexdigest()
    return blob, sign


@api_method("logistics.waybillApply")
def waybill_apply(ctx: Ctx, params: dict[str, Any]) -> Any:
    applies = _list(params, "waybill_applies", 100)
    wanted = []
    for i, a in enumerate(applies):
        if not isinstance(a, dict):
            raise bad("waybill_applies", f"waybill_applies[{i}]应为对象")
        wanted.append((_req_str(a, "logistics_code", f"waybill_applies[{i}].logistics_code"),
                       _req_str(a, "track_no", f"waybill_applies[{i}].track_no")))
    infos, errs = [], []
    for code, tn in wanted:
        row = ctx.sb.store.one("SELECT order_id, status, info, logistics_code FROM waybills WHERE track_no=? AND"
                               " shop_id=?", (tn, ctx.shop))
        if row is None or row[3] != code:
            errs.append({"track_no": tn, "order_id": "", "err_code": "10801", "err_msg": f"运单号不存在: {tn}"})
            continue
        if row[1] == "cancelled":
            errs.append({"track_no": tn, "order_id": row[0], "err_code": "10802", "err_msg": f"运单号已取消: {tn}"})
            continue
        blob, sign = _print_blob(tn, json.loads(row[2]), ctx.shop)
        infos.append({"order_id": f"{row[0]}|{ctx.shop}", "track_no": tn, "print_data": blob, "sign": sign})
    return {"waybill_infos": infos, "err_infos": errs}


@api_method("logistics.cancelOrder")
def cancel_order(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = _courier_param(params)
    tn = _req_str(params, "track_no")
    with _tx(ctx.sb) as conn:
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


@api_method("logistics.getOutRange")
def get_out_range(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = _courier_param(params)
    typ = p_int(params, "type", 0, lo=0, hi=2, msg="type仅支持0（揽派合一）、1（揽收）、2（派送）")
    checks = []
    if typ in (0, 1):
        checks.append(_address(_obj(params, "sender_address"), "sender_address"))
    if typ in (0, 2):
        checks.append(_address(_obj(params, "receiver_address"), "receiver_address"))
    out = any(out_of_range(code, a["province_name"], a["city_name"], a["district_name"]) for a in checks)
    return {"is_out_range": out, "out_range_reason": OUT_RANGE_REASON if out else 0}


# ---------------------------------------------------------------------------- shipping helpers

def _shipped_qty(order: dict[str, Any]) -> dict[str, int]:
    done: dict[str, int] = {}
    for pk in order.get("logistics_info") or []:
        for p in pk.get("product_info") or []:
            done[str(p["sku_order_id"])] = done.get(str(p["sku_order_id"]), 0) + int(p["product_count"])
    return done


def _shipped_label(order: dict[str, Any]) -> str:
    return ",".join(f"{pk['company']}:{pk['tracking_no']}" for pk in order.get("logistics_info") or [])


def _check_shippable(order: dict[str, Any], *, allow_partial: bool) -> None:
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


def _check_refunds(sb: Sandbox, conn: Any, skus: list[dict[str, Any]], reject: bool,
                   now: int) -> list[dict[str, Any]]:
    """Open after-sale on a line: refuse to ship, or (``is_reject_refund``) refuse the after-sale; return its pushes."""
    open_ = list({s["order_id"]: s for s in skus
                  if (s.get("after_sale_info") or {}).get("after_sale_status") in OPEN_AFTER_SALE}.values())
    if open_ and not reject:
        raise biz(5, "订单存在售后申请，无法发货: " + ",".join(s["order_id"] for s in open_))
    if not open_:
        return []
    from .aftersales import refuse_on_ship  # late: aftersales imports this module
    return refuse_on_ship(sb, conn, open_, now)  # ship anyway = refuse the refund (拒绝售后申请)


def _reject_flag(params: dict[str, Any]) -> bool:
    return p_bool(params, "is_reject_refund", False) or p_bool(params, "is_refund_reject", False)


def _check_address_id(params: dict[str, Any], shop_id: int) -> None:
    for name in ("address_id", "after_sale_address_id"):
        aid = p_int(params, name, None)
        if aid is not None and aid not in {a["address_id"] for a in shop_addresses(shop_id)}:
            raise bad(name, f"{name}不存在: {aid}")


def _check_serials(v: Any, name: str = "serial_number_list") -> None:
    if v in (None, []):
        return
    if not isinstance(v, list) or not all(isinstance(x, str) and re.fullmatch(r"\d{15,17}", x) for x in v):
        raise bad(name, f"{name}应为15-17位数字串数组")


def _check_waybill(conn: Any, shop_id: int, tn: str, company: str) -> None:
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


def settle_status(conn: Any, order: dict[str, Any], now: int) -> bool:
    """Recompute line and order statuses from what has shipped and what was refunded before
    shipment: 3 once every line has sent what it still owes, else 101. Returns complete."""
    done = _shipped_qty(order)
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


def _apply_ship(sb: Sandbox, order: dict[str, Any], packages: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    """Append packages, recompute statuses, bump update_time; return the push messages (102 or 108)."""
    order.setdefault("logistics_info", []).extend(packages)
    complete = settle_status(sb.store.conn, order, now)
    if not order.get("ship_time"):
        order["ship_time"] = now
    ut = _touch(order, now)
    P = sb.push
    pa = order["post_addr"]
    rmsg = {"addr": json.dumps({"province": pa["province"], "city": pa["city"], "town": pa["town"],
                                "street": pa["street"], "detail": pa["detail"],
                                "encrypt_detail": pa["encrypt_detail"]}, ensure_ascii=False, separators=(",", ":")),
            "name": order["mask_post_receiver"], "tel": order["mask_post_tel"]}
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


def _request_id(params: dict[str, Any]) -> str | None:
    rid = params.get("request_id")
    if rid in (None, ""):
        return None
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or len(str(rid)) > 64:
        raise bad("request_id", "request_id应为不超过64位的字符串")
    return str(rid)


def _replay(ctx: Ctx, method: str, rid: str | None) -> Any:
    if rid is None:
        return None
    row = ctx.sb.store.one("SELECT result FROM ship_requests WHERE shop_id=? AND method=? AND request_id=?",
                           (ctx.shop, method, rid))
    return orjson.loads(row[0]) if row else None


def _shipped_lines(order_map: dict[str, dict[str, Any]], info: Any, label: str) -> list[tuple[str, dict[str, Any], int]]:
    """Validate ``shipped_order_info`` → [(parent_id, sku, num)]; sub-orders must belong to the orders."""
    if not isinstance(info, list) or not info:
        raise missing(label)
    sku_parent = {s["order_id"]: (pid, s) for pid, o in order_map.items() for s in o["sku_order_list"]}
    out = []
    for i, it in enumerate(info):
        if not isinstance(it, dict):
            raise bad(label, f"{label}[{i}]应为对象")
        sid = str(_oid(it.get("shipped_order_id"), "shipped_order_id"))
        num = p_int(it, "shipped_num", None, lo=1, msg="shipped_num必须大于0")
        if num is None:
            raise missing("shipped_num")
        if sid not in sku_parent:
            raise biz(7, f"子订单不属于指定订单: {sid}")
        pid, s = sku_parent[sid]
        out.append((pid, s, num))
    return out


def _check_quantities(conn: Any, order_map: dict[str, dict[str, Any]],
                      lines: list[tuple[str, dict[str, Any], int]]) -> None:
    want: dict[str, int] = {}
    for _, s, n in lines:
        want[s["order_id"]] = want.get(s["order_id"], 0) + n
    for _pid, o in order_map.items():
        done = _shipped_qty(o)
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


# ---------------------------------------------------------------------------- order.logisticsAdd

@api_method("order.logisticsAdd")
def logistics_add(ctx: Ctx, params: dict[str, Any]) -> Any:
    oid = _oid(params.get("order_id"))
    company = _company(params)
    tn = _tracking(params)
    reject = _reject_flag(params)
    _check_address_id(params, ctx.shop)
    _check_serials(params.get("serial_number_list"))
    sb, now = ctx.sb, int(ctx.now)
    with _tx(sb) as conn:
        order = _load_order(conn, ctx.shop, oid)
        if order is None:
            raise biz(1, f"订单不存在: {oid}")
        _check_shippable(order, allow_partial=False)
        refusals = _check_refunds(sb, conn, order["sku_order_list"], reject, now)
        refunded = refunded_units(conn, [s["order_id"] for s in order["sku_order_list"]])
        lines = [(s, to_send(s, refunded)) for s in order["sku_order_list"] if to_send(s, refunded)]
        if not lines:  # refunded in full: nothing to ship (as the pack calls refuse a refunded line)
            raise biz(7, "子订单已退款，无需发货: " + ",".join(s["order_id"] for s in order["sku_order_list"]))
        _check_waybill(conn, ctx.shop, tn, company["code"])
        pack_id = _new_pack_id(conn)
        msgs = refusals + _apply_ship(sb, order, [_package(order, pack_id, tn, company, now, lines)], now)
        _save_order(conn, order)
        _record(conn, ctx.shop, "order.logisticsAdd", pack_id, [str(oid)], tn, company["code"], None,
                [{"shipped_order_id": s["order_id"], "shipped_num": n} for s, n in lines], now)
    _push(sb, ctx.shop, msgs)
    return {}


# ---------------------------------------------------------------------------- pack APIs

@api_method("order.logisticsAddSinglePack")
def logistics_add_single_pack(ctx: Ctx, params: dict[str, Any]) -> Any:
    ids = _list(params, "order_id_list", 50)
    oids = [str(_oid(x, "order_id_list")) for x in ids]
    if len(set(oids)) != len(oids):
        raise bad("order_id_list", "order_id_list存在重复订单")
    company = _company(params)
    tn = _tracking(params)
    rid = _request_id(params)
    reject = _reject_flag(params)
    _check_address_id(params, ctx.shop)
    method = "order.logisticsAddSinglePack"
    prev = _replay(ctx, method, rid)
    if prev is not None:
        return prev
    info = params.get("shipped_order_info")
    sb, now = ctx.sb, int(ctx.now)
    with _tx(sb) as conn:
        order_map = {}
        for oid in oids:
            o = _load_order(conn, ctx.shop, int(oid))
            if o is None:
                raise biz(1, f"订单不存在: {oid}")
            _check_shippable(o, allow_partial=True)
            order_map[oid] = o
        lines = _shipped_lines(order_map, info, "shipped_order_info")
        for oid in oids:
            if not any(pid == oid for pid, _, _ in lines):
                raise biz(7, f"订单{oid}没有商品在本包裹中")
        msgs = _check_refunds(sb, conn, [s for _, s, _ in lines], reject, now)
        _check_quantities(conn, order_map, lines)
        _check_waybill(conn, ctx.shop, tn, company["code"])
        pack_id = _new_pack_id(conn)
        for oid, o in order_map.items():
            mine = [(s, n) for pid, s, n in lines if pid == oid]
            msgs += _apply_ship(sb, o, [_package(o, pack_id, tn, company, now, mine)], now)
            _save_order(conn, o)
        result = {"pack_id": pack_id}
        _record(conn, ctx.shop, method, pack_id, oids, tn, company["code"], rid,
                [{"order_id": pid, "shipped_order_id": s["order_id"], "shipped_num": n} for pid, s, n in lines], now)
        if rid is not None:
            conn.execute("INSERT INTO ship_requests (shop_id, method, request_id, result) VALUES (?,?,?,?)",
                         (ctx.shop, method, rid, json.dumps(result)))
    _push(sb, ctx.shop, msgs)
    return result


@api_method("order.logisticsAddMultiPack")
def logistics_add_multi_pack(ctx: Ctx, params: dict[str, Any]) -> Any:
    oid = str(_oid(params.get("order_id")))
    packs = _list(params, "pack_list", 50)
    rid = _request_id(params)
    reject = _reject_flag(params)
    _check_address_id(params, ctx.shop)
    _check_serials(params.get("serial_number_list"))
    parsed = []
    for i, pk in enumerate(packs):
        if not isinstance(pk, dict):
            raise bad("pack_list", f"pack_list[{i}]应为对象")
        parsed.append((pk, _company(pk), _tracking(pk)))
    method = "order.logisticsAddMultiPack"
    prev = _replay(ctx, method, rid)
    if prev is not None:
        return prev
    sb, now = ctx.sb, int(ctx.now)
    with _tx(sb) as conn:
        o = _load_order(conn, ctx.shop, int(oid))
        if o is None:
            raise biz(1, f"订单不存在: {oid}")
        _check_shippable(o, allow_partial=True)
        order_map = {oid: o}
        all_lines, per_pack = [], []
        for i, (pk, _co, _no) in enumerate(parsed):
            lines = _shipped_lines(order_map, pk.get("shipped_order_info"), f"pack_list[{i}].shipped_order_info")
            per_pack.append(lines)
            all_lines += lines
        refusals = _check_refunds(sb, conn, [s for _, s, _ in all_lines], reject, now)  # one open refund fails all
        _check_quantities(conn, order_map, all_lines)
        out, packages, records = [], [], []
        for i, ((_pk, company, tn), lines) in enumerate(zip(parsed, per_pack)):
            _check_waybill(conn, ctx.shop, tn, company["code"])
            pack_id = _new_pack_id(conn, i)
            packages.append(_package(o, pack_id, tn, company, now, [(s, n) for _, s, n in lines]))
            info = [{"shipped_order_id": s["order_id"], "shipped_num": n} for _, s, n in lines]
            out.append({"pack_id": pack_id, "logistics_code": tn,
                        "shipped_order_info": [dict(x, shipped_item_ids=[]) for x in info]})
            records.append((pack_id, tn, company["code"], info))
        msgs = refusals + _apply_ship(sb, o, packages, now)
        _save_order(conn, o)
        for pack_id, tn, code, info in records:
            _record(conn, ctx.shop, method, pack_id, [oid], tn, code, rid, info, now)
        result = {"pack_list": out}
        if rid is not None:
            conn.execute("INSERT INTO ship_requests (shop_id, method, request_id, result) VALUES (?,?,?,?)",
                         (ctx.shop, method, rid, json.dumps(result)))
    _push(sb, ctx.shop, msgs)
    return result


@api_method("order.logisticsEdit")
def logistics_edit(ctx: Ctx, params: dict[str, Any]) -> Any:
    oid = _oid(params.get("order_id"))
    company = _company(params)
    tn = _tracking(params)
    sb, now = ctx.sb, int(ctx.now)
    with _tx(sb) as conn:
        o = _load_order(conn, ctx.shop, oid)
        if o is None:
            raise biz(1, f"订单不存在: {oid}")
        packs = o.get("logistics_info") or []
        if o["order_status"] not in (3, 101) or not packs:
            raise biz(4, f"订单未发货，无法修改物流信息: {oid}")
        if len(packs) > 1:
            raise biz(7, f"订单有{len(packs)}个包裹，请使用order.logisticsEditByPack: {oid}")
        _check_waybill(conn, ctx.shop, tn, company["code"])
        pk = packs[0]
        previous = pk["tracking_no"]
        pk.update(tracking_no=tn, company=company["code"], company_name=company["name"])
        ut = _touch(o, now)
        _save_order(conn, o)
        _record(conn, ctx.shop, "order.logisticsEdit", pk["delivery_id"], [str(oid)], tn, company["code"], None,
                [], now, previous)
    pa = o["post_addr"]
    rmsg = {"addr": json.dumps({"province": pa["province"], "city": pa["city"], "town": pa["town"],
                                "street": pa["street"], "detail": pa["detail"],
                                "encrypt_detail": pa["encrypt_detail"]}, ensure_ascii=False, separators=(",", ":")),
            "name": o["mask_post_receiver"], "tel": o["mask_post_tel"]}
    _push(sb, ctx.shop, [sb.push.msg(104, o, update_time=ut, receiver_msg=rmsg, logistics_msg={
        "express_company_id": company["id"], "logistics_code": tn})])
    return {}


# ---------------------------------------------------------------------------- tracking (§9.8)

@api_method("logistics.trackNoRouteDetail")
def track_no_route_detail(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = _courier_param(params)
    tn = _req_str(params, "track_no")
    phone = params.get("receiver_phone")
    if phone is not None and not isinstance(phone, (str, int)):
        raise bad("receiver_phone", "receiver_phone应为字符串")
    return ctx.sb.couriers.route_detail(ctx.shop, code, tn)


# ---------------------------------------------------------------------------- admin helpers

def admin_set_balance(sb: Sandbox, shop_id: int, code: str, netsite_code: str | None, amount: int) -> list[dict]:
    if amount < 0:
        raise ValueError("amount must be >= 0")
    with _tx(sb) as conn:
        _ensure_netsites(sb, conn, shop_id)
        sql, args = "UPDATE netsites SET amount=? WHERE shop_id=? AND logistics_code=?", [amount, shop_id, code]
        if netsite_code:
            sql += " AND netsite_code=?"
            args.append(netsite_code)
        if conn.execute(sql, args).rowcount == 0:
            raise ValueError(f"no netsite for shop {shop_id} / {code} / {netsite_code}")
    rows = sb.store.all(f"SELECT {_NETSITE_COLS} FROM netsites WHERE shop_id=? AND logistics_code=? ORDER BY seq",
                        (shop_id, code))
    return [_netsite_json(r) for r in rows]


def admin_refund(sb: Sandbox, order_id: int, sku_order_id: str | None) -> dict[str, Any]:
    """A refund-only after-sale per line (type 2 before shipment, 1 after): see :mod:`.aftersales`."""
    from .aftersales import create  # late: aftersales imports this module
    return create(sb, order_id, sku_order_id, kind="refund")


def admin_set_status(sb: Sandbox, order_id: int, status: int) -> dict[str, Any]:
    if status not in gen.ORDER_STATUS_DESC:
        raise ValueError(f"bad order_status {status}")
    with _tx(sb) as conn:
        o = _load_order(conn, None, order_id)
        if o is None:
            raise ValueError(f"unknown order {order_id}")
        gen.set_status(o, status)
        ut = _touch(o, int(sb.now()))
        _save_order(conn, o)
    return {"order_id": str(order_id), "order_status": status, "update_time": ut}


def admin_pickup(sb: Sandbox, tracking_no: str) -> dict[str, Any]:
    with _tx(sb) as conn:
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


def admin_waybills(sb: Sandbox, shop_id: int) -> list[dict[str, Any]]:
    rows = sb.store.all("SELECT track_no, logistics_code, netsite_code, order_id, pack_id, status, picked_up,"
                        " created_at FROM waybills WHERE shop_id=? ORDER BY rowid", (shop_id,))
    return [{"track_no": r[0], "logistics_code": r[1], "netsite_code": r[2], "order_id": r[3], "pack_id": r[4],
             "status": r[5], "picked_up": bool(r[6]), "created_at": r[7]} for r in rows]
