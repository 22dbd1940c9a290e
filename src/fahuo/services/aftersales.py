"""After-sale cases: kept current from ``afterSale.List``; returns tracked, received and
inspected into stock.

A refund *before* shipment is stopped by the pipeline itself (the order's lines carry the
after-sale status; see ``Pipeline.confirm`` and scan-to-ship). Here: the case list, return
parcels and receipts; the after-shipment interception the sync offers and follows is
``intercepts`` (``intercept``, ``follow_intercepts``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

import orjson

from fahuo.domain.aftersales import goods_come_back, receipt_problems
from fahuo.domain.couriers import courier_code
from fahuo.domain.orders import RETURNABLE, OrderState
from fahuo.domain.packs import units_sent
from fahuo.domain.stock import expand
from fahuo.domain.tracking import Tracker
from fahuo.domain.watch import WatchRules, next_poll_at
from fahuo.services.intercepts import AfterSaleError, follow_in, labels, offer_intercepts
from fahuo.services.ports import Carriers, PlatformFactory, UowFactory
from fahuo.services.stock.lines import StockInputError, StockLine
from fahuo.services.stock.moves import move_stock_in
from fahuo.services.stock.orders import follow_lines_in

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

CURSOR = "aftersales"
OPEN = {6, 7, 8, 11, 13, 27}      # waiting on someone (27: refused once, buyer may appeal)
FIRST_SYNC_DAYS = 7
OVERLAP_S, LAG_S = 120, 3


@dataclass
class AfterSaleReport:
    cases: int = 0
    offered: int = 0
    returns_tracked: int = 0
    intercept_outcomes: int = 0
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
        # afterSale.List gives the buyer's reason only as text (text_part.reason_text)
        "reason": str((item.get("text_part") or {}).get("reason_text") or "")[:64],
        "stage": "after_ship" if shipped else "before_ship",
        # afterSale.List names the return courier (e.g. 圆通快递), it gives no code
        "return_company": courier_code(str(info.get("return_logistics_company_name") or ""))
        or "",
        "return_tracking_no": str(info.get("return_logistics_code") or ""),
        "apply_time": info.get("apply_time"), "update_time": int(info.get("update_time") or 0),
        "closed_at": None if status in OPEN else int(info.get("update_time") or time.time()),
    }


def _case_lines(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The units the case is about, per line (aftersale_item_num; a one-line case without it
    takes aftersale_num, else the line's item_num)."""
    info, order = item.get("aftersale_info") or {}, item.get("order_info") or {}
    related = [r for r in order.get("related_order_info") or [] if r.get("sku_order_id")]
    out = []
    for r in related:
        units = r.get("aftersale_item_num")
        if units in (None, "") and len(related) == 1:
            units = info.get("aftersale_num")
        if units in (None, ""):
            units = r.get("item_num")
        try:
            n = int(units or 0)
        except (TypeError, ValueError):
            n = 0
        out.append({"aftersale_id": str(info.get("aftersale_id")),
                    "sku_order_id": str(r["sku_order_id"]), "units": max(0, n)})
    return out


def sync_after_sales(uow: UowFactory, platform_for: PlatformFactory, shop_ref: int,
                     now: int | None = None, *, carriers: Carriers) -> AfterSaleReport:
    """Read cases changed since the cursor (page by page), then offer interceptions."""
    now = int(now or time.time())
    r = AfterSaleReport()
    with uow() as u:
        shop = u.shops.get(shop_ref)
        start = u.cursors.get(shop_ref, CURSOR)
    if shop is None:
        raise AfterSaleError(f"没有店铺 #{shop_ref}")
    start = (start - OVERLAP_S) if start else now - FIRST_SYNC_DAYS * 86400
    end = now - LAG_S
    api = platform_for(shop)
    rows: dict[str, dict[str, Any]] = {}
    units: dict[str, list[dict[str, Any]]] = {}
    page = 0
    while True:
        got = api.after_sales(update_start=start, update_end=end, page=page)
        for item in got.items:
            row = _case_row(shop_ref, item)
            if row["aftersale_id"] != "None":
                rows[row["aftersale_id"]] = row
                units[row["aftersale_id"]] = _case_lines(item)
        if not got.has_more or not got.items:
            break
        page += 1
    with uow() as u:
        if rows:
            u.aftersales.upsert_cases(list(rows.values()))
            u.aftersales.set_lines([ln for ls in units.values() for ln in ls])
            # a refund agreed before shipment gives its units back now (partial ones too)
            follow_lines_in(u, u.aftersales.order_ids_of(rows), actor="aftersales")
        r.offered = offer_intercepts(u)
        r.returns_tracked = _track_returns(u, now, carriers.fallback.name)
        r.intercept_outcomes = follow_in(u, shop_ref, labels(carriers))
        u.cursors.advance(shop_ref, end, len(rows), kind=CURSOR)
    r.cases = len(rows)
    return r


