"""Analytics rules, pure: the shop's day as epoch bounds, percentiles from a histogram, and the
flag that points at a product coming back more than the shop's others do.

A flag needs volume *and* evidence: the Wilson score interval's lower bound of the product's
return rate must lie above the shop's baseline, so a handful of returns on a handful of
orders (3 of 5 is 60 %, but could be luck) raises nothing, while a real problem at volume
does."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from fahuo.domain.clock import SHOP_TZ

# Seconds the shop's clock is ahead of UTC; the zone is fixed (no daylight saving), so
# SQL may bucket days and hours with plain integer arithmetic on epoch seconds.
Z_95 = 1.959964  # two-sided 95 %
MIN_UNITS = 20  # below this many units shipped a product is never flagged
NO_REASON = "未说明原因"
# after-sale types that send money or goods back over a parcel that left (退货退款,
# 已发货仅退款, 换货, 补寄, 维修); 未发货仅退款 and 价保 say nothing about the goods
RETURN_TYPES = frozenset({0, 1, 3, 7, 8})


class ReportRangeError(ValueError):
    """A date range people gave that cannot be read; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportRangeError(field, f"{field}：日期格式应为 YYYY-MM-DD（收到 {text!r}）") \
            from None


def day_bounds(first: date, end: date) -> tuple[int, int]:
    """[first 00:00, end 00:00) of the shop's day as epoch seconds (end is exclusive)."""
    if end <= first:
        raise ReportRangeError("to", "to：结束日期须晚于开始日期（区间为 [from, to)）")
    if (end - first).days > 366:
        raise ReportRangeError("to", "to：日期区间最长 366 天")
    start = datetime.combine(first, time(), SHOP_TZ)
    stop = datetime.combine(end, time(), SHOP_TZ)
    return int(start.timestamp()), int(stop.timestamp())


def shop_day(day_number: int) -> date:
    """The shop's calendar day from ``(ts + SHOP_OFFSET_S) // 86400``."""
    return date(1970, 1, 1) + timedelta(days=day_number)


def wilson_lower(k: int, n: int, z: float = Z_95) -> float:
    """Lower bound of the Wilson score interval for k successes in n trials (0 when n = 0)."""
    if n <= 0:
        return 0.0
    p = k / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def percentile(hist: Iterable[tuple[int, int]], q: float) -> int | None:
    """The q-quantile (0 < q ≤ 1, nearest rank) of values given as (value, count) pairs."""
    pairs = sorted((v, c) for v, c in hist if c > 0)
    total = sum(c for _, c in pairs)
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for v, c in pairs:
        seen += c
        if seen >= rank:
            return v
    return pairs[-1][0]


@dataclass(frozen=True)
class ReturnTally:
    """One product/SKU's units shipped and units the buyers sent after-sales for, by reason."""
    code: str  # merchant code (商家编码); "" when the line had none
    name: str
    shipped: int
    returned: int
    reasons: dict[str, int]  # stated reason → units


@dataclass(frozen=True)
class Flag:
    code: str
    name: str
    shipped: int
    returned: int
    rate: float
    lower: float  # Wilson lower bound of ``rate``
    baseline: float
    reason: str  # the dominant stated reason
    reason_share: float  # its share of the returned units

    @property
    def text(self) -> str:
        return (f"{self.name or self.code}：退货率 {self.rate:.0%}（{self.returned}/{self.shipped}），"
                f"店铺基线 {self.baseline:.1%}；主要原因 {self.reason} {self.reason_share:.0%}")

    @property
    def reason_text(self) -> str:
        return f"{self.reason} {round(self.reason_share * 100)} %"


def baseline(tallies: Sequence[ReturnTally]) -> float:
    shipped = sum(t.shipped for t in tallies)
    return sum(t.returned for t in tallies) / shipped if shipped else 0.0


def flags(tallies: Sequence[ReturnTally], *, min_units: int = MIN_UNITS,
          z: float = Z_95) -> list[Flag]:
    """Products with at least ``min_units`` shipped whose return rate's Wilson lower bound is
    above the shop's rate over all products; worst (highest bound) first."""
    base = baseline(tallies)
    out = []
    for t in tallies:
        if t.shipped < min_units:
            continue
        returned = min(t.returned, t.shipped)
        low = wilson_lower(returned, t.shipped, z)
        if low <= base:
            continue
        reason, units = max(t.reasons.items(), key=lambda kv: (kv[1], kv[0]),
                            default=(NO_REASON, 0))
        total = sum(t.reasons.values())
        out.append(Flag(code=t.code, name=t.name, shipped=t.shipped, returned=returned,
                        rate=returned / t.shipped, lower=low, baseline=base,
                        reason=reason or NO_REASON,
                        reason_share=units / total if total else 0.0))
    return sorted(out, key=lambda f: (-f.lower, f.code))


# ---- couriers: delivery and exceptions per province ------------------------------------

