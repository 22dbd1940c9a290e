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
    NO_REASON, RETURN_TYPES, CourierFlag, CourierTally, Flag, ReportRangeError, ReturnTally,
    courier_flags as find_courier_flags, day_bounds, parse_day, percentile,
)
from fahuo.domain.report import flags as find_flags
from fahuo.services.ports import Notifier, ReportWorkbook, UowFactory

DEFAULT_DAYS = 30

__all__ = ["ReportRangeError", "ReportRange", "report_range", "volume", "timing", "returns",
           "flags", "flag_orders", "delivery", "exceptions", "courier_advice", "courier_orders",
           "apply_courier_rule", "CourierRuleRefused", "flag_digest", "send_flag_digest",
           "workbook"]


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


# ---- delivery per courier (× province) -------------------------------------------------

@dataclass(frozen=True)
class DeliveryRow:
    """A courier's tracked parcels (in one province, or all when ``province`` is None):
    delivered, and how many ever failed a delivery (派送失败), were refused (拒收) or went back
    to the sender (退回); median and P90 hours confirmed → delivered (whole hours)."""
    courier: str
    label: str
    province: str | None
    parcels: int
    delivered: int
    failed: int
    refused: int
    returned: int
    problems: int  # parcels with any of the three
    median_h: int | None
    p90_h: int | None

    def _rate(self, n: int) -> float | None:
        return n / self.parcels if self.parcels else None

    @property
    def failed_rate(self) -> float | None:
        return self._rate(self.failed)

    @property
    def refused_rate(self) -> float | None:
        return self._rate(self.refused)

    @property
    def returned_rate(self) -> float | None:
        return self._rate(self.returned)

    @property
    def problem_rate(self) -> float | None:
        return self._rate(self.problems)


@dataclass(frozen=True)
class Delivery:
    range: ReportRange
    couriers: list[DeliveryRow]  # per courier, most parcels first
    cells: list[DeliveryRow]  # per courier × province
    provinces: list[str]  # the heat table's columns, most parcels first
    total: DeliveryRow
    tallies: list[CourierTally] = field(repr=False, default_factory=list)

    def cell(self, courier: str, province: str) -> DeliveryRow | None:
        return next((c for c in self.cells if c.courier == courier and c.province == province),
                    None)

    def grid(self) -> dict[str, dict[str, DeliveryRow]]:
        out: dict[str, dict[str, DeliveryRow]] = {}
        for c in self.cells:
            out.setdefault(c.courier, {})[c.province or ""] = c
        return out


def _courier_label(code: str) -> str:
    return names.courier_name(code) or "未指定快递"


def _delivery_row(courier: str, province: str | None, rows: list[dict[str, Any]],
                  hist: list[tuple[int, int]]) -> DeliveryRow:
    def s(k: str) -> int:
        return sum(int(r[k]) for r in rows)
    return DeliveryRow(courier, _courier_label(courier) if courier != "*" else "合计", province,
                       s("parcels"), s("delivered"), s("failed"), s("refused"), s("returned"),
                       s("problems"), percentile(hist, 0.5), percentile(hist, 0.9))


