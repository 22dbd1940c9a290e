"""Console: the orders workbench (search, filters, keyset pages, batch actions), one order,
and held orders (hold / release)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.domain import names
from fahuo.domain.order_filter import (
    AFTERSALE, DUE_WINDOWS, SORTS, FilterError, OrderFilter, parse_cursor, parse_filter,
)
from fahuo.domain.regions import PROVINCES
from fahuo.entrypoints.web.console.render import (
    HOLD_LABELS, error_page, htmx, render,
)
from fahuo.entrypoints.web.deps import Actor, FahuoDep, SignedIn, UowDep, may_see_receiver
from fahuo.services import read_models, workbench
from fahuo.services.holds import HoldResult, hold_orders, release_orders
from fahuo.services.printing import PrintError

router = APIRouter()
PER_PAGE = 50


def _link(path: str, f: OrderFilter, **extra: str) -> str:
    q = {**f.params(), **{k: v for k, v in extra.items() if v}}
    return path + ("?" + urlencode(q) if q else "")


def _list_context(uow: Any, f: OrderFilter, params: Any, link: Any) -> dict[str, Any]:
    """A keyset page and its links; ``link(**extra)`` is the page's URL with extras."""
    after = parse_cursor("after", params.get("after"))
    before = parse_cursor("before", params.get("before"))
    page = workbench.list_page(uow, f, after=after, before=before, limit=PER_PAGE)
    return {"page": page, "f": f, "params": f.params(),
            "next_url": link(after=str(page.next)) if page.next else "",
            "prev_url": link(before=str(page.prev)) if page.prev else "",
            "first_url": link() if page.prev else "", "self_url": link()}


def _form_context(uow: Any) -> dict[str, Any]:
    return {"shops": read_models.shops(uow), "SORTS": SORTS, "DUE": DUE_WINDOWS,
            "AFTERSALE": AFTERSALE, "COURIERS": names.COURIER, "PROVINCES": PROVINCES,
            "ACTIONS": workbench.ACTIONS, "REASONS": HOLD_LABELS, "FIELDS": _FIELDS}


_FIELDS = {"q": "搜索", "shop": "店铺", "state": "状态", "hold": "挂起原因", "courier": "快递",
           "printed": "已打印", "confirmed": "已回传", "due": "截止时间",
           "paid_from": "付款时间（起）", "paid_to": "付款时间（止）",
           "amount_min": "金额（最低）", "amount_max": "金额（最高）", "province": "省份",
           "aftersale": "售后", "presale": "预售", "sort": "排序"}


@router.get("/orders")
def orders_page(request: Request, uow: UowDep) -> HTMLResponse:
    params = request.query_params
    ctx: dict[str, Any] = {**_form_context(uow), "raw": dict(params), "error": None}
    try:
        f = parse_filter(params)
        ctx.update(_list_context(uow, f, params,
                                 lambda **extra: _link("/orders", f, **extra)))
    except FilterError as exc:
        ctx.update(error=str(exc), error_field=exc.field, f=OrderFilter(), params={},
                   page=None)
        status = 200 if htmx(request) else 422
        return render(request, "orders_table.html" if htmx(request) else "orders.html", ctx,
                      status_code=status)
    return render(request, "orders_table.html" if htmx(request) else "orders.html", ctx)


@router.post("/orders/batch")
async def orders_batch(request: Request, fh: FahuoDep, user: SignedIn, actor: Actor
                       ) -> Response:
    """A batch action on the orders ticked or every order the filter matches: first a
    preview (how many, which action), then, confirmed, the result per order."""
    form = await request.form()
    flat = {k: str(v) for k, v in form.items() if k != "order_id"}
    ticked = [str(v) for v in form.getlist("order_id")]
    action = flat.get("action", "")
    all_matching = flat.get("all") == "1"
    ctx: dict[str, Any] = {"action": action, "ACTIONS": workbench.ACTIONS, "note":
                           flat.get("note", ""), "reason": flat.get("reason", ""),
                           "all": all_matching, "REASONS": HOLD_LABELS}
    try:
        workbench.check_action(action)
        f = parse_filter(flat)
        ids = workbench.selection(fh.uow, f, ticked, all_matching)
    except FilterError as exc:
        return render(request, "orders_batch.html", {**ctx, "error": str(exc),
                                                     "back": "/orders"}, status_code=400)
    ctx.update(f=f, params=f.params(), ids=ids, count=len(ids),
               back=_link("/orders", f))
    if flat.get("confirm") != "1":
        return render(request, "orders_batch.html", {**ctx, "preview": True})
    try:
        res = workbench.run_batch(
            fh.uow, fh.platform_for, action, ids, actor=actor, note=flat.get("note", ""),
            reason=flat.get("reason", ""), out_dir=fh.settings.data_dir / "prints",
            may_see_receiver=may_see_receiver(user),
            plain_keep_s=fh.settings.plain_label_keep_s)
    except (PrintError, ValueError) as exc:
        return render(request, "orders_batch.html", {**ctx, "preview": True,
                                                     "error": str(exc)}, status_code=400)
    if res.export is not None:
        from fahuo.adapters.files.order_export import orders_xlsx
        data = orders_xlsx(*res.export)
        return Response(data, media_type="application/vnd.openxmlformats-officedocument."
                        "spreadsheetml.sheet", headers={
                            "Content-Disposition": "attachment; filename=\"orders.xlsx\"; "
                            "filename*=UTF-8''" + quote("订单导出.xlsx")})
    plan = res.labels
    ctx.update(res=res, file_url="", component_url="")
    if plan is not None and plan.result is not None:
        ctx["file_url"] = f"/print/file/{plan.result.batch_id}"
    if plan is not None and plan.platform:
        ctx["component_url"] = "/print/component?packs=" + ",".join(map(str, plan.platform))
    if res.document is not None:
        ctx["file_url"] = f"/print/file/{res.document.batch_id}"
    return render(request, "orders_batch.html", ctx)


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
    try:
        f = OrderFilter(state="held", hold=reason or None)
        ctx = _list_context(uow, f, request.query_params, lambda **extra: "/holds?" + urlencode(
            {k: v for k, v in {"reason": reason, **extra}.items() if v}))
    except FilterError as exc:
        return error_page(request, str(exc), 400)
    return render(request, "holds.html", {**ctx, "msg": msg, "REASONS": HOLD_LABELS,
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