MIN_PARCELS = 20  # a courier, and the others beside it, need this many parcels in a province
MIN_SLOWER_H = 6  # a slower median must be at least this many hours slower to matter


def wilson_upper(k: int, n: int, z: float = Z_95) -> float:
    """Upper bound of the Wilson score interval for k successes in n trials (1 when n = 0)."""
    if n <= 0:
        return 1.0
    return 1.0 - wilson_lower(n - k, n, z)


@dataclass(frozen=True)
class CourierTally:
    """One courier's parcels in one province: how many were tracked, how many had a problem
    (派送失败, 拒收 or 退回), and the delivery times (hours confirmed → delivered, floored) as
    (hours, parcels) pairs."""
    courier: str
    province: str
    parcels: int
    problems: int
    hours: tuple[tuple[int, int], ...] = ()

    @property
    def delivered(self) -> int:
        return sum(c for _, c in self.hours)


@dataclass(frozen=True)
class CourierFlag:
    """A courier clearly worse than the others in a province, with the figures that say so
    and the courier suggested instead (None when no other courier is good enough)."""
    kind: str  # "slow" | "exceptions"
    province: str
    courier: str
    parcels: int  # the courier's parcels behind the figure (delivered ones for "slow")
    value: float  # its median hours ("slow") or problem rate ("exceptions")
    others_parcels: int
    others_value: float  # the other couriers' pooled median hours / problem rate
    bound: float  # "slow": lower bound of the share slower than the others' median;
    #               "exceptions": the courier's rate's lower bound (above ``others_bound``)
    others_bound: float  # "slow": 0.5; "exceptions": the others' rate's upper bound
    suggest: str | None
    suggest_value: float | None


def _hist_sum(tallies: Iterable[CourierTally]) -> list[tuple[int, int]]:
    out: dict[int, int] = {}
    for t in tallies:
        for h, c in t.hours:
            out[h] = out.get(h, 0) + c
    return sorted(out.items())


def courier_flags(tallies: Sequence[CourierTally], *, min_parcels: int = MIN_PARCELS,
                  min_slower_h: int = MIN_SLOWER_H, z: float = Z_95) -> list[CourierFlag]:
    """Couriers clearly slower or more exception-prone than the others in their province.

    Both sides need ``min_parcels`` (the courier, and the other couriers of the province
    pooled). *Exceptions*: the Wilson 95 % interval of the courier's problem rate lies wholly
    above the others' (its lower bound over their upper bound). *Slow*: with m the others'
    median delivery hours, the share of the courier's delivered parcels that took longer than
    m has a Wilson lower bound above ½ (were it no slower, at most half would), and its own
    median is at least ``min_slower_h`` hours over m. The suggested courier is the best other
    courier of the province with ``min_parcels`` itself (fastest median, or lowest rate) that
    is not flagged the same way; worst flags first."""
    by_province: dict[str, list[CourierTally]] = {}
    for t in tallies:
        by_province.setdefault(t.province, []).append(t)
    out: list[CourierFlag] = []
    for province, rows in sorted(by_province.items()):
        if not province:
            continue  # no province to route by
        exc: dict[str, CourierFlag] = {}
        slow: dict[str, CourierFlag] = {}
        for t in rows:
            others = [o for o in rows if o.courier != t.courier]
            on, ok = sum(o.parcels for o in others), sum(o.problems for o in others)
            if t.parcels >= min_parcels and on >= min_parcels:
                low, high = wilson_lower(t.problems, t.parcels, z), wilson_upper(ok, on, z)
                if low > high:
                    exc[t.courier] = CourierFlag("exceptions", province, t.courier, t.parcels,
                                                 t.problems / t.parcels, on, ok / on, low, high,
                                                 None, None)
            oh = _hist_sum(others)
            od = sum(c for _, c in oh)
            if t.delivered >= min_parcels and od >= min_parcels:
                m = percentile(oh, 0.5)
                mine = percentile(t.hours, 0.5)
                assert m is not None and mine is not None
                slower = sum(c for h, c in t.hours if h > m)
                low = wilson_lower(slower, t.delivered, z)
                if low > 0.5 and mine - m >= min_slower_h:
                    slow[t.courier] = CourierFlag("slow", province, t.courier, t.delivered,
                                                  float(mine), od, float(m), low, 0.5,
                                                  None, None)
        for flagged, key in ((exc, lambda o: (o.problems / o.parcels, o.courier)),
                             (slow, lambda o: (percentile(o.hours, 0.5), o.courier))):
            for f in flagged.values():
                enough = [o for o in rows if o.courier != f.courier and o.courier not in flagged
                          and (o.parcels if f.kind == "exceptions" else o.delivered)
                          >= min_parcels]
                best = min(enough, key=key, default=None)
                if best is not None:
                    value = key(best)[0]
                    f = replace(f, suggest=best.courier,
                                suggest_value=None if value is None else float(value))
                out.append(f)
    return sorted(out, key=lambda f: (f.kind != "exceptions", -f.bound, f.province, f.courier))
