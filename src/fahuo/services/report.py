"""Analytics use cases (数据分析): volume, shipping time, returns per product and the flags,
each for a shop's date range [from, to) in shop days, as plain dataclasses. Reads go through
``uow.reports``; the workbook is written by the adapter handed in."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fahuo.domain import names
from fahuo.domain.aftersales import TYPE_NAMES
from fahuo.domain.clock import shop_now
from fahuo.domain.report import (
    NO_REASON, RETURN_TYPES, Flag, ReportRangeError, ReturnTally, day_bounds, parse_day,
    percentile,
)
from fahuo.domain.report import flags as find_flags
from fahuo.services.ports import ReportWorkbook, UowFactory

DEFAULT_DAYS = 30

__all__ = ["ReportRangeError", "ReportRange", "report_range", "volume", "timing", "returns",
           "flags", "flag_orders", "workbook"]


@dataclass(frozen=True)
class ReportRange:
    first: date  # the first shop day in the range
    end: date  # the day after the last one
    shop_ref: int | None
    start: int  # epoch seconds of first 00:00, shop time
    stop: int

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.end - self.first).days)]

    @property
    def query(self) -> str:
        """The range as URL parameters (the console keeps its filters in the URL)."""
        shop = f"&shop={self.shop_ref}" if self.shop_ref is not None else ""
        return f"from={self.first.isoformat()}&to={self.end.isoformat()}{shop}"


def report_range(first: str | None = None, end: str | None = None,
                 shop: int | str | None = None) -> ReportRange:
    """From people's words: dates YYYY-MM-DD (default: the last 30 shop days, today
    included), shop # or nothing for every shop. Raises ``ReportRangeError`` naming the field."""
    today = shop_now().date()
    stop_day = parse_day(end, "to") if end else today + timedelta(days=1)
    first_day = parse_day(first, "from") if first else stop_day - timedelta(days=DEFAULT_DAYS)
    shop_ref: int | None = None
    if shop not in (None, ""):
        text = str(shop).strip()
        if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
            raise ReportRangeError("shop", f"shop：店铺编号应为正整数（收到 {shop!r}）")
        shop_ref = int(text)
    start, stop = day_bounds(first_day, stop_day)
    return ReportRange(first_day, stop_day, shop_ref, start, stop)


# ---- volume ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    key: str  # the code / day / hour
    label: str  # what people read
    orders: int
    parcels: int
    units: int


@dataclass(frozen=True)
class Volume:
    range: ReportRange
    days: list[Count]
    skus: list[Count]
    couriers: list[Count]
    provinces: list[Count]
    shipped_hours: list[Count]  # parcels confirmed per hour of the shop's day
    paid_hours: list[Count]  # orders paid per hour (orders only)
    total: Count


def _count(key: Any, label: str, r: dict[str, Any]) -> Count:
    return Count(str(key), label, int(r.get("orders") or 0), int(r.get("parcels") or 0),
                 int(r.get("units") or 0))


def _hours(rows: list[dict[str, Any]]) -> list[Count]:
    by = {int(r["key"]): r for r in rows}
    return [_count(h, f"{h:02d}时", by.get(h, {})) for h in range(24)]


def volume(uow: UowFactory, rng: ReportRange) -> Volume:
    a = (rng.shop_ref, rng.start, rng.stop)
    with uow(readonly=True) as u:
        days = {int(r["day"]): r for r in u.reports.volume_by_day(*a)}
        skus = u.reports.volume_by_sku(*a)
        couriers = u.reports.volume_by("courier", *a)
        provinces = u.reports.volume_by("province", *a)
        shipped_hours = u.reports.volume_by("hour", *a)
        paid = u.reports.paid_by_hour(*a)
    epoch = date(1970, 1, 1)
    day_rows = [_count(d.isoformat(), d.strftime("%m-%d"), days.get((d - epoch).days, {}))
                for d in rng.days]
    total = Count("", "合计", sum(c.orders for c in day_rows), sum(c.parcels for c in day_rows),
                  sum(c.units for c in day_rows))
    return Volume(
        rng, day_rows,
        [_count(r["code"], f"{r['name']} ({r['code']})" if r["code"] else
                f"{r['name']}（无商家编码）", r) for r in skus],
        [_count(r["key"], names.courier_name(r["key"]) or "未指定快递", r) for r in couriers],
        [_count(r["key"], r["key"] or "未知省份", r) for r in provinces],
        _hours(shipped_hours), _hours(paid), total)


# ---- timing ----------------------------------------------------------------------------

SPAN_NAMES = {"paid_confirmed": "付款 → 发货", "paid_printed": "付款 → 打单",
              "printed_scanned": "打单 → 扫描", "confirmed_picked": "发货 → 揽收"}


@dataclass(frozen=True)
class Span:
    key: str
    label: str
    parcels: int  # parcels with both times
    median_min: int | None
    p90_min: int | None


@dataclass(frozen=True)
class Timing:
    range: ReportRange
    spans: list[Span]
    parcels: int
    with_deadline: int
    on_time: int
    late: int
    pickup_due: int  # parcels whose 24 h are over (or that were picked up)
    picked_in_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.with_deadline if self.with_deadline else None

    @property
    def pickup_rate(self) -> float | None:
        return self.picked_in_time / self.pickup_due if self.pickup_due else None


def timing(uow: UowFactory, rng: ReportRange, now: int | None = None) -> Timing:
    a = (rng.shop_ref, rng.start, rng.stop)
    with uow(readonly=True) as u:
        hists = u.reports.span_histograms(*a)
        p = u.reports.punctuality(*a, int(now or time.time()))
    spans = [Span(k, label, sum(c for _, c in hists.get(k, [])),
                  percentile(hists.get(k, []), 0.5), percentile(hists.get(k, []), 0.9))
             for k, label in SPAN_NAMES.items()]
    return Timing(rng, spans, p["parcels"], p["with_deadline"], p["on_time"], p["late"],
                  p["pickup_due"], p["picked_in_time"])


