"""Stored after-sale cases: the table, the admin story (the buyer applies, returns goods; merchant and
platform decisions), refusal when the merchant ships anyway, and the pushes each change sends."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import generator as gen
from ..core import ApiError
from ..logistics.shipping import settle_status
from ..methods import COMPANY_BY_CODE
from ..orders import load_order, push_to_shop, save_order, touch
from .rules import DEADLINE, REASONS, REFUND_TEXT, STATUS_TEXT, TYPE_TEXT, check_transition, tags_for

if TYPE_CHECKING:
    from ..core import Sandbox


ID_BASE = 7_200_000_000_000_000_000


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


COLS = ("aftersale_id, seq, shop_id, order_id, sku_order_id, aftersale_type, aftersale_status, refund_status,"
         " apply_time, update_time, status_deadline, info")


def not_found(aid: Any) -> ApiError:
    return ApiError(50002, "isv.business-failed:12", f"售后单不存在: {aid}")


def row_case(r: tuple) -> dict[str, Any]:
    return {"aftersale_id": r[0], "seq": r[1], "shop_id": r[2], "order_id": r[3], "sku_order_id": r[4],
            "aftersale_type": r[5], "aftersale_status": r[6], "refund_status": r[7], "apply_time": r[8],
            "update_time": r[9], "status_deadline": r[10], "info": json.loads(r[11])}


def load_case(conn: Any, aid: str, shop_id: int | None = None) -> dict[str, Any] | None:
    sql = f"SELECT {COLS} FROM aftersales WHERE aftersale_id=?"
    args: list[Any] = [aid]
    if shop_id is not None:
        sql += " AND shop_id=?"
        args.append(shop_id)
    r = conn.execute(sql, args).fetchone()
    return row_case(r) if r else None


def save_case(conn: Any, c: dict[str, Any]) -> None:
    conn.execute("UPDATE aftersales SET aftersale_status=?, refund_status=?, update_time=?, status_deadline=?, info=?"
                 " WHERE aftersale_id=?", (c["aftersale_status"], c["refund_status"], c["update_time"],
                                           c["status_deadline"], json.dumps(c["info"], ensure_ascii=False),
                                           c["aftersale_id"]))


def line_of(order: dict[str, Any], sku_order_id: str) -> dict[str, Any]:
    return next(s for s in order["sku_order_list"] if s["order_id"] == sku_order_id)


def mirror(s: dict[str, Any], c: dict[str, Any]) -> None:
    s["after_sale_info"] = {"after_sale_status": c["aftersale_status"], "after_sale_type": c["aftersale_type"],
                            "refund_status": c["refund_status"]}


def log_event(c: dict[str, Any], at: int, role: int, action: str, text: str) -> None:
    who = {ROLE_BUYER: "买家", ROLE_MERCHANT: "商家", ROLE_PLATFORM: "平台"}[role]
    c["info"]["logs"].append({"time": at, "role": role, "operator": who, "action": action, "text": text})


def case_msg(sb: Sandbox, c: dict[str, Any], tag: int) -> dict[str, Any]:
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


def change(sb: Sandbox, c: dict[str, Any], new: int, refund: int, now: int, role: int, action: str,
            text: str) -> list[int]:
    """Apply one change to ``c`` in memory (the caller saves case and order); return its push tags."""
    tags = tags_for(c["aftersale_status"], new, c["refund_status"], refund, c["aftersale_type"])
    c["update_time"] = max(now, c["update_time"] + 1)
    c["aftersale_status"], c["refund_status"] = new, refund
    c["status_deadline"] = c["update_time"] + DEADLINE[new] if new in DEADLINE else 0
    if new == 12 and refund == 3:
        c["info"]["real_refund_amount"] = c["info"]["refund_amount"]
    log_event(c, c["update_time"], role, action, text)
    return tags


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
            log_event(c, now, ROLE_BUYER, "apply", f"买家申请{TYPE_TEXT[a_type]}，原因：{REASONS[rc]}，数量{n}")
            conn.execute(f"INSERT INTO aftersales ({COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                         (c["aftersale_id"], seq, c["shop_id"], c["order_id"], c["sku_order_id"], a_type, 6, 1, now,
                          now, c["status_deadline"], json.dumps(c["info"], ensure_ascii=False)))
            mirror(s, c)
            out.append(case_view(c))
            msgs.append(case_msg(sb, c, 200))
        save_order(conn, o)
    push_to_shop(sb, o["shop_id"], msgs)
    return {"order_id": str(order_id), "update_time": ut, "aftersales": out}


def _decide(sb: Sandbox, aid: str, fn) -> dict[str, Any]:
    """Load a case and its order, let ``fn(case, order_line, now)`` change it, save both, push."""
    now = int(sb.now())
    with sb.store.transaction() as conn:
        c = load_case(conn, aid)
        if c is None:
            raise LookupError(f"unknown after-sale {aid}")
        o = load_order(conn, None, int(c["order_id"]))
        if o is None:
            raise LookupError(f"after-sale {aid} points at unknown order {c['order_id']}")
        tags = fn(c, line_of(o, c["sku_order_id"]), now)
        save_case(conn, c)
        mirror(line_of(o, c["sku_order_id"]), c)
        if o["order_status"] == 101 and c["aftersale_type"] == 2 and c["aftersale_status"] == 12:
            # the last unshipped line refunded: nothing is left to send, the order has shipped
            settle_status(conn, o, now)
        touch(o, now)
        save_order(conn, o)
    push_to_shop(sb, c["shop_id"], [case_msg(sb, c, t) for t in tags])
    return dict(case_view(c), tags=[str(t) for t in tags])


def set_status(sb: Sandbox, aid: str, status: int, refund_status: int | None = None) -> dict[str, Any]:
    """A merchant or platform decision (see :data:`.rules.NEXT`)."""

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
        return change(sb, c, status, rs, now, who, act, text)

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
        tags = change(sb, c, 11, 1, now, ROLE_BUYER, "return",
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
        r = conn.execute(f"SELECT {COLS} FROM aftersales WHERE sku_order_id=? AND aftersale_status IN (6, 7, 11)"
                         " ORDER BY seq DESC LIMIT 1", (s["order_id"],)).fetchone()
        if r is None:  # a line marked open without a stored case: refuse on the line only
            s["after_sale_info"] = dict(s["after_sale_info"], after_sale_status=27, refund_status=4)
            continue
        c = row_case(r)
        new = 27 if c["aftersale_status"] == 6 else 29
        tags = change(sb, c, new, 4, now, ROLE_MERCHANT, "refuse", "商家发货，拒绝售后申请")
        save_case(conn, c)
        mirror(s, c)
        msgs += [case_msg(sb, c, t) for t in tags]
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
    return [case_view(row_case(r)) for r in sb.store.all(
        f"SELECT {COLS} FROM aftersales WHERE shop_id=? ORDER BY seq", (shop_id,))]
