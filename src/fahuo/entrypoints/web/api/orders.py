"""API: orders, their counts by state, and holds (hold / release by people)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from fahuo.domain.orders import OrderState
from fahuo.entrypoints.web.deps import MAX_ID, Actor, UowDep
from fahuo.services import read_models
from fahuo.services.today import today
from fahuo.services.holds import hold_orders, release_orders

router = APIRouter()


class OrdersAct(BaseModel):
    order_ids: list[Annotated[str, Field(pattern=r"^\d{1,32}$")]] = Field(min_length=1,
                                                                            max_length=5000)
    note: str = Field("", max_length=500)


class OrdersHold(OrdersAct):
    note: str = Field(min_length=1, max_length=500, pattern=r"\S",
                      description="why: shown to whoever releases it")


class OrderSummary(BaseModel):
    order_id: str
    shop_ref: int
    state: str
    order_status: int
    create_time: int
    pay_time: int | None
    update_time: int
    exp_ship_time: int | None
    pay_amount: int
    buyer_words: str
    seller_words: str
    receiver_name_mask: str
    receiver_phone_mask: str
    province: str
    city: str
    district: str


class OrderList(BaseModel):
    total: int
    items: list[OrderSummary]


@router.get("/orders", response_model=OrderList)
def list_orders(uow: UowDep, shop: int | None = Query(None, ge=1, le=MAX_ID),
                state: OrderState | None = None,
                order_status: int | None = Query(None, ge=0, le=1000),
                sort: str = Query("deadline", pattern="^(deadline|updated|created)$"),
                limit: int = Query(50, ge=1, le=500),
                offset: int = Query(0, ge=0, le=10_000_000)) -> OrderList:
    with uow() as u:
        total, rows = u.orders.search(shop_ref=shop, state=state.value if state else None,
                                      order_status=order_status, limit=limit,
                                      offset=offset, sort=sort)
    return OrderList(total=total, items=[OrderSummary(**r) for r in rows])


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