def _track_returns(u: UnitOfWork, now: int, source: str) -> int:
    """The buyer's return parcel gets a tracker like any other parcel (tracked by ``source``,
    the registry's fallback: no account knows the buyer's parcel), first polled when the
    shop's tracking rules say a new parcel is (``watch_rules``, as for outgoing parcels)."""
    rows = u.aftersales.returns_not_received()
    if not rows:
        return 0
    known = u.tracking.tracked_numbers([r["return_tracking_no"] for r in rows])
    rules: dict[int, WatchRules] = {}
    new = []
    for r in rows:
        if r["return_tracking_no"] in known:
            continue
        if r["shop_ref"] not in rules:
            rules[r["shop_ref"]] = WatchRules.from_dict(
                u.settings.get(r["shop_ref"]).get("watch_rules") or {})
        tracker = Tracker(track_no=r["return_tracking_no"],
                          courier=r["return_company"] or "unknown", created_at=now)
        new.append({"shop_ref": r["shop_ref"], "pack_id": None, "order_id": r["order_id"],
                    "courier_code": tracker.courier, "track_no": tracker.track_no,
                    "source": source, "phone_tail": "", "state": tracker.state.value,
                    "shipped_at": now, "subscribed": False, "poll_attempts": 0,
                    "next_poll_at": next_poll_at(tracker, False, 0, rules[r["shop_ref"]], now)})
    return u.tracking.add_trackers(new)


