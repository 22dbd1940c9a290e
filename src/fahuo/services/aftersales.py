"""After-sale cases: kept current from ``afterSale.List``; interception offered when the buyer
wants money back for a parcel already on its way; returns received and inspected into stock.

A refund *before* shipment is stopped by the pipeline itself (the order's lines carry the
after-sale status; see ``Pipeline.confirm`` and scan-to-ship). Here: the case list, the
after-shipment interception (Douyin ``afterSale.applyLogisticsIntercept``) and returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from sqlalchemy import select, update

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.adapters.store import models as m
from fahuo.adapters.store.repositories import _insert
from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.couriers import courier_code
from fahuo.domain.stock import expand
from fahuo.services.ports import PlatformFactory
from fahuo.services.stock import StockInputError, StockLine, move_stock_in

log = structlog.get_logger(__name__)
UowFactory = Callable[..., UnitOfWork]
CURSOR = "aftersales"
OPEN = {6, 7, 8, 11, 13, 27}      # waiting on someone (27: refused once, buyer may appeal)
# The buyer wants money back and the parcel is still the courier's to turn round (at 11 the
# buyer has sent the goods back already: nothing left to intercept).
REFUND_WANTED = {6, 7}
FIRST_SYNC_DAYS = 7
OVERLAP_S, LAG_S = 120, 3


class AfterSaleError(ValueError):
    """Bad input for an after-sale action; names what is wrong."""


@dataclass
class AfterSaleReport:
    cases: int = 0
    offered: int = 0
    returns_tracked: int = 0
    notes: list[str] = field(default_factory=list)


def _case_row(shop_ref: int, item: dict[str, Any]) -> dict[str, Any]:
    info, order = item.get("aftersale_info") or {}, item.get("order_info") or {}
    related = order.get("related_order_info") or []
    shipped = any(int(r.get("order_status") or 0) in (3, 5, 255) for r in related)
    status = int(info.get("aftersale_status") or 0)
    return {
        "aftersale_id": str(info.get("aftersale_id")), "shop_ref": shop_ref,
        "order_id": str(order.get("shop_order_id") or ""),
        "sku_order_ids": orjson.dumps([str(r.get("sku_order_id")) for r in related]).decode(),
        "aftersale_type": int(info.get("aftersale_type") or 0), "aftersale_status": status,
        "refund_status": info.get("refund_status"),
        "refund_amount": int(info.get("refund_amount") or 0),
        "stage": "after_ship" if shipped else "before_ship",
        # afterSale.List names the return courier (e.g. 圆通快递), it gives no code
        "return_company": courier_code(str(info.get("return_logistics_company_name") or ""))
        or "",
        "return_tracking_no": str(info.get("return_logistics_code") or ""),
        "apply_time": info.get("apply_time"), "update_time": int(info.get("update_time") or 0),
        "closed_at": None if status in OPEN else int(info.get("update_time") or time.time()),
    }


def sync_after_sales(uow: UowFactory, platform_for: PlatformFactory, shop_ref: int,
                     now: int | None = None) -> AfterSaleReport:
    """Read cases changed since the cursor (page by page), then offer interceptions."""
    now = int(now or time.time())
    r = AfterSaleReport()
    with uow() as u:
        shop = u.shops.get(shop_ref)
        start = u.cursors.get(shop_ref, CURSOR)
    if shop is None:
        raise AfterSaleError(f"no shop {shop_ref}")
    start = (start - OVERLAP_S) if start else now - FIRST_SYNC_DAYS * 86400
    end = now - LAG_S
    api = platform_for(shop)
    rows: dict[str, dict[str, Any]] = {}
    page = 0
    while True:
        got = api.after_sales(update_start=start, update_end=end, page=page)
        for item in got.items:
            row = _case_row(shop_ref, item)
            if row["aftersale_id"] != "None":
                rows[row["aftersale_id"]] = row
        if not got.has_more or not got.items:
            break
        page += 1
    with uow() as u:
        if rows:
            stmt = _insert(u.conn, m.after_sales)
            keep = ("intercept_state", "intercept_detail", "received_at", "good_qty",
                    "damaged_qty")
            stmt = stmt.on_conflict_do_update(index_elements=["aftersale_id"], set_={
                c.name: stmt.excluded[c.name] for c in m.after_sales.c
                if c.name not in keep and c.name != "aftersale_id"})
            u.conn.execute(stmt, [{**x, "intercept_state": "", "intercept_detail": ""}
                                  for x in rows.values()])
        r.offered = _offer_intercepts(u)
        r.returns_tracked = _track_returns(u, now)
        u.cursors.advance(shop_ref, end, len(rows), kind=CURSOR)
    r.cases = len(rows)
    return r


def _offer_intercepts(u: UnitOfWork) -> int:
    """A refund wanted for a parcel still travelling: offer to call it back."""
    a, t = m.after_sales, m.trackers
    cases = list(u.conn.execute(select(a.c.aftersale_id, a.c.order_id).where(
        a.c.stage == "after_ship", a.c.intercept_state == "", a.c.closed_at.is_(None),
        a.c.aftersale_status.in_(sorted(REFUND_WANTED)), a.c.aftersale_type.in_((0, 1)))))
    if not cases:
        return 0
    delivered = set(u.conn.execute(select(t.c.order_id).where(
        t.c.order_id.in_([c.order_id for c in cases]),
        t.c.state.in_(("delivered", "returned", "returning")))).scalars())
    offer = [c.aftersale_id for c in cases if c.order_id not in delivered]
    if offer:
        u.conn.execute(update(a).where(a.c.aftersale_id.in_(offer)).values(
            intercept_state="offered", intercept_detail="买家已申请退款，包裹仍在途：可拦截"))
    return len(offer)


def _track_returns(u: UnitOfWork, now: int) -> int:
    """The buyer's return parcel gets a tracker like any other parcel."""
    a = m.after_sales
    rows = list(u.conn.execute(select(a).where(a.c.return_tracking_no != "",
                                               a.c.received_at.is_(None))))
    if not rows:
        return 0
    known = set(u.conn.execute(select(m.trackers.c.track_no).where(
        m.trackers.c.track_no.in_([r.return_tracking_no for r in rows]))).scalars())
    new = [{"shop_ref": r.shop_ref, "pack_id": None, "order_id": r.order_id,
            "courier_code": r.return_company or "unknown", "track_no": r.return_tracking_no,
            "source": "douyin", "phone_tail": "", "state": "info_received", "shipped_at": now,
            "subscribed": False, "poll_attempts": 0, "next_poll_at": now + 1800}
           for r in rows if r.return_tracking_no not in known]
    return u.tracking.add_trackers(new)


