"""``afterSale.applyLogisticsIntercept`` (§12.4): per-parcel interception of a case's order, and the
couriers the admin marks as outside the platform's interception service."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..core import ApiError
from ..gateway import Ctx, api_method
from ..methods import COMPANY_BY_CODE
from ..orders import load_order
from ..params import bad, id_param, missing, p_int
from .cases import ROLE_MERCHANT, ROLE_PLATFORM, load_case, log_event, not_found
from .parcels import parcel_state, parcels_of
from .rules import STATUS_TEXT

if TYPE_CHECKING:
    from ..core import Sandbox


INTERCEPTABLE = {6, 7}  # the buyer wants the money back and the case is not settled


INTERCEPT_COST = {"shunfeng": 500}  # fen; everything else 300
DEFAULT_INTERCEPT_COST = 300
TARGETS_MAX = 20


# Sandbox choice: the reason given for a courier the admin marked as outside the platform's
# interception service (``POST /sandbox/aftersales/intercept_unsupported``).
UNSUPPORTED_REASON = (7, "该物流公司暂不支持平台拦截，请联系快递公司")


def set_intercept_unsupported(sb: Sandbox, codes: Any) -> list[str]:
    """Replace the couriers whose parcels the platform will not intercept (reason 7)."""
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise ValueError("company_codes must be a list of courier codes")
    unknown = sorted(set(codes) - set(COMPANY_BY_CODE))
    if unknown:
        raise ValueError(f"unknown company_codes {unknown}")
    sb.intercept_unsupported = set(codes)
    return sorted(sb.intercept_unsupported)


def refused(msg: str) -> ApiError:
    return ApiError(50002, "isv.business-failed:13", msg)


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
        c = load_case(conn, aid, ctx.shop)
        if c is None:
            raise not_found(aid)
        if c["aftersale_status"] not in INTERCEPTABLE:
            raise refused(f"售后单当前状态不支持拦截: {STATUS_TEXT[c['aftersale_status']]}（仅{sorted(INTERCEPTABLE)}）")
        o = load_order(conn, ctx.shop, int(c["order_id"]))
        if o is None:
            raise not_found(aid)
        parcels = {pk["tracking_no"]: pk for pk in parcels_of(o)}
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
                step, _ = parcel_state(sb, tn)
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
                log_event(c, now, ROLE_MERCHANT if op_from == 1 else ROLE_PLATFORM, "intercept",
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
