"""After-sale (§12): stored cases, ``afterSale.List`` / ``afterSale.Detail`` /
``afterSale.applyLogisticsIntercept``, the admin story (create, buyer returns goods, merchant /
platform decisions) and the refund pushes 200–208 (§10.5).

One case covers one sub-order (``related_id`` = its ``sku_order_id``). Every change writes the case
(``update_time`` = max(now, previous + 1)), mirrors ``{after_sale_status, after_sale_type,
refund_status}`` onto the order line, bumps the order's ``update_time`` and pushes the tags of
:func:`tags_for` to the apps subscribed to the shop. Choices where the doc is silent are listed in
the :mod:`fahuo.sandbox` docstring ("After-sale").

Error shapes: 40002 / 40003 naming the parameter; 50002 ``isv.business-failed:12`` unknown /
another shop's after-sale; 50002 ``isv.business-failed:13`` interception refused as a whole (case
closed, order not shipped). Per-parcel interception refusals are results, not errors (code 10000).
"""
from __future__ import annotations

import json
import time
from typing import Any


from . import generator as gen
from .core import ApiError, Sandbox
from .gateway import Ctx, api_method
from .params import p_bool, p_int
from .logistics.shipping import settle_status
from .methods import COMPANY_BY_CODE, shop_addresses
from .orders import load_order, push_to_shop, save_order, touch
from .params import bad, id_param, missing

DAY = 86400
ID_BASE = 7_200_000_000_000_000_000
STATUS_TEXT = {6: "待商家同意", 7: "待买家退货", 8: "待商家发货", 11: "待商家二次同意", 12: "售后成功",
               13: "换货/补寄/维修待买家收货", 14: "换货/补寄/维修成功", 27: "商家一次拒绝", 28: "售后失败",
               29: "商家二次拒绝"}
TYPE_TEXT = {0: "退货退款", 1: "已发货仅退款", 2: "未发货仅退款", 3: "换货", 6: "价保", 7: "补寄", 8: "维修"}
REFUND_TEXT = {1: "待退款", 2: "退款中", 3: "退款成功", 4: "退款失败", 5: "追缴成功"}
REASONS = {1: "不想要了", 2: "商品质量问题", 3: "发错货/漏发", 4: "未按约定时间发货", 5: "快递一直未送达"}
# Who may move a case where (the sandbox runs types 0/1/2 only; 8/13/14 are exchange/补寄/维修 states).
# 7 → 11 happens only through the buyer's return parcel (``return_shipped``).
NEXT: dict[int, set[int]] = {6: {7, 12, 27, 28}, 7: {28}, 11: {12, 28, 29}, 27: {6, 12, 28}, 29: {12, 28},
                             12: {12}, 28: set()}