def _merge(hists: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    out: dict[int, int] = {}
    for h in hists:
        for v, c in h:
            out[v] = out.get(v, 0) + c
    return sorted(out.items())


def delivery(uow: UowFactory, rng: ReportRange) -> Delivery:
    a = (rng.shop_ref, rng.start, rng.stop)
    with uow(readonly=True) as u:
        counts = u.reports.delivery(*a)
        hours = u.reports.delivery_hours(*a)
    hist: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for h in hours:
        hist.setdefault((h["courier"], h["province"]), []).append((h["hours"], h["n"]))
    cells = sorted((_delivery_row(r["courier"], r["province"], [r],
                                  hist.get((r["courier"], r["province"]), []))
                    for r in counts), key=lambda c: (-c.parcels, c.courier, c.province or ""))
    by_courier: dict[str, list[dict[str, Any]]] = {}
    for r in counts:
        by_courier.setdefault(r["courier"], []).append(r)
    couriers = sorted((_delivery_row(c, None, rows, _merge(
        [hist.get((c, r["province"]), []) for r in rows])) for c, rows in by_courier.items()),
        key=lambda c: (-c.parcels, c.courier))
    per_province: dict[str, int] = {}
    for r in counts:
        per_province[r["province"]] = per_province.get(r["province"], 0) + int(r["parcels"])
    provinces = sorted(per_province, key=lambda p: (-per_province[p], p))
    total = _delivery_row("*", None, counts, _merge(list(hist.values())))
    tallies = [CourierTally(r["courier"], r["province"], int(r["parcels"]), int(r["problems"]),
                            tuple(sorted(hist.get((r["courier"], r["province"]), []))))
               for r in counts]
    return Delivery(rng, couriers, cells, provinces, total, tallies)


# ---- exceptions (findings) per kind, courier and province ------------------------------

@dataclass(frozen=True)
class ExceptionRow:
    key: str  # the courier code / province / kind
    label: str
    by_kind: dict[str, int]  # kind → findings opened in the range
    found: int
    open: int
    closed: int
    median_close_h: int | None  # whole hours opened → closed, over the closed ones


@dataclass(frozen=True)
class Exceptions:
    range: ReportRange
    kinds: list[ExceptionRow]  # one per kind (its by_kind holds itself)
    couriers: list[ExceptionRow]
    provinces: list[ExceptionRow]
    total: ExceptionRow

    @property
    def kind_keys(self) -> list[str]:
        return [k.key for k in self.kinds]


def _kind_name(kind: str) -> str:
    return names.name(names.FINDING_KIND, kind)


def _exception_rows(key_of: str, rows: list[dict[str, Any]], closes: list[dict[str, Any]],
                    label: Any) -> list[ExceptionRow]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[key_of], []).append(r)
    hist: dict[str, list[tuple[int, int]]] = {}
    for c in closes:
        hist.setdefault(c[key_of], []).append((c["hours"], c["n"]))
    out = []
    for key, rs in groups.items():
        by_kind: dict[str, int] = {}
        for r in rs:
            by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + r["found"]
        found, open_ = sum(r["found"] for r in rs), sum(r["open"] for r in rs)
        out.append(ExceptionRow(key, label(key), by_kind, found, open_, found - open_,
                                percentile(_merge([hist.get(key, [])]), 0.5)))
    return sorted(out, key=lambda x: (-x.found, x.key))


def exceptions(uow: UowFactory, rng: ReportRange) -> Exceptions:
    a = (rng.shop_ref, rng.start, rng.stop)
    with uow(readonly=True) as u:
        rows = u.reports.findings_by(*a)
        closes = u.reports.finding_close_hours(*a)
    everything = [{**r, "all": "*"} for r in rows]
    total = _exception_rows("all", everything, [{**c, "all": "*"} for c in closes],
                            lambda _k: "合计")
    return Exceptions(
        rng, _exception_rows("kind", rows, closes, _kind_name),
        _exception_rows("courier", rows, closes, _courier_label),
        _exception_rows("province", rows, closes, lambda p: p or "未知省份"),
        total[0] if total else ExceptionRow("*", "合计", {}, 0, 0, 0, None))


# ---- courier flags and the suggested rule -----------------------------------------------

class CourierRuleRefused(ValueError):
    """A suggested courier rule that cannot be applied; the message says why, in Chinese."""


@dataclass(frozen=True)
class CourierAdvice:
    flag: CourierFlag
    range: ReportRange

    @property
    def rule(self) -> dict[str, Any] | None:
        """The courier rule the merchant may apply: this province goes to the suggested
        courier (the same shape as ``domain/routing.CourierRule``)."""
        f = self.flag
        if f.suggest is None:
            return None
        return {"name": f"数据分析：{f.province}走{_short(f.suggest)}", "courier_code": f.suggest,
                "provinces": [f.province]}

    @property
    def rule_text(self) -> str:
        f = self.flag
        return f"{f.province}走{_short(f.suggest)}" if f.suggest else ""

    @property
    def orders_url(self) -> str:
        from urllib.parse import quote
        f = self.flag
        return (f"/report/couriers/orders?courier={quote(f.courier)}"
                f"&province={quote(f.province)}&{self.range.query}")

    @property
    def text(self) -> str:
        f = self.flag
        who = _courier_label(f.courier)
        if f.kind == "exceptions":
            head = (f"{f.province}：{who}问题件率 {f.value:.1%}（{round(f.value * f.parcels)}/"
                    f"{f.parcels} 件，派送失败、拒收或退回），其他快递 {f.others_value:.1%}"
                    f"（{f.others_parcels} 件）")
            tail = (f"；建议{f.province}走{_short(f.suggest)}（问题件率 {f.suggest_value:.1%}）"
                    if f.suggest and f.suggest_value is not None else "")
        else:
            head = (f"{f.province}：{who}签收中位数 {f.value:.0f} 小时（{f.parcels} 件），"
                    f"其他快递 {f.others_value:.0f} 小时（{f.others_parcels} 件）")
            tail = (f"；建议{f.province}走{_short(f.suggest)}（中位数 {f.suggest_value:.0f} 小时）"
                    if f.suggest and f.suggest_value is not None else "")
        return head + (tail or "；该省没有足够件数的其他快递可建议")


