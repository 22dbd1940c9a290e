"""Console: the order list, one order, and held orders (hold / release)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.entrypoints.web.console.render import (
    HOLD_LABELS, STATE_LABELS, error_page, htmx, render,
)
from fahuo.entrypoints.web.deps import Actor, UowDep
from fahuo.services import read_models
from fahuo.services.holds import HoldResult, hold_orders, release_orders

router = APIRouter()
PER_PAGE = 50


@router.get("/orders")
def orders_page(request: Request, uow: UowDep, state: str = "", shop: str = "",
                page: int = 1, sort: str = "deadline") -> HTMLResponse:
    page = max(1, page)
    state_v = state if state in STATE_LABELS else None
    shop_v = int(shop) if shop.isdigit() else None
    sort = sort if sort in ("deadline", "updated", "created") else "deadline"
    with uow() as u:
        total, rows = u.orders.search(shop_ref=shop_v, state=state_v, limit=PER_PAGE,
                                      offset=(page - 1) * PER_PAGE, sort=sort)
    ctx = {"rows": rows, "total": total, "page": page,
           "pages": max(1, -(-total // PER_PAGE)), "state": state_v or "",
           "shop": shop_v or "", "sort": sort, "shops": read_models.shops(uow)}
    return render(request, "orders_table.html" if htmx(request) else "orders.html", ctx)


@router.get("/orders/{order_id}")
def order_page(request: Request, uow: UowDep, order_id: str) -> HTMLResponse:
    detail = read_models.order_detail(uow, order_id)
    if detail is None:
        return error_page(request, f"订单 {order_id} 不存在", 404)
    return render(request, "order.html", {
        "o": detail.order, "history": detail.history, "holds": detail.holds,
        "packs": detail.packs, "REASONS": HOLD_LABELS})


@router.get("/holds")
def holds_page(request: Request, uow: UowDep, msg: str = "", reason: str = "") -> HTMLResponse:
    if reason and reason not in HOLD_LABELS:
        return error_page(request, f"未知的挂起原因：{reason}", 400)
    with uow() as u:
        rows = u.pipeline.held_orders(limit=500, reason=reason or None)
    return render(request, "holds.html", {"rows": rows, "msg": msg, "REASONS": HOLD_LABELS,
                                          "reason": reason})


@router.post("/holds")
async def holds_act(request: Request, uow: UowDep, actor: Actor) -> Response:
    form = await request.form()
    ids = [str(v) for v in form.getlist("order_id") if str(v).isdigit()]
    action, note = str(form.get("action", "")), str(form.get("note", ""))
    if not ids:
        return RedirectResponse("/holds?msg=" + quote("没有选择订单"), status_code=303)
    res: HoldResult | None
    if action == "release":
        res = release_orders(uow, ids, actor=actor, note=note)
        msg = f"已放行 {len(res.changed)} 单"
    else:
        try:
            res = hold_orders(uow, ids, note, actor=actor)
            msg = f"已挂起 {len(res.changed)} 单"
        except ValueError as exc:
            msg = str(exc)
            res = None
    if res and res.refused:
        msg += "；未处理: " + "，".join(f"{k}({v})" for k, v in res.refused.items())
    return RedirectResponse("/holds?msg=" + quote(msg), status_code=303)