OPEN = {6, 7, 11}
DEADLINE = {6: 2 * DAY, 7: 7 * DAY, 11: 2 * DAY, 27: 3 * DAY, 29: 3 * DAY}  # 当前节点逾期时间
INTERCEPTABLE = {6, 7}  # the buyer wants the money back and the case is not settled
INTERCEPT_COST = {"shunfeng": 500}  # fen; everything else 300
DEFAULT_INTERCEPT_COST = 300
TARGETS_MAX = 20
# Sandbox choice: the reason given for a courier the admin marked as outside the platform's
# interception service (``POST /sandbox/aftersales/intercept_unsupported``).
UNSUPPORTED_REASON = (7, "该物流公司暂不支持平台拦截，请联系快递公司")
ORDER_BY_FIELDS = {"status_deadline", "apply_time", "update_time"}
# afterSale.List ``order_logistics[].logistics_state`` (GO request comment for order_logistics_state):
# 1 买家已拒签, 2 买家已签收, 3 快递退回中（含拦截成功）, 4 商家已签收; 0 = on its way / unknown.
ROLE_BUYER, ROLE_MERCHANT, ROLE_PLATFORM = 1, 2, 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS aftersales (
    aftersale_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    shop_id INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    sku_order_id TEXT NOT NULL,
    aftersale_type INTEGER NOT NULL,
    aftersale_status INTEGER NOT NULL,
    refund_status INTEGER NOT NULL,
    apply_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    status_deadline INTEGER NOT NULL,
    info TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_aftersales_shop_ut ON aftersales (shop_id, update_time, seq);
CREATE INDEX IF NOT EXISTS ix_aftersales_shop_at ON aftersales (shop_id, apply_time, seq);
CREATE INDEX IF NOT EXISTS ix_aftersales_order ON aftersales (shop_id, order_id);
CREATE INDEX IF NOT EXISTS ix_aftersales_sku ON aftersales (sku_order_id);
CREATE TABLE IF NOT EXISTS intercepts (
    track_no TEXT PRIMARY KEY,
    aftersale_id TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    company_code TEXT NOT NULL,
    cost INTEGER NOT NULL,
    at INTEGER NOT NULL
);
"""
_COLS = ("aftersale_id, seq, shop_id, order_id, sku_order_id, aftersale_type, aftersale_status, refund_status,"
         " apply_time, update_time, status_deadline, info")


def ensure_schema(sb: Sandbox) -> None:
    sb.store.conn.executescript(SCHEMA)


def set_intercept_unsupported(sb: Sandbox, codes: Any) -> list[str]:
    """Replace the couriers whose parcels the platform will not intercept (reason 7)."""
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ValueError("company_codes must be a list of courier codes")
    unknown = sorted(set(codes) - set(COMPANY_BY_CODE))
    if unknown:
        raise ValueError(f"unknown company_codes {unknown}")
    sb.intercept_unsupported = set(codes)
    return sorted(sb.intercept_unsupported)


def not_found(aid: Any) -> ApiError:
    return ApiError(50002, "isv.business-failed:12", f"售后单不存在: {aid}")


def refused(msg: str) -> ApiError:
    return ApiError(50002, "isv.business-failed:13", msg)


# ---------------------------------------------------------------------------- pure rules

def tags_for(old: int, new: int, old_refund: int, new_refund: int, a_type: int) -> list[int]:
    """Push tags (§10.5) for one change of a case."""
    if new == 12:
        out = [] if old == 12 else [201]  # RefundAgreed
        if new_refund == 3 and (old != 12 or old_refund != 3):
            out.append(206)  # RefundSuccess
        elif old == 12 and new_refund != old_refund:
            out.append(208)  # RefundModified (e.g. the refund failed)
        return out
    if new == old:
        return [208] if new_refund != old_refund else []
    return {7: [202], 11: [203], 27: [205] if a_type == 0 else [204], 29: [204], 28: [207], 6: [208]}.get(new, [])


def default_refund(status: int) -> int:
    return 3 if status == 12 else (4 if status in (27, 28, 29) else 1)


def check_transition(case: dict[str, Any], new: int, refund: int | None) -> int:
    """Validate a merchant / platform decision; return the refund_status to store."""
    old, a_type = case["aftersale_status"], case["aftersale_type"]
    if new not in NEXT:
        raise ValueError(f"aftersale_status {new} is not simulated (6, 7, 11, 12, 27, 28, 29; 8/13/14 are "
                         "exchange / 补寄 / 维修 states)")
    if refund is not None and refund not in REFUND_TEXT:
        raise ValueError(f"refund_status must be one of {sorted(REFUND_TEXT)}")
    if old == 7 and new == 11:
        raise ValueError("7 → 11 happens when the buyer sends the goods back: "
                         "POST /sandbox/aftersales/{id}/return_shipped")
    if new not in NEXT[old]:
        raise ValueError(f"aftersale {case['aftersale_id']} cannot go from {old} ({STATUS_TEXT[old]}) to {new}"
                         f" ({STATUS_TEXT.get(new, '?')}); allowed: {sorted(NEXT[old]) or 'none (closed)'}")
    if old == 6 and new == 7 and a_type != 0:
        raise ValueError("only a return-refund (aftersale_type 0) waits for the buyer's return (7)")
    if old == 6 and new == 12 and a_type == 0:
        raise ValueError("a return-refund (aftersale_type 0) is agreed in two steps: 7, then 11 → 12")
    rs = default_refund(new) if refund is None else refund
    if new != 12 and rs not in (1, 4):
        raise ValueError(f"refund_status {rs} needs aftersale_status 12 (1 or 4 otherwise)")
    if new == old and rs == case["refund_status"]:
        raise ValueError(f"aftersale {case['aftersale_id']} is already {old} / refund {rs}")
    return rs


# ---------------------------------------------------------------------------- storage

def _row_case(r: tuple) -> dict[str, Any]:
    return {"aftersale_id": r[0], "seq": r[1], "shop_id": r[2], "order_id": r[3], "sku_order_id": r[4],
            "aftersale_type": r[5], "aftersale_status": r[6], "refund_status": r[7], "apply_time": r[8],
            "update_time": r[9], "status_deadline": r[10], "info": json.loads(r[11])}


def _load_case(conn: Any, aid: str, shop_id: int | None = None) -> dict[str, Any] | None:
    sql = f"SELECT {_COLS} FROM aftersales WHERE aftersale_id=?"
    args: list[Any] = [aid]
    if shop_id is not None:
        sql += " AND shop_id=?"
        args.append(shop_id)
    r = conn.execute(sql, args).fetchone()
    return _row_case(r) if r else None


def _save_case(conn: Any, c: dict[str, Any]) -> None:
    conn.execute("UPDATE aftersales SET aftersale_status=?, refund_status=?, update_time=?, status_deadline=?, info=?"
                 " WHERE aftersale_id=?", (c["aftersale_status"], c["refund_status"], c["update_time"],
                                           c["status_deadline"], json.dumps(c["info"], ensure_ascii=False),
                                           c["aftersale_id"]))


def _line(order: dict[str, Any], sku_order_id: str) -> dict[str, Any]:
    return next(s for s in order["sku_order_list"] if s["order_id"] == sku_order_id)


def _mirror(s: dict[str, Any], c: dict[str, Any]) -> None:
    s["after_sale_info"] = {"after_sale_status": c["aftersale_status"], "after_sale_type": c["aftersale_type"],
                            "refund_status": c["refund_status"]}


def _log(c: dict[str, Any], at: int, role: int, action: str, text: str) -> None:
    who = {ROLE_BUYER: "买家", ROLE_MERCHANT: "商家", ROLE_PLATFORM: "平台"}[role]
    c["info"]["logs"].append({"time": at, "role": role, "operator": who, "action": action, "text": text})


def _msg(sb: Sandbox, c: dict[str, Any], tag: int) -> dict[str, Any]:
    ut = c["update_time"]
    data = {"aftersale_id": int(c["aftersale_id"]), "aftersale_status": c["aftersale_status"],
            "aftersale_type": c["aftersale_type"], "p_id": int(c["order_id"]), "s_id": int(c["sku_order_id"]),
            "shop_id": c["shop_id"], "reason_code": c["info"]["reason_code"],
            "refund_amount": c["info"]["refund_amount"], "refund_post_amount": c["info"]["refund_post_amount"],
            "refund_voucher_num": 0, "apply_time": c["apply_time"], "update_time": ut}
    extra = {201: "agree_time", 206: "success_time", 207: "close_time", 208: "modify_time"}.get(tag)
    if extra:
        data[extra] = ut
    return sb.push.envelope(tag, data)


def _change(sb: Sandbox, c: dict[str, Any], new: int, refund: int, now: int, role: int, action: str,
            text: str) -> list[int]:
    """Apply one change to ``c`` in memory (the caller saves case and order); return its push tags."""
    tags = tags_for(c["aftersale_status"], new, c["refund_status"], refund, c["aftersale_type"])
    c["update_time"] = max(now, c["update_time"] + 1)
    c["aftersale_status"], c["refund_status"] = new, refund
    c["status_deadline"] = c["update_time"] + DEADLINE[new] if new in DEADLINE else 0
    if new == 12 and refund == 3:
        c["info"]["real_refund_amount"] = c["info"]["refund_amount"]
    _log(c, c["update_time"], role, action, text)
    return tags


# ---------------------------------------------------------------------------- admin story

def create(sb: Sandbox, order_id: int, sku_order_id: str | None = None, kind: str | None = None,
           aftersale_type: int | None = None, item_num: int | None = None,
           reason_code: int | None = None) -> dict[str, Any]:
    """The buyer applies: one case (status 6, refund 1) per chosen line; push 200 each."""
    if kind not in (None, "refund", "return"):
        raise ValueError("kind must be refund (仅退款) or return (退货退款)")
    if aftersale_type is not None and aftersale_type not in (0, 1, 2):
        raise ValueError("aftersale_type must be 0 (退货退款), 1 (已发货仅退款) or 2 (未发货仅退款)")
    if reason_code is not None and reason_code not in REASONS:
        raise ValueError(f"reason_code must be one of {sorted(REASONS)}")
    now = int(sb.now())
    with sb.store.transaction() as conn:
        o = load_order(conn, None, order_id)
        if o is None:
            raise ValueError(f"unknown order {order_id}")
        if o["order_status"] in (1, 4):
            raise ValueError(f"order {order_id} is {gen.ORDER_STATUS_DESC[o['order_status']]}: nothing to refund")
        skus = [s for s in o["sku_order_list"] if sku_order_id in (None, "", s["order_id"])]
        if not skus:
            raise ValueError(f"sub-order {sku_order_id} not in order {order_id}")
        if item_num is not None and (len(skus) != 1 or not 1 <= item_num <= skus[0]["item_num"]):
            raise ValueError("item_num needs one sku_order_id and 1 ≤ item_num ≤ the line's item_num")
        for s in skus:
            busy = conn.execute("SELECT aftersale_id, aftersale_status FROM aftersales WHERE sku_order_id=? AND"
                                " aftersale_status != 28 ORDER BY seq DESC LIMIT 1", (s["order_id"],)).fetchone()
            if busy:
                raise ValueError(f"sub-order {s['order_id']} already has after-sale {busy[0]} in status {busy[1]} "
                                 f"({STATUS_TEXT[busy[1]]}); only a closed one (28) allows a new application")
        ut = touch(o, now)
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM aftersales").fetchone()[0]
        out, msgs = [], []
        for s in skus:
            shipped = bool(s.get("ship_time"))
            a_type = aftersale_type
            if a_type is None:
                a_type = 0 if kind == "return" else (1 if shipped else 2)
            if a_type in (0, 1) and not shipped:
                raise ValueError(f"sub-order {s['order_id']} has not shipped: only 未发货仅退款 (type 2) applies")
            if a_type == 2 and shipped:
                raise ValueError(f"sub-order {s['order_id']} has shipped: use type 1 (仅退款) or 0 (退货退款)")
            seq += 1
            n = item_num or s["item_num"]
            rc = reason_code or (4 if a_type == 2 else 1)
            # the case's clock is the sandbox's (the order's update_time may already run a little ahead)
            c = {"aftersale_id": str(ID_BASE + seq * 7919), "seq": seq, "shop_id": o["shop_id"],
                 "order_id": str(o["order_id"]), "sku_order_id": s["order_id"], "aftersale_type": a_type,
                 "aftersale_status": 6, "refund_status": 1, "apply_time": now, "update_time": now,
                 "status_deadline": now + DEADLINE[6],
                 "info": {"refund_amount": s["pay_amount"] * n // s["item_num"], "refund_post_amount": 0,
                          "aftersale_num": n, "reason_code": rc, "reason": REASONS[rc], "return": None,
                          "real_refund_amount": 0, "intercepts": [], "logs": []}}
            _log(c, now, ROLE_BUYER, "apply", f"买家申请{TYPE_TEXT[a_type]}，原因：{REASONS[rc]}，数量{n}")
            conn.execute(f"INSERT INTO aftersales ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         (c["aftersale_id"], seq, c["shop_id"], c["order_id"], c["sku_order_id"], a_type, 6, 1, now,
                          now, c["status_deadline"], json.dumps(c["info"], ensure_ascii=False)))
            _mirror(s, c)
            out.append(case_view(c))
            msgs.append(_msg(sb, c, 200))
        save_order(conn, o)
    push_to_shop(sb, o["shop_id"], msgs)
    return {"order_id": str(order_id), "update_time": ut, "aftersales": out}


def _decide(sb: Sandbox, aid: str, fn) -> dict[str, Any]:
    """Load a case and its order, let ``fn(case, order_line, now)`` change it, save both, push."""
    now = int(sb.now())
    with sb.store.transaction() as conn:
        c = _load_case(conn, aid)
        if c is None:
            raise LookupError(f"unknown after-sale {aid}")
        o = load_order(conn, None, int(c["order_id"]))
        if o is None:
            raise LookupError(f"after-sale {aid} points at unknown order {c['order_id']}")
        tags = fn(c, _line(o, c["sku_order_id"]), now)
        _save_case(conn, c)
        _mirror(_line(o, c["sku_order_id"]), c)
        if o["order_status"] == 101 and c["aftersale_type"] == 2 and c["aftersale_status"] == 12:
            # the last unshipped line refunded: nothing is left to send, the order has shipped
            settle_status(conn, o, now)
        touch(o, now)
        save_order(conn, o)
    push_to_shop(sb, c["shop_id"], [_msg(sb, c, t) for t in tags])
    return dict(case_view(c), tags=[str(t) for t in tags])


def set_status(sb: Sandbox, aid: str, status: int, refund_status: int | None = None) -> dict[str, Any]:
    """A merchant or platform decision (see :data:`NEXT`)."""

    def fn(c: dict[str, Any], line: dict[str, Any], now: int) -> list[int]:
        old = c["aftersale_status"]
        rs = check_transition(c, status, refund_status)
        if status == 12 and old in (27, 29):
            who, act, text = ROLE_PLATFORM, "arbitrate", "平台客服介入，支持买家，售后成功"
        elif status == 12 and old == 12:
            who, act, text = ROLE_PLATFORM, "refund", f"退款状态变更为{REFUND_TEXT[rs]}"
        elif status == 12:
            who, act, text = ROLE_MERCHANT, "agree", f"商家同意退款（{REFUND_TEXT[rs]}）"
        elif status == 7:
            who, act, text = ROLE_MERCHANT, "agree_return", "商家同意退货申请，等待买家退货"
        elif status in (27, 29):
            who, act, text = ROLE_MERCHANT, "refuse", "商家拒绝" + ("售后申请" if status == 27 else "退款（收到退货后）")
        elif status == 28:
            who, act, text = ROLE_BUYER, "close", "售后关闭（买家撤销或超时）"
        else:  # 27 → 6
            who, act, text = ROLE_BUYER, "modify", "买家修改售后申请后重新提交"
        return _change(sb, c, status, rs, now, who, act, text)

    return _decide(sb, aid, fn)


def return_shipped(sb: Sandbox, aid: str, company_code: str, tracking_no: str) -> dict[str, Any]:
    """The buyer sends the goods back (return-refund at 7): 11 待商家二次同意, push 203."""
    comp = COMPANY_BY_CODE.get(company_code)
    if comp is None:
        raise ValueError(f"unknown company_code {company_code} (use an order.logisticsCompanyList code)")
    if not (isinstance(tracking_no, str) and 6 <= len(tracking_no) <= 32
            and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in tracking_no)):
        raise ValueError(f"bad tracking_no {tracking_no!r} (6–32 of A-Z a-z 0-9 -)")

    def fn(c: dict[str, Any], line: dict[str, Any], now: int) -> list[int]:
        if c["aftersale_type"] != 0 or c["aftersale_status"] != 7:
            raise ValueError(f"after-sale {aid} is type {c['aftersale_type']} in status {c['aftersale_status']}: "
                             "only a return-refund (type 0) waiting for the buyer (7) gets a return parcel")
        tags = _change(sb, c, 11, 1, now, ROLE_BUYER, "return",
                       f"买家已退货：{comp['name']} {tracking_no}")
        c["info"]["return"] = {"company_code": comp["code"], "company_name": comp["name"],
                               "tracking_no": tracking_no, "logistics_time": c["update_time"]}
        return tags

    return _decide(sb, aid, fn)


def refuse_on_ship(sb: Sandbox, conn: Any, skus: list[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    """Shipping with ``is_reject_refund`` refuses the open after-sale of each line: 6 → 27, 7/11 → 29
    (refund 4). Runs in the caller's transaction; the caller saves the order. Returns the pushes."""
    msgs = []
    for s in skus:
        r = conn.execute(f"SELECT {_COLS} FROM aftersales WHERE sku_order_id=? AND aftersale_status IN (6, 7, 11)"
                         " ORDER BY seq DESC LIMIT 1", (s["order_id"],)).fetchone()
        if r is None:  # a line marked open without a stored case: refuse on the line only
            s["after_sale_info"] = dict(s["after_sale_info"], after_sale_status=27, refund_status=4)
            continue
        c = _row_case(r)
        new = 27 if c["aftersale_status"] == 6 else 29
        tags = _change(sb, c, new, 4, now, ROLE_MERCHANT, "refuse", "商家发货，拒绝售后申请")
        _save_case(conn, c)
        _mirror(s, c)
        msgs += [_msg(sb, c, t) for t in tags]
    return msgs


def case_view(c: dict[str, Any]) -> dict[str, Any]:
    """Admin shape of a case (everything, ids as strings)."""
    i = c["info"]
    return {"aftersale_id": c["aftersale_id"], "shop_id": c["shop_id"], "order_id": c["order_id"],
            "sku_order_id": c["sku_order_id"], "aftersale_type": c["aftersale_type"],
            "aftersale_status": c["aftersale_status"], "refund_status": c["refund_status"],
            "apply_time": c["apply_time"], "update_time": c["update_time"], "status_deadline": c["status_deadline"],
            "refund_amount": i["refund_amount"], "aftersale_num": i["aftersale_num"], "reason_code": i["reason_code"],
            "return": i["return"], "intercepts": i["intercepts"], "logs": i["logs"]}


def admin_list(sb: Sandbox, shop_id: int) -> list[dict[str, Any]]:
    return [case_view(_row_case(r)) for r in sb.store.all(
        f"SELECT {_COLS} FROM aftersales WHERE shop_id=? ORDER BY seq", (shop_id,))]


# ---------------------------------------------------------------------------- parcels

def _parcels(order: dict[str, Any], sku_order_id: str | None = None) -> list[dict[str, Any]]:
    return [pk for pk in order.get("logistics_info") or []
            if sku_order_id is None or any(str(p["sku_order_id"]) == sku_order_id for p in pk["product_info"])]


def _parcel_state(sb: Sandbox, tn: str) -> tuple[str | None, int]:
    """(last due step of the courier timeline, its time); (None, 0) when nothing happened / unknown."""
    row = sb.couriers.track(tn)
    if row is None:
        return None, 0
    now = sb.now()
    due = [e for e in row["events"] if e["at"] <= now]
    return (due[-1]["step"], due[-1]["at"]) if due else (None, 0)


def _logistics_state(step: str | None) -> int:
    if step == "signed":
        return 2
    if step == "refused":
        return 1
    if step == "returned":
        return 4
    if step and step.startswith("return:"):
        return 3
    return 0


def _order_logistics(sb: Sandbox, order: dict[str, Any], sku_order_id: str) -> list[dict[str, Any]]:
    out = []
    for pk in _parcels(order, sku_order_id):
        step, at = _parcel_state(sb, pk["tracking_no"])
        out.append({"tracking_no": pk["tracking_no"], "company_name": pk["company_name"],
                    "company_code": pk["company"], "logistics_time": at or pk["ship_time"],
                    "logistics_state": _logistics_state(step)})
    return out


def _related_status(order: dict[str, Any], s: dict[str, Any]) -> int:
    """afterSale.List order_status: 2 未发货, 3 已发货, 5 已收货/完成."""
    if order["order_status"] == 5:
        return 5
    return 3 if s.get("ship_time") else 2


def _fmt(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + 8 * 3600))


