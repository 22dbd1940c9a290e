"""Reads for analytics (``uow.reports``): set-based aggregates over the raw tables, one
statement per figure, the same SQL on SQLite and PostgreSQL.

A parcel counts as shipped when its pack is ``confirmed``; it was confirmed at its tracker's
``shipped_at`` (set from the pack when tracking started, right after confirmation), else at
the pack's last change. Days and hours are the shop's (fixed UTC+8), bucketed with integer
arithmetic on epoch seconds, so the server's time zone never enters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection, ColumnElement, String, and_, case, cast, distinct, func, or_, select,
)
from sqlalchemy.sql import Select

from fahuo.domain.clock import SHOP_OFFSET_S
from fahuo.domain.report import RETURN_TYPES

from . import models as m

DAY, HOUR = 86400, 3600
PICKUP_WINDOW_S = 86400  # 揽收及时率: first carrier scan within 24 h of confirmation


def _day(ts: ColumnElement[Any]) -> ColumnElement[Any]:
    return (ts + SHOP_OFFSET_S) // DAY


def _hour(ts: ColumnElement[Any]) -> ColumnElement[Any]:
    return ((ts + SHOP_OFFSET_S) % DAY) // HOUR


class ReportQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- the shipped parcels of a range -------------------------------------------------
    def _shipped(self, shop_ref: int | None, start: int, stop: int, *, timing: bool = False):
        """One row per parcel confirmed in [start, stop): a subquery to join on."""
        p, o, t = m.packs, m.orders, m.trackers
        confirmed = func.coalesce(t.c.shipped_at, p.c.updated_at)
        cols: list[Any] = [p.c.id.label("pack_id"), p.c.shop_ref, p.c.courier_code,
                           o.c.province, o.c.pay_time, confirmed.label("confirmed")]
        if timing:
            pr, al = m.print_records, m.audit_log
            printed = (select(func.min(pr.c.printed_at)).where(pr.c.pack_id == p.c.id)
                       .correlate(p).scalar_subquery())
            scanned = (select(func.min(al.c.at)).where(
                al.c.subject_type == "pack", al.c.subject_id == cast(p.c.id, String),
                al.c.action == "pack.scan").correlate(p).scalar_subquery())
            cols += [printed.label("printed"), scanned.label("scanned"),
                     t.c.picked_up_at.label("picked"),
                     func.coalesce(p.c.exp_ship_time, o.c.exp_ship_time).label("exp")]
        q = (select(*cols).select_from(
                p.join(o, o.c.order_id == p.c.main_order_id)
                 .outerjoin(t, t.c.pack_id == p.c.id))
             .where(p.c.state == "confirmed", confirmed >= start, confirmed < stop))
        if shop_ref is not None:
            q = q.where(p.c.shop_ref == shop_ref)
        return q.subquery("shipped")

    def _lines(self, shop_ref: int | None, start: int, stop: int, *extra: Any
               ) -> tuple[Select[Any], Any]:
        """Parcels, orders and units over the shipped parcels' lines, with the subquery."""
        sp, pl = self._shipped(shop_ref, start, stop), m.pack_lines
        return select(*extra, func.count(distinct(sp.c.pack_id)).label("parcels"),
                      func.count(distinct(pl.c.order_id)).label("orders"),
                      func.coalesce(func.sum(pl.c.quantity), 0).label("units")) \
            .select_from(sp.join(pl, pl.c.pack_id == sp.c.pack_id)), sp

    # -- volume ---------------------------------------------------------------------------
    def volume_by_day(self, shop_ref: int | None, start: int, stop: int
                      ) -> list[dict[str, Any]]:
        """{day (days since 1970-01-01, shop time), orders, parcels, units}, by day."""
        q, sp = self._lines(shop_ref, start, stop)
        day = _day(sp.c.confirmed).label("day")
        q = q.add_columns(day).group_by(day).order_by(day)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def volume_by_sku(self, shop_ref: int | None, start: int, stop: int
                      ) -> list[dict[str, Any]]:
        """{code (merchant code), name, orders, parcels, units}, most units first."""
        so = m.sub_orders
        q, sp = self._lines(shop_ref, start, stop, so.c.merchant_code.label("code"),
                            func.max(so.c.product_name).label("name"))
        q = q.join(so, so.c.sku_order_id == m.pack_lines.c.sku_order_id) \
            .group_by(so.c.merchant_code)
        rows = [dict(r._mapping) for r in self.conn.execute(q)]
        return sorted(rows, key=lambda r: (-r["units"], r["code"]))

    def volume_by(self, what: str, shop_ref: int | None, start: int, stop: int
                  ) -> list[dict[str, Any]]:
        """{key, orders, parcels, units} per courier (``courier``), receiving province
        (``province``) or hour of confirmation (``hour``, 0–23 shop time)."""
        q, sp = self._lines(shop_ref, start, stop)
        key = {"courier": func.coalesce(sp.c.courier_code, ""), "province": sp.c.province,
               "hour": _hour(sp.c.confirmed)}[what].label("key")
        q = q.add_columns(key).group_by(key)
        rows = [dict(r._mapping) for r in self.conn.execute(q)]
        if what == "hour":
            return sorted(rows, key=lambda r: r["key"])
        return sorted(rows, key=lambda r: (-r["parcels"], str(r["key"])))

    def paid_by_hour(self, shop_ref: int | None, start: int, stop: int
                     ) -> list[dict[str, Any]]:
        """{key: hour 0–23 (shop time), orders}: orders paid in [start, stop)."""
        o = m.orders
        hour = _hour(o.c.pay_time).label("key")
        q = (select(hour, func.count().label("orders"))
             .where(o.c.pay_time >= start, o.c.pay_time < stop).group_by(hour).order_by(hour))
        if shop_ref is not None:
            q = q.where(o.c.shop_ref == shop_ref)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    # -- timing ---------------------------------------------------------------------------
    SPANS = {"paid_confirmed": ("pay_time", "confirmed"),
             "paid_printed": ("pay_time", "printed"),
             "printed_scanned": ("printed", "scanned"),
             "confirmed_picked": ("confirmed", "picked")}

    def span_histograms(self, shop_ref: int | None, start: int, stop: int
                        ) -> dict[str, list[tuple[int, int]]]:
        """Per span: (whole minutes, parcels) over the parcels that have both times; a
        histogram keeps the rows bounded by the spread of minutes, not by parcels."""
        sp = self._shipped(shop_ref, start, stop, timing=True)
        out: dict[str, list[tuple[int, int]]] = {}
        for name, (a, b) in self.SPANS.items():
            minutes = ((sp.c[b] - sp.c[a]) // 60).label("minutes")
            q = (select(minutes, func.count().label("n"))
                 .where(sp.c[a].is_not(None), sp.c[b].is_not(None), sp.c[b] >= sp.c[a])
                 .group_by(minutes))
            out[name] = [(int(r.minutes), int(r.n)) for r in self.conn.execute(q)]
        return out

    def punctuality(self, shop_ref: int | None, start: int, stop: int, now: int
                    ) -> dict[str, int]:
        """{parcels, with_deadline, on_time, late, pickup_due, picked_in_time}: on time means
        confirmed by the order's promised ship time; pickup_due are the parcels whose 24 h
        have passed or that were picked up, picked_in_time those scanned within them."""
        sp = self._shipped(shop_ref, start, stop, timing=True)

        def n(cond: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

        picked_ok = and_(sp.c.picked.is_not(None),
                         sp.c.picked - sp.c.confirmed <= PICKUP_WINDOW_S)
        q = select(func.count().label("parcels"),
                   n(sp.c.exp.is_not(None)).label("with_deadline"),
                   n(and_(sp.c.exp.is_not(None), sp.c.confirmed <= sp.c.exp)).label("on_time"),
                   n(and_(sp.c.exp.is_not(None), sp.c.confirmed > sp.c.exp)).label("late"),
                   n(picked_ok | (sp.c.confirmed <= now - PICKUP_WINDOW_S)).label("pickup_due"),
                   n(picked_ok).label("picked_in_time"))
        return {k: int(v) for k, v in self.conn.execute(q).one()._mapping.items()}

    # -- returns --------------------------------------------------------------------------
    def returns_by_sku(self, shop_ref: int | None, start: int, stop: int
                       ) -> list[dict[str, Any]]:
        """After-sales on the lines shipped in the range: {code, type, reason, cases, units,
        refund (fen, a case's amount shared over its lines by units)} per merchant code,
        after-sale type and stated reason."""
        sp, pl, so = self._shipped(shop_ref, start, stop), m.pack_lines, m.sub_orders
        a, al = m.after_sales, m.after_sale_lines
        shipped_lines = (select(pl.c.sku_order_id)
                         .select_from(sp.join(pl, pl.c.pack_id == sp.c.pack_id)))
        al2 = al.alias("al2")
        case_units = (select(func.sum(al2.c.units)).where(al2.c.aftersale_id == al.c.aftersale_id)
                      .correlate(al).scalar_subquery())
        share = a.c.refund_amount * al.c.units * 1.0 / func.nullif(case_units, 0)
        q = (select(so.c.merchant_code.label("code"), a.c.aftersale_type.label("type"),
                    a.c.reason, func.count(distinct(a.c.aftersale_id)).label("cases"),
                    func.sum(al.c.units).label("units"),
                    func.coalesce(func.sum(share), 0).label("refund"))
             .select_from(al.join(a, a.c.aftersale_id == al.c.aftersale_id)
                          .join(so, so.c.sku_order_id == al.c.sku_order_id))
             .where(al.c.sku_order_id.in_(shipped_lines))
             .group_by(so.c.merchant_code, a.c.aftersale_type, a.c.reason))
        return [{**dict(r._mapping), "refund": int(round(float(r.refund)))}
                for r in self.conn.execute(q)]

    def orders_returned(self, shop_ref: int | None, start: int, stop: int, code: str,
                        limit: int = 500) -> list[dict[str, Any]]:
        """The orders behind a flag: lines of ``code`` shipped in the range with an after-sale
        counted as a return. {order_id, aftersale_id, type, reason, units, refund_amount}."""
        sp, pl, so = self._shipped(shop_ref, start, stop), m.pack_lines, m.sub_orders
        a, al = m.after_sales, m.after_sale_lines
        shipped_lines = (select(pl.c.sku_order_id)
                         .select_from(sp.join(pl, pl.c.pack_id == sp.c.pack_id)))
        q = (select(so.c.order_id, a.c.aftersale_id, a.c.aftersale_type.label("type"),
                    a.c.reason, al.c.units, a.c.refund_amount, a.c.apply_time)
             .select_from(al.join(a, a.c.aftersale_id == al.c.aftersale_id)
                          .join(so, so.c.sku_order_id == al.c.sku_order_id))
             .where(al.c.sku_order_id.in_(shipped_lines), so.c.merchant_code == code,
                    a.c.aftersale_type.in_(sorted(RETURN_TYPES)))
             .order_by(so.c.order_id, a.c.aftersale_id).limit(limit))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    # -- delivery per courier × province -------------------------------------------------
    # A tracker's events are orjson (compact) text, oldest first; "ever in a state" is a LIKE
    # on it, the same on SQLite and PostgreSQL, so a parcel that failed once and was then
    # delivered still counts as a failure.
    @staticmethod
    def _ever(t: Any, *states: str) -> ColumnElement[bool]:
        conds = [t.c.state.in_(states)]
        conds += [t.c.events.like(f'%"state":"{s}"%') for s in states]
        return or_(*conds)

    def _tracked(self, shop_ref: int | None, start: int, stop: int):
        """The parcels confirmed in [start, stop) that have a tracker, with what became of
        them: delivered (when), ever failed, refused, sent back."""
        p, o, t = m.packs, m.orders, m.trackers
        delivered = case((t.c.state == "delivered", t.c.state_since), else_=None)
        q = (select(p.c.id.label("pack_id"), o.c.order_id,
                    func.coalesce(p.c.courier_code, t.c.courier_code, "").label("courier"),
                    func.coalesce(o.c.province, "").label("province"),
                    t.c.shipped_at.label("confirmed"), delivered.label("delivered"),
                    t.c.state, t.c.track_no,
                    self._ever(t, "failed_attempt").label("failed"),
                    or_(self._ever(t, "rejected"), t.c.incident == "refused").label("refused"),
                    self._ever(t, "returning", "returned").label("returned"))
             .select_from(p.join(o, o.c.order_id == p.c.main_order_id)
                          .join(t, t.c.pack_id == p.c.id))
             .where(p.c.state == "confirmed", t.c.shipped_at >= start, t.c.shipped_at < stop))
        if shop_ref is not None:
            q = q.where(p.c.shop_ref == shop_ref)
        return q.subquery("tracked")

    def delivery(self, shop_ref: int | None, start: int, stop: int) -> list[dict[str, Any]]:
        """{courier, province, parcels, delivered, failed, refused, returned} per courier ×
        province over the tracked parcels confirmed in the range."""
        tr = self._tracked(shop_ref, start, stop)

        def n(cond: Any) -> Any:
            return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

        q = (select(tr.c.courier, tr.c.province, func.count().label("parcels"),
                    n(tr.c.delivered.is_not(None)).label("delivered"),
                    n(tr.c.failed).label("failed"), n(tr.c.refused).label("refused"),
                    n(tr.c.returned).label("returned"),
                    n(or_(tr.c.failed, tr.c.refused, tr.c.returned)).label("problems"))
             .group_by(tr.c.courier, tr.c.province))
        return [{k: (int(v) if k not in ("courier", "province") else v)
                 for k, v in r._mapping.items()} for r in self.conn.execute(q)]

    def delivery_hours(self, shop_ref: int | None, start: int, stop: int
                       ) -> list[dict[str, Any]]:
        """{courier, province, hours, n}: delivered parcels by whole hours confirmed →
        delivered (a histogram: rows bounded by the spread of hours, not by parcels)."""
        tr = self._tracked(shop_ref, start, stop)
        hours = ((tr.c.delivered - tr.c.confirmed) // HOUR).label("hours")
        q = (select(tr.c.courier, tr.c.province, hours, func.count().label("n"))
             .where(tr.c.delivered.is_not(None), tr.c.delivered >= tr.c.confirmed)
             .group_by(tr.c.courier, tr.c.province, hours))
        return [{"courier": r.courier, "province": r.province, "hours": int(r.hours),
                 "n": int(r.n)} for r in self.conn.execute(q)]

    def courier_parcels(self, shop_ref: int | None, start: int, stop: int, courier: str,
                        province: str, limit: int = 500) -> list[dict[str, Any]]:
        """The parcels behind a courier flag: {order_id, track_no, state, confirmed,
        delivered, failed, refused, returned}, problems first, then slowest."""
        tr = self._tracked(shop_ref, start, stop)
        problem = case((or_(tr.c.failed, tr.c.refused, tr.c.returned), 0), else_=1)
        took = func.coalesce(tr.c.delivered - tr.c.confirmed, -1)
        q = (select(tr.c.order_id, tr.c.track_no, tr.c.state, tr.c.confirmed, tr.c.delivered,
                    tr.c.failed, tr.c.refused, tr.c.returned)
             .where(tr.c.courier == courier, tr.c.province == province)
             .order_by(problem, took.desc(), tr.c.order_id).limit(limit))
        return [{**dict(r._mapping), "failed": bool(r.failed), "refused": bool(r.refused),
                 "returned": bool(r.returned)} for r in self.conn.execute(q)]

    # -- exceptions (findings) -----------------------------------------------------------
    def findings_by(self, shop_ref: int | None, start: int, stop: int
                    ) -> list[dict[str, Any]]:
        """{kind, courier, province, found, open}: findings opened in [start, stop) per kind ×
        courier × receiving province."""
        f, o = m.findings, m.orders
        prov = func.coalesce(o.c.province, "").label("province")
        q = (select(f.c.kind, f.c.courier_code.label("courier"), prov,
                    func.count().label("found"),
                    func.coalesce(func.sum(case((f.c.closed_at.is_(None), 1), else_=0)), 0)
                    .label("open"))
             .select_from(f.outerjoin(o, o.c.order_id == f.c.order_id))
             .where(f.c.opened_at >= start, f.c.opened_at < stop)
             .group_by(f.c.kind, f.c.courier_code, prov))
        if shop_ref is not None:
            q = q.where(f.c.shop_ref == shop_ref)
        return [{**dict(r._mapping), "found": int(r.found), "open": int(r.open)}
                for r in self.conn.execute(q)]

    def finding_close_hours(self, shop_ref: int | None, start: int, stop: int
                            ) -> list[dict[str, Any]]:
        """{kind, courier, province, hours, n}: closed findings opened in the range by whole
        hours from opening to closing."""
        f, o = m.findings, m.orders
        prov = func.coalesce(o.c.province, "").label("province")
        hours = ((f.c.closed_at - f.c.opened_at) // HOUR).label("hours")
        q = (select(f.c.kind, f.c.courier_code.label("courier"), prov, hours,
                    func.count().label("n"))
             .select_from(f.outerjoin(o, o.c.order_id == f.c.order_id))
             .where(f.c.opened_at >= start, f.c.opened_at < stop, f.c.closed_at.is_not(None),
                    f.c.closed_at >= f.c.opened_at)
             .group_by(f.c.kind, f.c.courier_code, prov, hours))
        if shop_ref is not None:
            q = q.where(f.c.shop_ref == shop_ref)
        return [{**dict(r._mapping), "hours": int(r.hours), "n": int(r.n)}
                for r in self.conn.execute(q)]
