"""API: orders, their counts by state, and holds (hold / release by people)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from fahuo.domain.names import HOLD_REASON
from fahuo.domain.order_filter import FilterError, parse_cursor, parse_filter
from fahuo.domain.orders import OrderState
from fahuo.entrypoints.web.deps import (
    MAX_ID, Actor, FahuoDep, SignedIn, UowDep, may_see_receiver,
)
from fahuo.services import read_models, workbench
from fahuo.services.printing import PrintError
from fahuo.services.today import today
from fahuo.services.holds import hold_orders, release_orders

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class OrdersAct(BaseModel):
    order_ids: list[Annotated[str, Field(pattern=r"^\d{1,32}$")]] = Field(min_length=1,
                                                                            max_length=5000)
    note: str = Field("", max_length=500)


class OrdersHold(OrdersAct):
    note: str = Field(min_length=1, max_length=500, pattern=r"\S",
                      description="why: shown to whoever releases it")


class Parcel(BaseModel):
    pack_id: int
    state: str
    courier_code: str | None
    track_no: str | None
    labels_printed: int


class HoldTag(BaseModel):
    reason: str
    reason_name: str
    detail: str


class OrderSummary(BaseModel):
    order_id: str
    shop_ref: int
    state: str
    order_status: int
    create_time: int
    pay_time: int | None
    update_time: int | None = None
    exp_ship_time: int | None
    pay_amount: int
    buyer_words: str
    seller_words: str
    receiver_name_mask: str
    receiver_phone_mask: str
    province: str
    city: str
    district: str
    products: str | None = Field(None, description="first item + 等 N 件 (workbench pages)")
    parcels: list[Parcel] = []
    print_state: str | None = None
    countdown: str | None = Field(None, description="time left to ship, in Chinese")
    holds: list[HoldTag] = []


class OrderList(BaseModel):
    total: int
    items: list[OrderSummary]
    next: str | None = Field(None, description="pass as after= for the next page")
    prev: str | None = Field(None, description="pass as before= for the page before")


class BatchBody(BaseModel):
    """The orders named, or (``all_matching``) every order the filter matches."""

    action: Literal["print_labels", "picklist", "slips", "hold", "release", "export"]
    order_ids: list[Annotated[str, Field(pattern=r"^\d{1,32}$")]] = Field(
        [], max_length=workbench.MAX_BATCH)
    all_matching: bool = False
    filter: dict[str, str] = Field({}, description="the GET /api/orders filter parameters")
    note: str = Field("", max_length=500)
    reason: str = Field("", max_length=500, description="reprint reason")
    preview: bool = Field(False, description="only count what the action would take")


def _unprocessable(exc: FilterError) -> JSONResponse:
    loc = ["query", exc.field]
    return JSONResponse(status_code=422, content={
        "detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}],
        "message": str(exc), "fields": [exc.field]})


_FILTER_NAMES = ("q", "hold", "courier", "printed", "confirmed", "due", "paid_from", "paid_to",
                 "amount_min", "amount_max", "province", "aftersale", "presale")


@router.get("/orders", response_model=OrderList,
            responses={422: {"description": "a bad filter, named in Chinese"}})
def list_orders(request: Request, uow: UowDep, shop: int | None = Query(None, ge=1, le=MAX_ID),
                state: OrderState | None = None,
                order_status: int | None = Query(None, ge=0, le=1000),
                sort: str = Query("deadline", pattern="^(deadline|paid|amount|updated|created)$"),
                limit: int = Query(50, ge=1, le=500),
                offset: int = Query(0, ge=0, le=10_000_000),
                q: str = Query("", max_length=200, description="search: order, sub-order or "
                               "tracking number, phone tail, masked name, SKU code, title, "
                               "remarks"),
                hold: str = Query("", max_length=32), courier: str = Query("", max_length=32),
                printed: str = Query("", pattern="^(|yes|no)$"),
                confirmed: str = Query("", pattern="^(|yes|no)$"),
                due: str = Query("", pattern="^(|overdue|6h|24h|later)$"),
                paid_from: str = Query("", max_length=20), paid_to: str = Query("", max_length=20),
                amount_min: str = Query("", max_length=16),
                amount_max: str = Query("", max_length=16),
                province: str = Query("", max_length=32),
                aftersale: str = Query("", pattern="^(|open|any|none)$"),
                presale: str = Query("", pattern="^(|yes|no)$"),
                after: str = Query("", max_length=60), before: str = Query("", max_length=60),
                ) -> OrderList | JSONResponse:
    """Orders: with ``sort`` deadline/paid/amount, keyset pages (``next``/``prev``) over
    the workbench filter and search; ``updated``/``created`` and ``offset`` keep the older
    offset listing."""
    if sort in ("updated", "created") or offset or order_status is not None:
        with uow() as u:
            total, rows = u.orders.search(shop_ref=shop, state=state.value if state else None,
                                          order_status=order_status, limit=limit,
                                          offset=offset, sort="deadline"
                                          if sort in ("paid", "amount") else sort)
        return OrderList(total=total, items=[OrderSummary(**r) for r in rows])
    params = {k: request.query_params.get(k, "") for k in _FILTER_NAMES}
    try:
        f = parse_filter({**params, "shop": str(shop or ""),
                          "state": state.value if state else "", "sort": sort})
        page = workbench.list_page(uow, f, after=parse_cursor("after", after),
                                   before=parse_cursor("before", before), limit=limit)
    except FilterError as exc:
        return _unprocessable(exc)
    items = []
    for r in page.rows:
        items.append(OrderSummary(
            **r.order, products=r.products, print_state=r.print_state,
            countdown=r.countdown or None,
            parcels=[Parcel(pack_id=p["id"], state=p["state"], courier_code=p["courier_code"],
                            track_no=p["track_no"], labels_printed=p["prints"])
                     for p in r.parcels],
            holds=[HoldTag(reason=h["reason"], reason_name=HOLD_REASON.get(h["reason"],
                                                                            h["reason"]),
                           detail=h["detail"]) for h in r.holds]))
    return OrderList(total=page.total, items=items, next=str(page.next) if page.next else None,
                     prev=str(page.prev) if page.prev else None)


@router.post("/orders/batch", responses={
    422: {"description": "a bad filter or selection, named in Chinese"},
    409: {"description": "refused whole: a hold without a note, a reprint without a reason"},
    200: {"content": {"application/json": {}, XLSX: {}},
          "description": "per order: done, or refused and why (export: the .xlsx)"}})
def orders_batch(fh: FahuoDep, user: SignedIn, actor: Actor, body: BatchBody) -> Any:
    """A batch action on the orders named or on every order the filter matches:
    ``preview`` counts them; otherwise each order is done or refused with the reason.
    Labels: platform e-waybills are listed for the print component (``component_packs``),
    self-drawn ones come as one file (``file``: GET it at /print/file/{batch})."""
    try:
        f = parse_filter(body.filter)
        ids = workbench.selection(fh.uow, f, body.order_ids, body.all_matching)
    except FilterError as exc:
        return _unprocessable(exc)
    if body.preview:
        return {"action": body.action, "count": len(ids), "order_ids": ids[:1000]}
    try:
        res = workbench.run_batch(
            fh.uow, fh.platform_for, body.action, ids, actor=actor, note=body.note,
            reason=body.reason, out_dir=fh.settings.data_dir / "prints",
            may_see_receiver=may_see_receiver(user),
            plain_keep_s=fh.settings.plain_label_keep_s)
    except (PrintError, ValueError) as exc:
        raise HTTPException(409, str(exc)) from None
    if res.export is not None:
        from fahuo.adapters.files.order_export import orders_xlsx
        return Response(orders_xlsx(*res.export), media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="orders.xlsx"'})
    plan, doc = res.labels, res.document
    batch = (plan.result.batch_id if plan is not None and plan.result is not None
             else doc.batch_id if doc is not None else None)
    return {"action": body.action, "count": len(ids), "message": res.message,
            "done": res.done, "refused": res.refused,
            "component_packs": plan.platform if plan is not None else [],
            "file": f"/print/file/{batch}" if batch else None}


@router.get("/orders/{order_id}", responses={404: {"description": "no such order"}})
def get_order(uow: UowDep, order_id: str = PathParam(pattern=r"^\d{1,32}$",
                                                      description="numeric Douyin order id")
              ) -> dict[str, Any]:
    detail = read_models.order_detail(uow, order_id)
    if detail is None:
        raise HTTPException(404, f"fahuo 里没有订单 {order_id}")
    return read_models.order_for_api(detail)


@router.get("/today")
def api_today(uow: UowDep) -> dict[str, Any]:
    """今天: the counts of what needs a person now (待审核, 挂起 per reason, 待打印, 待扫描,
    已打印未回传, 即将超时, 已超时, 揽收超时, open 物流异常 per kind, 售后待处理), each with the
    console page that lists them, and notes on low e-waybill balances and shops whose sync
    failed or whose authorisation ends soon."""
    return today(uow).as_dict()


@router.get("/orders-summary")
def orders_summary(uow: UowDep, shop: int | None = Query(None, ge=1, le=MAX_ID)
                   ) -> dict[str, int]:
    with uow() as u:
        return u.orders.count_by_state(shop)


@router.get("/holds")
def list_holds(uow: UowDep, shop: int | None = Query(None, ge=1, le=MAX_ID),
               limit: int = Query(200, ge=1, le=1000)) -> list[dict[str, Any]]:
    with uow() as u:
        return u.pipeline.held_orders(shop, limit)


@router.post("/orders/hold")
def api_hold(uow: UowDep, actor: Actor, body: OrdersHold) -> dict[str, Any]:
    res = hold_orders(uow, body.order_ids, body.note, actor=actor)
    return {"changed": res.changed, "refused": res.refused}


@router.post("/orders/release")
def api_release(uow: UowDep, actor: Actor, body: OrdersAct) -> dict[str, Any]:
    res = release_orders(uow, body.order_ids, actor=actor, note=body.note)
    return {"changed": res.changed, "refused": res.refused}