def _short(code: str | None) -> str:
    from fahuo.domain.couriers import courier_name
    return courier_name(code) if code else ""


def courier_advice(uow: UowFactory, rng: ReportRange,
                   d: Delivery | None = None) -> list[CourierAdvice]:
    """The courier flags of the range (``domain/report.courier_flags``), each with its text,
    the suggested rule and the link to its parcels."""
    d = d or delivery(uow, rng)
    return [CourierAdvice(f, rng) for f in find_courier_flags(d.tallies)]


def courier_orders(uow: UowFactory, rng: ReportRange, courier: str, province: str
                   ) -> list[dict[str, Any]]:
    """The parcels behind a courier flag: problems first, then the slowest."""
    with uow(readonly=True) as u:
        rows = u.reports.courier_parcels(rng.shop_ref, rng.start, rng.stop, courier, province)
    out = []
    for r in rows:
        what = [w for w, on in (("派送失败", r["failed"]), ("拒收", r["refused"]),
                                ("退回", r["returned"])) if on]
        took = (r["delivered"] - r["confirmed"]) // 3600 if r["delivered"] else None
        out.append({**r, "problems": "、".join(what), "hours": took,
                    "state_name": names.name(names.TRACK_STATE, r["state"])})
    return out


def apply_courier_rule(uow: UowFactory, rng: ReportRange, province: str, courier: str,
                       suggest: str, actor: str) -> dict[str, Any]:
    """Applies a flag's suggested rule ("广东省走 X") as the shop's first courier rule, through
    the settings service (validated and saved whole, or not at all). Refused in Chinese when
    no shop is chosen, the flag no longer stands on the range's figures, or the shop has that
    rule already."""
    from fahuo.domain.routing import CourierRule
    from fahuo.services.settings import SettingsError, update_settings
    if rng.shop_ref is None:
        raise CourierRuleRefused("请先选择店铺：快递策略按店铺设置")
    advice = next((a for a in courier_advice(uow, rng)
                   if a.flag.province == province and a.flag.courier == courier
                   and a.flag.suggest == suggest), None)
    if advice is None or advice.rule is None:
        raise CourierRuleRefused(
            f"没有这条建议：{rng.first.isoformat()} 至 {rng.end.isoformat()}（不含）的数据里"
            f"没有“{province or '（空）'}走{_short(suggest) or suggest or '（空）'}”的快递预警，"
            "请刷新数据分析页面后再试")
    rule = advice.rule
    with uow(readonly=True) as u:
        cfg = u.settings.get(rng.shop_ref)
    existing = list(cfg.get("courier_rules") or [])
    new = CourierRule.from_dict(rule).to_dict()
    for n, r in enumerate(existing):
        try:
            old = CourierRule.from_dict(r).to_dict()
        except ValueError:
            continue
        if {**old, "name": ""} == {**new, "name": ""} or old["name"] == new["name"]:
            raise CourierRuleRefused(f"快递策略里已有这条规则（第{n + 1}条“{old['name']}”），"
                                     "没有重复添加")
    try:
        saved = update_settings(uow, rng.shop_ref, {"courier_rules": [rule, *existing]}, actor)
    except SettingsError as exc:
        raise CourierRuleRefused("快递规则没有保存：" + "；".join(exc.problems.values())) \
            from None
    return {"rule": new, "courier_rules": saved["courier_rules"], "text": advice.rule_text}


def flag_digest(uow: UowFactory, rng: ReportRange) -> list[str]:
    """The lines the daily alert digest carries: product flags, then courier flags."""
    f = flags(uow, rng)
    lines = [f"商品预警 {x.text}" for x in f.flags]
    lines += [f"快递预警 {a.text}" for a in courier_advice(uow, rng)]
    return lines


# ---- the daily alert digest --------------------------------------------------------------

DIGEST_KIND = "report_flags"  # channels routed "*" (or naming this kind) receive it
DIGEST_EVERY_S = 86400