def list_cases(uow: UowFactory, *, status: str = "open", stage: str | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    with uow(readonly=True) as u:
        bundles = u.stock.bundles()
        return [r | {"sku_order_ids": orjson.loads(r["sku_order_ids"]),
                     **_received(r["received_lines"], bundles)}
                for r in u.aftersales.list_cases(status=status, stage=stage, limit=limit)]


def _received(stored: str, bundles: dict[str, dict[str, int]]) -> dict[str, Any]:
    """What came back as it was named (a bundle as bundles), for lists and screens."""
    lines = orjson.loads(stored or "{}")

    def text(kind: str) -> str:
        return "、".join(f"{c}×{q}" + ("（组套）" if c in bundles else "")
                        for c, q in (lines.get(kind) or {}).items())
    return {"received_lines": lines, "received_good": text("good"),
            "received_damaged": text("damaged")}


def receive_return(uow: UowFactory, aftersale_id: str, *, good: dict[str, int],
                   damaged: dict[str, int], actor: str) -> dict[str, Any]:
    """The return parcel arrived and was inspected: good units back on hand, damaged ones to
    damaged; the case is closed on fahuo's side. Only a case that brings goods back may
    receive, and each code at most what the order sent out less what came back already
    (``domain.aftersales``): a return cannot invent stock. Checked and applied in one
    transaction under the order's lock, so two receipts of one order cannot both pass."""
    asked_good = {c.strip(): q for c, q in good.items() if q}
    asked_damaged = {c.strip(): q for c, q in damaged.items() if q}
    bad = sorted(f"{c}={q}" for c, q in {**good, **damaged}.items()
                 if isinstance(q, bool) or not isinstance(q, int) or q < 0)
    if bad:
        raise AfterSaleError(f"数量必须是不小于 0 的整数：{', '.join(bad)}")
    if not asked_good and not asked_damaged:
        raise AfterSaleError("请填写收回的良品和残次数量（至少一件）")
    now = int(time.time())
    try:
        with uow() as u:  # the check, stock and the case move together, or not at all
            case = u.aftersales.case(aftersale_id)
            if case is None:
                raise AfterSaleError(f"没有售后单 {aftersale_id}")
            u.pipeline.lock_orders([case["order_id"]])
            if case["received_at"]:
                raise AfterSaleError(f"售后单 {aftersale_id} 的退货已经收过货了")
            why = goods_come_back(case["aftersale_type"], case["intercept_state"])
            if why:
                raise AfterSaleError(f"售后单 {aftersale_id} 不能收货入库：{why}")
            subs = orjson.loads(case["sku_order_ids"])
            loaded = u.pipeline.load_orders([case["order_id"]])
            bundles = u.stock.bundles()
            order = loaded[case["order_id"]][2] if case["order_id"] in loaded else None
            lines = [s for s in (order.sub_orders if order else [])
                     if s.sku_order_id in subs or not subs]
            codes = {s.merchant_code for s in lines}
            # A bundle comes back as its parts: either may be named, stock is kept for parts.
            codes |= {part for c in codes for part in bundles.get(c, {})}
            good_parts = expand(asked_good.items(), bundles)
            damaged_parts = expand(asked_damaged.items(), bundles)
            unknown = sorted((set(good_parts) | set(damaged_parts)) - codes)
            if unknown:
                raise AfterSaleError(
                    f"这些编码不在售后单 {aftersale_id} 的商品里：{'、'.join(unknown)}"
                    f"（售后商品：{'、'.join(sorted(codes)) or '无'}）")
            asked = {c: good_parts.get(c, 0) + damaged_parts.get(c, 0)
                     for c in set(good_parts) | set(damaged_parts)}
            problems = receipt_problems(
                asked, _sent_units(u, case["order_id"], order, bundles),
                u.stock.returned_units(u.aftersales.case_ids_of_order(case["order_id"])))
            if problems:
                raise AfterSaleError(f"售后单 {aftersale_id} 不能收货入库：" + "；".join(problems))
            # Claim the case: a second click or a second screen finds it taken.
            if not u.aftersales.claim_receipt(aftersale_id, now):
                raise AfterSaleError(f"售后单 {aftersale_id} 的退货已经收过货了")
            if good_parts:
                move_stock_in(u, "return_good", [StockLine(c, q) for c, q in good_parts.items()],
                              actor=actor, ref_type="return", ref_id=aftersale_id,
                              reason="退货入库")
            if damaged_parts:
                move_stock_in(u, "return_damaged",
                              [StockLine(c, q) for c, q in damaged_parts.items()], actor=actor,
                              ref_type="return", ref_id=aftersale_id, reason="退货残次")
            named = {"good": asked_good, "damaged": asked_damaged}  # as people see it: bundles stay
            u.aftersales.close_receipt(aftersale_id, received_at=now,
                                       good_qty=sum(good_parts.values()),  # stock units (parts)
                                       damaged_qty=sum(damaged_parts.values()),
                                       received_lines=orjson.dumps(named).decode(), closed_at=now)
            # the goods are back with the merchant (a partly shipped order stays so)
            u.pipeline.move_orders_from([case["order_id"]], RETURNABLE, OrderState.RETURNED)
            u.audit.add(actor=actor, action="aftersale.receive", subject_type="aftersale",
                        subject_id=aftersale_id,
                        detail={"good": good_parts, "damaged": damaged_parts})
    except StockInputError as exc:
        raise AfterSaleError(str(exc)) from exc
    return {"aftersale_id": aftersale_id, "good": good_parts, "damaged": damaged_parts}


def _sent_units(u: UnitOfWork, order_id: str, order: Any,
                bundles: dict[str, dict[str, int]]) -> dict[str, int]:
    """Stock units (bundles as parts) the order sent to the buyer, per code."""
    if order is None:
        return {}
    packs = [p["id"] for p in u.pipeline.packs_of_orders([order_id]) if p["state"] == "confirmed"]
    in_packs: dict[str, int] = {}
    for ls in u.pipeline.lines(packs).values():
        for ln in ls:
            if ln["order_id"] == order_id:
                in_packs[ln["sku_order_id"]] = in_packs.get(ln["sku_order_id"], 0) + ln["quantity"]
    return expand(((s.merchant_code, units_sent(s, in_packs.get(s.sku_order_id, 0)))
                   for s in order.sub_orders if s.merchant_code), bundles)


__all__ = ["AfterSaleError", "AfterSaleReport", "list_cases", "receive_return",
           "sync_after_sales"]