def list_cases(uow: UowFactory, *, status: str = "open", stage: str | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    a = m.after_sales
    q = select(a).order_by(a.c.update_time.desc()).limit(limit)
    if status == "open":
        q = q.where(a.c.closed_at.is_(None))
    elif status == "closed":
        q = q.where(a.c.closed_at.is_not(None))
    elif status == "intercept":
        q = q.where(a.c.intercept_state != "")
    if stage:
        q = q.where(a.c.stage == stage)
    with uow(readonly=True) as u:
        return [dict(r._mapping) | {"sku_order_ids": orjson.loads(r.sku_order_ids)}
                for r in u.conn.execute(q)]


def _case(u: UnitOfWork, aftersale_id: str) -> dict[str, Any]:
    row = u.conn.execute(select(m.after_sales).where(
        m.after_sales.c.aftersale_id == aftersale_id)).first()
    if row is None:
        raise AfterSaleError(f"no after-sale case {aftersale_id}")
    return dict(row._mapping)


def intercept(uow: UowFactory, platform_for: PlatformFactory, aftersale_id: str, *,
              actor: str) -> dict[str, Any]:
    """Ask the courier, through the platform, to bring the parcel(s) back."""
    with uow(readonly=True) as u:
        case = _case(u, aftersale_id)
        if case["stage"] != "after_ship":
            raise AfterSaleError("the order has not shipped: the pipeline stops it, no "
                                 "interception needed")
        packs = [p for p in u.pipeline.packs_of_orders([case["order_id"]])
                 if p["state"] == "confirmed" and p["track_no"]]
        shop = u.shops.get(case["shop_ref"])
    if not packs:
        raise AfterSaleError(f"order {case['order_id']} has no shipped parcel in fahuo")
    try:
        res = platform_for(shop).apply_intercept(aftersale_id, [(p["courier_code"],
                                                                 p["track_no"]) for p in packs])
        results = res.get("intercept_results") or []
        ok = bool(results) and all(x.get("is_success") for x in results)
        why = "；".join(str(x.get("unavailable_reason") or "") for x in results
                       if not x.get("is_success"))
        state = "requested" if ok else ("unavailable" if any(
            x.get("can_intercept") is False for x in results) else "failed")
        detail = ("已提交拦截" + (f"，费用 {sum(int(x.get('intercept_cost') or 0) for x in results) / 100:.2f} 元"
                                  if ok else "")) if ok else f"拦截失败：{why or res}"
    except DoudianError as exc:
        state, detail = "failed", f"拦截失败：{exc}"
    with uow() as u:
        u.conn.execute(update(m.after_sales).where(
            m.after_sales.c.aftersale_id == aftersale_id).values(
            intercept_state=state, intercept_detail=detail))
        u.audit.add(actor=actor, action="aftersale.intercept", subject_type="aftersale",
                    subject_id=aftersale_id, detail={"state": state, "detail": detail})
    return {"aftersale_id": aftersale_id, "intercept_state": state, "detail": detail}


def receive_return(uow: UowFactory, aftersale_id: str, *, good: dict[str, int],
                   damaged: dict[str, int], actor: str) -> dict[str, Any]:
    """The return parcel arrived and was inspected: good units back on hand, damaged ones to
    damaged; the case is closed on fahuo's side."""
    with uow(readonly=True) as u:
        case = _case(u, aftersale_id)
        if case["received_at"]:
            raise AfterSaleError(f"return {aftersale_id} was already received")
        subs = orjson.loads(case["sku_order_ids"])
        loaded = u.pipeline.load_orders([case["order_id"]])
        bundles = u.stock.bundles()
    codes = {s.merchant_code for _, _, o in loaded.values() for s in o.sub_orders
             if s.sku_order_id in subs or not subs}
    # A bundle comes back as its parts: either may be named, stock is kept for the parts.
    codes |= {part for c in codes for part in bundles.get(c, {})}
    good = expand(good.items(), bundles)
    damaged = expand(damaged.items(), bundles)
    unknown = sorted((set(good) | set(damaged)) - codes)
    if unknown:
        raise AfterSaleError(f"SKU codes not in this order: {', '.join(unknown)} "
                             f"(order lines: {', '.join(sorted(codes)) or 'none'})")
    if not any(good.values()) and not any(damaged.values()):
        raise AfterSaleError("say how many units came back good and how many damaged")
    now = int(time.time())
    try:
        with uow() as u:  # stock and the case move together, or not at all
            # Claim the case first: a second click or a second screen finds it taken.
            claimed = u.conn.execute(update(m.after_sales).where(
                m.after_sales.c.aftersale_id == aftersale_id,
                m.after_sales.c.received_at.is_(None)).values(received_at=now)).rowcount
            if not claimed:
                raise AfterSaleError(f"return {aftersale_id} was already received")
            if any(good.values()):
                move_stock_in(u, "return_good", [StockLine(c, q) for c, q in good.items() if q],
                              actor=actor, ref_type="return", ref_id=aftersale_id,
                              reason="退货入库")
            if any(damaged.values()):
                move_stock_in(u, "return_damaged",
                              [StockLine(c, q) for c, q in damaged.items() if q], actor=actor,
                              ref_type="return", ref_id=aftersale_id, reason="退货残次")
            u.conn.execute(update(m.after_sales).where(
                m.after_sales.c.aftersale_id == aftersale_id).values(
                received_at=now, good_qty=sum(good.values()),
                damaged_qty=sum(damaged.values()), closed_at=now))
            u.audit.add(actor=actor, action="aftersale.receive", subject_type="aftersale",
                        subject_id=aftersale_id, detail={"good": good, "damaged": damaged})
    except StockInputError as exc:
        raise AfterSaleError(str(exc)) from exc
    return {"aftersale_id": aftersale_id, "good": good, "damaged": damaged}


__all__ = ["AfterSaleError", "AfterSaleReport", "intercept", "list_cases", "receive_return",
           "sync_after_sales"]