# ---------------------------------------------------------------------------- afterSale.List (§12.1)

def _list_item(sb: Sandbox, c: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    i, s = c["info"], _line(order, c["sku_order_id"])
    ol = _order_logistics(sb, order, c["sku_order_id"])
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
    rows = sb.store.all(f"SELECT {_COLS} FROM aftersales WHERE {w} ORDER BY {order} LIMIT ? OFFSET ?",
                        args + [size, page * size])
    cases = [_row_case(r) for r in rows]
    orders: dict[str, dict[str, Any]] = {}
    ids = sorted({int(c["order_id"]) for c in cases})
    if ids:
        for oid, payload in sb.store.all("SELECT order_id, payload FROM orders WHERE order_id IN (%s)"
                                         % ",".join("?" * len(ids)), ids):
            orders[str(oid)] = json.loads(payload)
    items = [_list_item(sb, c, orders[c["order_id"]]) for c in cases]
    return {"items": items, "has_more": (page + 1) * size < total, "total": total, "page": page,
            "size": len(items)}


# ---------------------------------------------------------------------------- afterSale.Detail (§12.2)

@api_method("afterSale.Detail")
def after_sale_detail(ctx: Ctx, params: dict[str, Any]) -> Any:
    aid = str(id_param(params.get("after_sale_id"), "after_sale_id"))
    records = p_bool(params, "need_operation_record", False)
    sb = ctx.sb
    c = _load_case(sb.store.conn, aid, ctx.shop)
    if c is None:
        raise not_found(aid)
    order = json.loads(sb.orders.payload(ctx.shop, int(c["order_id"])) or "{}")
    i, s = c["info"], _line(order, c["sku_order_id"])
    ol = _order_logistics(sb, order, c["sku_order_id"])
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


# ---------------------------------------------------------------------------- interception (§12.4)

def _product(s: dict[str, Any], n: int) -> dict[str, Any]:
    return {"order_id": int(s["order_id"]), "product_image": s.get("product_pic", ""),
            "product_name": s["product_name"],
            "product_spec": ";".join(f"{x['name']}:{x['value']}" for x in s.get("spec", [])), "tags": [],
            "price": s["goods_price"], "amount": n}


@api_method("afterSale.applyLogisticsIntercept")
def apply_logistics_intercept(ctx: Ctx, params: dict[str, Any]) -> Any:
    aid = str(id_param(params.get("after_sale_id"), "after_sale_id"))
    op_from = p_int(params, "op_from", None)
    if op_from is None:
        raise missing("op_from", "缺少op_from（1 商家，3 客服）")
    if op_from not in (1, 3):
        raise bad("op_from", "op_from仅支持1（商家）和3（客服）")
    raw = params.get("intercept_targets")
    if raw is None or raw == []:
        raise missing("intercept_targets")
    if not isinstance(raw, list):
        raise bad("intercept_targets", "intercept_targets应为数组")
    if len(raw) > TARGETS_MAX:
        raise bad("intercept_targets", f"intercept_targets最多{TARGETS_MAX}个包裹")
    targets = []
    for k, t in enumerate(raw):
        lab = f"intercept_targets[{k}]"
        if not isinstance(t, dict):
            raise bad("intercept_targets", f"{lab}应为对象")
        code, tn = t.get("company_code"), t.get("tracking_no")
        if code in (None, ""):
            raise missing(f"{lab}.company_code")
        if tn in (None, ""):
            raise missing(f"{lab}.tracking_no")
        if not isinstance(code, str) or code not in COMPANY_BY_CODE:
            raise bad(f"{lab}.company_code", f"company_code不存在: {code}")
        if not isinstance(tn, str):
            raise bad(f"{lab}.tracking_no", f"{lab}.tracking_no应为字符串")
        targets.append((code, tn.strip()))
    sb, now = ctx.sb, int(ctx.now)
    results, accepted = [], []
    with sb.store.transaction() as conn:
        c = _load_case(conn, aid, ctx.shop)
        if c is None:
            raise not_found(aid)
        if c["aftersale_status"] not in INTERCEPTABLE:
            raise refused(f"售后单当前状态不支持拦截: {STATUS_TEXT[c['aftersale_status']]}（仅{sorted(INTERCEPTABLE)}）")
        o = load_order(conn, ctx.shop, int(c["order_id"]))
        if o is None:
            raise not_found(aid)
        parcels = {pk["tracking_no"]: pk for pk in _parcels(o)}
        if not parcels:
            raise refused(f"订单未发货，无需拦截: {c['order_id']}")
        lines = {s["order_id"]: s for s in o["sku_order_list"]}
        seen = set()
        for code, tn in targets:
            comp = COMPANY_BY_CODE[code]
            pk = parcels.get(tn)
            res = {"company_code": code, "company_name": comp["name"], "tracking_no": tn, "value_amount": 0,
                   "can_intercept": False, "is_success": False, "unavailable_reason_code": 0,
                   "unavailable_reason": "", "intercept_cost": 0, "cur_product": None, "other_products": [],
                   "other_product_amount": 0, "settlement_mode": 0}
            why = None
            if pk is None:
                why = (1, f"运单号不属于该售后单的订单: {tn}")
            else:
                items = [(lines[str(p["sku_order_id"])], int(p["product_count"])) for p in pk["product_info"]
                         if str(p["sku_order_id"]) in lines]
                res["value_amount"] = sum(s["pay_amount"] * n // s["item_num"] for s, n in items)
                cur = [(s, n) for s, n in items if s["order_id"] == c["sku_order_id"]]
                others = [(s, n) for s, n in items if s["order_id"] != c["sku_order_id"]]
                res["cur_product"] = _product(*cur[0]) if cur else None
                res["other_products"] = [_product(s, n) for s, n in others]
                res["other_product_amount"] = sum(n for _, n in others)
                step, _ = _parcel_state(sb, tn)
                if pk["company"] != code:
                    why = (2, f"物流公司与运单不匹配: {tn} 为 {pk['company']}")
                elif tn in seen or conn.execute("SELECT 1 FROM intercepts WHERE track_no=?", (tn,)).fetchone() \
                        or sb.couriers.intercepted(tn):  # also when asked through the courier (Kuaidi100)
                    why = (3, f"该包裹已申请拦截，请勿重复申请: {tn}")
                elif step == "signed":
                    why = (4, "包裹已签收，无法拦截")
                elif step == "lost":
                    why = (6, "包裹已遗失，无法拦截")
                elif step == "returned":
                    why = (5, "包裹已退回寄件人，无需拦截")
                elif step and step.startswith("return:"):
                    why = (5, "包裹已在退回途中，无需拦截")
                elif code in sb.intercept_unsupported:
                    why = UNSUPPORTED_REASON
            if why:
                res["unavailable_reason_code"], res["unavailable_reason"] = why
            else:
                cost = INTERCEPT_COST.get(code, DEFAULT_INTERCEPT_COST)
                res.update(can_intercept=True, is_success=True, intercept_cost=cost)
                conn.execute("INSERT INTO intercepts (track_no, aftersale_id, shop_id, company_code, cost, at)"
                             " VALUES (?,?,?,?,?,?)", (tn, aid, ctx.shop, code, cost, now))
                c["info"]["intercepts"].append({"tracking_no": tn, "company_code": code, "cost": cost, "at": now,
                                                "op_from": op_from})
                _log(c, now, ROLE_MERCHANT if op_from == 1 else ROLE_PLATFORM, "intercept",
                     f"申请拦截包裹 {comp['name']} {tn}，费用{cost / 100:.2f}元")
                accepted.append(tn)
            seen.add(tn)
            results.append(res)
        if accepted:  # the case's log changes, not its status: no update_time bump, no push
            conn.execute("UPDATE aftersales SET info=? WHERE aftersale_id=?",
                         (json.dumps(c["info"], ensure_ascii=False), aid))
    for tn in accepted:  # outside the transaction: the courier lock is never taken under the store lock
        try:
            sb.couriers.intercept(tn)
        except (LookupError, ValueError):  # no sandbox timeline (foreign courier): nothing to turn back
            pass
    ok = sum(1 for r in results if r["is_success"])
    return {"intercept_results": results, "success_count": ok, "failed_count": len(results) - ok,
            "refund_amount": c["info"]["refund_amount"]}
