"""API: 数据分析 — volume, shipping time, returns per product and flags for [from, to) shop
days (Beijing time), one shop or all."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from fahuo.entrypoints.web.deps import UowDep
from fahuo.services import report

router = APIRouter(tags=["report"])
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


def _rng(first: str | None, to: str | None, shop: str | None) -> report.ReportRange:
    return report.report_range(first, to, shop)


def _bad(exc: report.ReportRangeError) -> JSONResponse:
    return JSONResponse({"message": str(exc), "fields": [exc.field]}, 422)


def _range_out(r: report.ReportRange) -> RangeOut:
    return RangeOut.model_validate({"from": r.first.isoformat(), "to": r.end.isoformat(),
                                    "shop": r.shop_ref})


@router.get("/report/volume", responses=ERRORS, response_model=VolumeOut)
def api_volume(uow: UowDep, first: str | None = FROM, to: str | None = TO,
               shop: str | None = SHOP) -> Any:
    """Orders, parcels and units shipped per day, product/SKU, courier, province and hour."""
    try:
        rng = _rng(first, to, shop)
    except report.ReportRangeError as exc:
        return _bad(exc)
    v = report.volume(uow, rng)
    d = asdict(v)
    d["range"] = _range_out(rng)
    return d


@router.get("/report/timing", responses=ERRORS, response_model=TimingOut)
def api_timing(uow: UowDep, first: str | None = FROM, to: str | None = TO,
               shop: str | None = SHOP) -> Any:
    """Median and p90 minutes paid → confirmed, paid → printed, printed → scanned, confirmed →
    picked up; on-time rate against the promised ship time; 24 h pickup rate."""
    try:
        rng = _rng(first, to, shop)
    except report.ReportRangeError as exc:
        return _bad(exc)
    t = report.timing(uow, rng)
    return {**asdict(t), "range": _range_out(rng), "on_time_rate": t.on_time_rate,
            "pickup_rate": t.pickup_rate}


@router.get("/report/returns", responses=ERRORS, response_model=ReturnsOut)
def api_returns(uow: UowDep, first: str | None = FROM, to: str | None = TO,
                shop: str | None = SHOP) -> Any:
    """After-sales on the lines shipped in the range, per merchant code, by type and reason."""
    try:
        rng = _rng(first, to, shop)
    except report.ReportRangeError as exc:
        return _bad(exc)
    r = report.returns(uow, rng)
    return {"range": _range_out(rng), "shipped": r.shipped, "returned": r.returned,
            "refund": r.refund, "baseline": r.baseline,
            "rows": [{**asdict(x), "rate": x.rate} for x in r.rows]}


@router.get("/report/flags", responses=ERRORS, response_model=FlagsOut)
def api_flags(uow: UowDep, first: str | None = FROM, to: str | None = TO,
              shop: str | None = SHOP) -> Any:
    """Products with volume whose return rate's Wilson lower bound is above the shop's."""
    try:
        rng = _rng(first, to, shop)
    except report.ReportRangeError as exc:
        return _bad(exc)
    f = report.flags(uow, rng)
    return {"range": _range_out(rng), "baseline": f.baseline, "flags": [
        {**asdict(x), "text": x.text,
         "orders_url": f"/report/orders?code={quote(x.code)}&{rng.query}"} for x in f.flags]}