def send_flag_digest(uow: UowFactory, notify: Notifier, *, now: int | None = None,
                     link_base: str = "") -> list[dict[str, Any]]:
    """Once a day per channel: the product and courier flags of the last 30 shop days (every
    shop), through the alert channels' one grouping, logged like every alert. Nothing is sent
    when nothing is flagged."""
    at = int(now or time.time())
    with uow(readonly=True) as u:
        channels = u.tracking.channels(enabled_only=True)
        tried = u.tracking.last_sent(delivered_only=False)
    routes = {ch["name"]: ch["kinds"] for ch in channels}
    wanted = [ch for ch in channels if ch["name"] in notify.wanted_by(routes, DIGEST_KIND)]
    if not wanted:
        return []
    today = shop_day_of(at)
    rng = report_range((today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
                       (today + timedelta(days=1)).isoformat())
    lines = flag_digest(uow, rng)
    if not lines:
        return []
    link = f"{link_base.rstrip('/')}/report?{rng.query}" if link_base else None
    sent, log_rows = [], []
    for ch in wanted:
        alerts = notify.group(
            ((DIGEST_KIND, line) for line in lines), interval_s=DIGEST_EVERY_S, now=at,
            last_sent={k: t for (name, k), t in tried.items()
                       if name == ch["name"] and k == DIGEST_KIND},
            titles={DIGEST_KIND: f"【fahuo】每日数据分析预警：{{count}} 条（{rng.first.isoformat()} "
                                 f"至 {today.isoformat()}）"},
            links={DIGEST_KIND: link} if link else None)
        for alert in alerts:
            err = notify.send(ch, alert)
            log_rows.append((ch["name"], alert.kind, alert.title, alert.count, err is None, err))
            sent.append({"channel": ch["name"], "kind": alert.kind, "count": alert.count,
                         "ok": err is None, "error": err, "lines": list(alert.lines),
                         "title": alert.title})
    with uow() as u:
        for row in log_rows:
            u.tracking.log_alert(*row, at)
    return sent


def shop_day_of(ts: int) -> date:
    from fahuo.domain.clock import SHOP_OFFSET_S
    return date(1970, 1, 1) + timedelta(days=(ts + SHOP_OFFSET_S) // 86400)


# ---- the workbook ----------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def tables(uow: UowFactory, rng: ReportRange, now: int | None = None
           ) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every table of the report as (title, header, rows): the page's and the workbook's."""
    v, t, r, f = volume(uow, rng), timing(uow, rng, now), returns(uow, rng), flags(uow, rng)
    d, e = delivery(uow, rng), exceptions(uow, rng)
    advice = courier_advice(uow, rng, d)
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
        ("快递时效", DELIVERY_HEAD[:1] + DELIVERY_HEAD[2:],
         [_delivery_cells(x)[:1] + _delivery_cells(x)[2:] for x in [*d.couriers, d.total]]
         if d.couriers else []),
        ("快递×省份", DELIVERY_HEAD, [_delivery_cells(x) for x in d.cells]),
        _exception_table("物流异常（按快递）", "快递公司", e.couriers, e),
        _exception_table("物流异常（按省份）", "省份", e.provinces, e),
        ("物流异常（按类型）", ["类型", "异常数", "未关闭", "已关闭", "关闭用时中位数(小时)"],
         [[k.label, k.found, k.open, k.closed, _n(k.median_close_h)] for k in e.kinds]),
        ("快递预警", ["省份", "快递公司", "预警", "说明", "建议规则"],
         [[a.flag.province, _courier_label(a.flag.courier),
           "问题件偏多" if a.flag.kind == "exceptions" else "签收偏慢", a.text, a.rule_text]
          for a in advice]),
    ]


DELIVERY_HEAD = ["快递公司", "省份", "包裹数", "已签收", "签收中位数(小时)", "签收P90(小时)",
                 "派送失败率", "拒收率", "退回率"]


def _n(x: int | None) -> Any:
    return "—" if x is None else x


def _delivery_cells(x: DeliveryRow) -> list[Any]:
    return [x.label, x.province or "", x.parcels, x.delivered, _n(x.median_h), _n(x.p90_h),
            _pct(x.failed_rate), _pct(x.refused_rate), _pct(x.returned_rate)]


def _exception_table(title: str, first: str, rows: list[ExceptionRow], e: Exceptions
                     ) -> tuple[str, list[str], list[list[Any]]]:
    kinds = e.kinds
    return (title, [first, *[k.label for k in kinds], "合计", "未关闭", "关闭用时中位数(小时)"],
            [[x.label, *[x.by_kind.get(k.key, 0) for k in kinds], x.found, x.open,
              _n(x.median_close_h)] for x in rows])


def workbook(uow: UowFactory, rng: ReportRange, writer: ReportWorkbook,
             now: int | None = None) -> bytes:
    return writer.render(tables(uow, rng, now))
