"""API: 数据分析 — volume, shipping time, returns per product and flags for [from, to) shop
days (Beijing time), one shop or all."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from fahuo.entrypoints.web.deps import Actor, UowDep
from fahuo.services import report


class _RangeRoute(APIRoute):
    """A bad range raised by the ``Range`` dependency is the 422 every report answers:
    ``message`` in Chinese, ``fields`` naming the parameter."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except report.ReportRangeError as exc:
                return JSONResponse({"message": str(exc), "fields": [exc.field]}, 422)
        return handle


router = APIRouter(tags=["report"], route_class=_RangeRoute)
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "a bad date or shop: `message` in Chinese, `fields` names it"}}
FROM = Query(None, alias="from", description="first shop day, YYYY-MM-DD (default 30 days ago)")
TO = Query(None, description="the day after the last one, YYYY-MM-DD (default tomorrow)")
SHOP = Query(None, description="shop #; all shops when absent")


class RangeOut(BaseModel):
    first: str = Field(alias="from")
    to: str
    shop: int | None


class CountOut(BaseModel):
    key: str
    label: str = Field(description="what the console shows: date, 中通快递 (zhongtong), 商品 (编码)")
    orders: int
    parcels: int
    units: int


class VolumeOut(BaseModel):
    range: RangeOut
    total: CountOut
    days: list[CountOut]
    skus: list[CountOut]
    couriers: list[CountOut]
    provinces: list[CountOut]
    shipped_hours: list[CountOut] = Field(description="parcels confirmed per hour, shop time")
    paid_hours: list[CountOut] = Field(description="orders paid per hour, shop time")


class SpanOut(BaseModel):
    key: str
    label: str
    parcels: int
    median_min: int | None
    p90_min: int | None


class TimingOut(BaseModel):
    range: RangeOut
    spans: list[SpanOut]
    parcels: int
    with_deadline: int
    on_time: int
    late: int
    on_time_rate: float | None
    pickup_due: int
    picked_in_time: int
    pickup_rate: float | None = Field(description="揽收及时率: first scan within 24 h")


class ReturnRowOut(BaseModel):
    code: str
    name: str
    shipped: int
    returned: int
    rate: float
    refund: int = Field(description="fen")
    by_type: dict[str, int]
    by_reason: dict[str, int]


class ReturnsOut(BaseModel):
    range: RangeOut
    shipped: int
    returned: int
    refund: int
    baseline: float
    rows: list[ReturnRowOut]


class FlagOut(BaseModel):
    code: str
    name: str
    shipped: int
    returned: int
    rate: float
    lower: float = Field(description="Wilson 95 % lower bound of the rate")
    baseline: float
    reason: str
    reason_share: float
    text: str
    orders_url: str


class FlagsOut(BaseModel):
    range: RangeOut
    baseline: float
    flags: list[FlagOut]


class DeliveryRowOut(BaseModel):
    courier: str
    label: str
    province: str | None = Field(description="None on the per-courier rows")
    parcels: int = Field(description="tracked parcels confirmed in the range")
    delivered: int
    failed: int = Field(description="parcels that ever had a failed delivery (派送失败)")
    refused: int = Field(description="refused by the receiver (拒收)")
    returned: int = Field(description="sent back to the shop (退回)")
    problems: int
    median_h: int | None = Field(description="confirmed → delivered, whole hours")
    p90_h: int | None
    failed_rate: float | None
    refused_rate: float | None
    returned_rate: float | None


class CourierFlagOut(BaseModel):
    kind: str = Field(description="`exceptions` (问题件偏多) or `slow` (签收偏慢)")
    province: str
    courier: str
    parcels: int
    value: float = Field(description="problem rate, or median hours for `slow`")
    others_parcels: int
    others_value: float
    bound: float
    others_bound: float
    suggest: str | None
    suggest_value: float | None
    text: str
    rule: dict[str, Any] | None = Field(description="the courier rule to apply (快递策略)")
    orders_url: str


class CouriersOut(BaseModel):
    range: RangeOut
    total: DeliveryRowOut
    couriers: list[DeliveryRowOut]
    cells: list[DeliveryRowOut] = Field(description="per courier × province")
    provinces: list[str]
    flags: list[CourierFlagOut]


class ExceptionRowOut(BaseModel):
    key: str
    label: str
    by_kind: dict[str, int]
    found: int
    open: int
    closed: int
    median_close_h: int | None


class ExceptionsOut(BaseModel):
    range: RangeOut
    total: ExceptionRowOut
    kinds: list[ExceptionRowOut]
    couriers: list[ExceptionRowOut]
    provinces: list[ExceptionRowOut]


class ApplyIn(BaseModel):
    province: str
    courier: str = Field(description="the flagged courier")
    suggest: str = Field(description="the courier the flag suggests")