# ---- returns ---------------------------------------------------------------------------

@dataclass
class ReturnRow:
    code: str
    name: str
    shipped: int  # units shipped in the range
    returned: int = 0  # units of those in after-sales that count as returns (RETURN_TYPES)
    refund: int = 0  # fen refunded over those lines, every type
    by_type: dict[str, int] = field(default_factory=dict)  # type name → units
    by_reason: dict[str, int] = field(default_factory=dict)  # reason → returned units

    @property
    def rate(self) -> float:
        return self.returned / self.shipped if self.shipped else 0.0

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})" if self.code else f"{self.name}（无商家编码）"


@dataclass(frozen=True)
class Returns:
    range: ReportRange
    rows: list[ReturnRow]
    shipped: int
    returned: int
    refund: int

    @property
    def baseline(self) -> float:
        return self.returned / self.shipped if self.shipped else 0.0


def returns(uow: UowFactory, rng: ReportRange) -> Returns:
    a = (rng.shop_ref, rng.start, rng.stop)
    with uow(readonly=True) as u:
        skus = u.reports.volume_by_sku(*a)
        cases = u.reports.returns_by_sku(*a)
    rows = {r["code"]: ReturnRow(r["code"], r["name"], int(r["units"])) for r in skus}
    for c in cases:
        row = rows.get(c["code"])
        if row is None:  # a line shipped in the range always has its SKU row
            continue
        units, kind = int(c["units"]), names.name({str(k): v for k, v in TYPE_NAMES.items()},
                                                  c["type"])
        row.by_type[kind] = row.by_type.get(kind, 0) + units
        row.refund += int(c["refund"])
        if int(c["type"]) in RETURN_TYPES:
            row.returned += units
            reason = c["reason"] or NO_REASON
            row.by_reason[reason] = row.by_reason.get(reason, 0) + units
    out = sorted(rows.values(), key=lambda r: (-r.rate, -r.shipped, r.code))
    return Returns(rng, out, sum(r.shipped for r in out), sum(r.returned for r in out),
                   sum(r.refund for r in out))


@dataclass(frozen=True)
class Flags:
    range: ReportRange
    baseline: float
    flags: list[Flag]


def flags(uow: UowFactory, rng: ReportRange) -> Flags:
    r = returns(uow, rng)
    tallies = [ReturnTally(x.code, x.name, x.shipped, x.returned, dict(x.by_reason))
               for x in r.rows]
    return Flags(rng, r.baseline, find_flags(tallies))


def flag_orders(uow: UowFactory, rng: ReportRange, code: str) -> list[dict[str, Any]]:
    """The after-sales behind a product's flag, one row per case and line."""
    with uow(readonly=True) as u:
        rows = u.reports.orders_returned(rng.shop_ref, rng.start, rng.stop, code)
    return [{**r, "type_name": TYPE_NAMES.get(int(r["type"]), str(r["type"])),
             "reason": r["reason"] or NO_REASON} for r in rows]


# ---- the workbook ----------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def tables(uow: UowFactory, rng: ReportRange, now: int | None = None
           ) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every table of the report as (title, header, rows): the page's and the workbook's."""
    v, t, r, f = volume(uow, rng), timing(uow, rng, now), returns(uow, rng), flags(uow, rng)
    head = ["订单数", "包裹数", "件数"]

    def counts(title: str, first: str, rows: list[Count]) -> tuple[str, list[str], list[list[Any]]]:
        return title, [first, *head], [[c.label, c.orders, c.parcels, c.units] for c in rows]

    return [
        counts("每日发货", "日期", v.days), counts("商品", "商品 (商家编码)", v.skus),
        counts("快递公司", "快递公司", v.couriers), counts("省份", "省份", v.provinces),
        ("时段", ["时段", "付款订单数", "发货包裹数"],
         [[p.label, p.orders, s.parcels] for p, s in zip(v.paid_hours, v.shipped_hours,
                                                         strict=True)]),
        ("发货时效", ["环节", "包裹数", "中位数(分钟)", "P90(分钟)"],
         [[s.label, s.parcels, s.median_min if s.median_min is not None else "—",
           s.p90_min if s.p90_min is not None else "—"] for s in t.spans]
         + [["按时发货率", t.with_deadline, _pct(t.on_time_rate), f"超时 {t.late}"],
            ["24小时揽收率", t.pickup_due, _pct(t.pickup_rate), ""]]),
        ("退货", ["商品 (商家编码)", "发货件数", "售后件数", "退货率", "退款(元)", "按类型",
                "按原因"],
         [[x.label, x.shipped, x.returned, _pct(x.rate), f"{x.refund / 100:.2f}",
           "、".join(f"{k} {n}" for k, n in x.by_type.items()),
           "、".join(f"{k} {n}" for k, n in x.by_reason.items())] for x in r.rows]),
        ("预警", ["商品 (商家编码)", "发货件数", "售后件数", "退货率", "置信下限", "店铺基线",
                "主要原因"],
         [[x.name or x.code, x.shipped, x.returned, _pct(x.rate), _pct(x.lower),
           _pct(x.baseline), x.reason_text] for x in f.flags]),
    ]


def workbook(uow: UowFactory, rng: ReportRange, writer: ReportWorkbook,
             now: int | None = None) -> bytes:
    return writer.render(tables(uow, rng, now))