class ApplyOut(BaseModel):
    text: str
    rule: dict[str, Any]
    courier_rules: list[dict[str, Any]]


def _rng(first: str | None = FROM, to: str | None = TO, shop: str | None = SHOP
         ) -> report.ReportRange:
    """The report's range from the query; a bad one raises ``ReportRangeError`` (→ 422)."""
    return report.report_range(first, to, shop)


Range = Annotated[report.ReportRange, Depends(_rng)]


def _range_out(r: report.ReportRange) -> RangeOut:
    return RangeOut.model_validate({"from": r.first.isoformat(), "to": r.end.isoformat(),
                                    "shop": r.shop_ref})


@router.get("/report/volume", responses=ERRORS, response_model=VolumeOut)
def api_volume(uow: UowDep, rng: Range) -> Any:
    """Orders, parcels and units shipped per day, product/SKU, courier, province and hour."""
    v = report.volume(uow, rng)
    d = asdict(v)
    d["range"] = _range_out(rng)
    return d


@router.get("/report/timing", responses=ERRORS, response_model=TimingOut)
def api_timing(uow: UowDep, rng: Range) -> Any:
    """Median and p90 minutes paid → confirmed, paid → printed, printed → scanned, confirmed →
    picked up; on-time rate against the promised ship time; 24 h pickup rate."""
    t = report.timing(uow, rng)
    return {**asdict(t), "range": _range_out(rng), "on_time_rate": t.on_time_rate,
            "pickup_rate": t.pickup_rate}


@router.get("/report/returns", responses=ERRORS, response_model=ReturnsOut)
def api_returns(uow: UowDep, rng: Range) -> Any:
    """After-sales on the lines shipped in the range, per merchant code, by type and reason."""
    r = report.returns(uow, rng)
    return {"range": _range_out(rng), "shipped": r.shipped, "returned": r.returned,
            "refund": r.refund, "baseline": r.baseline,
            "rows": [{**asdict(x), "rate": x.rate} for x in r.rows]}


@router.get("/report/flags", responses=ERRORS, response_model=FlagsOut)
def api_flags(uow: UowDep, rng: Range) -> Any:
    """Products with volume whose return rate's Wilson lower bound is above the shop's."""
    f = report.flags(uow, rng)
    return {"range": _range_out(rng), "baseline": f.baseline, "flags": [
        {**asdict(x), "text": x.text,
         "orders_url": f"/report/orders?code={quote(x.code)}&{rng.query}"} for x in f.flags]}


def _row(x: report.DeliveryRow) -> dict[str, Any]:
    return {**asdict(x), "failed_rate": x.failed_rate, "refused_rate": x.refused_rate,
            "returned_rate": x.returned_rate}


@router.get("/report/couriers", responses=ERRORS, response_model=CouriersOut)
def api_couriers(uow: UowDep, rng: Range) -> Any:
    """Delivery per courier and courier × province: median and P90 hours confirmed →
    delivered, failure (派送失败), refusal (拒收) and return-to-sender rates; the couriers
    clearly worse than the others in a province, each with the rule it suggests."""
    d = report.delivery(uow, rng)
    return {"range": _range_out(rng), "total": _row(d.total),
            "couriers": [_row(x) for x in d.couriers], "cells": [_row(x) for x in d.cells],
            "provinces": d.provinces,
            "flags": [{**asdict(a.flag), "text": a.text, "rule": a.rule,
                       "orders_url": a.orders_url} for a in report.courier_advice(uow, rng, d)]}


@router.get("/report/exceptions", responses=ERRORS, response_model=ExceptionsOut)
def api_exceptions(uow: UowDep, rng: Range) -> Any:
    """Findings (物流异常) opened in the range per kind, courier and province, open ones and
    the median whole hours to close."""
    e = report.exceptions(uow, rng)
    return {"range": _range_out(rng), "total": asdict(e.total),
            "kinds": [asdict(x) for x in e.kinds], "couriers": [asdict(x) for x in e.couriers],
            "provinces": [asdict(x) for x in e.provinces]}


@router.post("/report/courier-rules", response_model=ApplyOut, responses={
    **ERRORS, 409: {"description": "refused, nothing saved: `message` says why (no shop, the "
                                   "flag no longer stands, the rule exists already)"}})
def api_apply_rule(uow: UowDep, actor: Actor, rng: Range, body: ApplyIn) -> Any:
    """Applies a courier flag's suggested rule (e.g. 广东省走圆通) as the shop's first courier
    rule, through the settings (saved whole or not at all)."""
    try:
        return report.apply_courier_rule(uow, rng, body.province, body.courier, body.suggest,
                                         actor)
    except report.CourierRuleRefused as exc:
        return JSONResponse({"message": str(exc)}, 409)
