"""The orders workbench's reads (/orders, GET /api/orders, ``fahuo orders list``).

One filter (``domain.order_filter.OrderFilter``) becomes one WHERE; pages are keyset pages
on (sort key, order_id) served by the ``ix_orders_wb_*`` indexes (models.py), so the
millionth order's page costs what the first does. The search box goes through
``order_search`` (exact terms, or a prefix range on its primary key), never a LIKE scan.
A page's lines, parcels and holds are read in one query each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement, Connection, and_, exists, func, literal, not_, select, tuple_,
)

from fahuo.domain.holds import OPEN_AFTER_SALE_STATUSES
from fahuo.domain.order_filter import Cursor, OrderFilter, TooMany
from fahuo.domain.orders import SENT, OrderState
from fahuo.domain.search import query_terms

from . import models as m

# orders not yet handed to a courier: the ones a deadline window is about
WAITING = ("synced", "held", "approved", "waybill_taken", "printed")
GONE_PACKS = ("cancelled", "stale")
_PREFIX_END = "\U0010ffff"
_SLICE = 500
o = m.orders
PAGE_COLS = [o.c.order_id, o.c.shop_ref, o.c.state, o.c.order_status, o.c.create_time,
             o.c.pay_time, o.c.exp_ship_time, o.c.pay_amount, o.c.order_amount,
             o.c.post_amount, o.c.receiver_name_mask, o.c.receiver_phone_mask,
             o.c.receiver_address_mask, o.c.province, o.c.city, o.c.district,
             o.c.buyer_words, o.c.seller_words, o.c.presale_type]
SORT_KEYS: dict[str, tuple[Any, bool]] = {  # sort → (key, ascending)
    "deadline": (m.DEADLINE_KEY, True),
    "paid": (m.PAID_KEY, False),
    "amount": (o.c.pay_amount, False),
}


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    next: Cursor | None  # the page after (None: this is the last)
    prev: Cursor | None  # the page before (None: this is the first)


@dataclass
class PageDetails:
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    packs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    holds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _in_subquery(q) -> ColumnElement[bool]:
    return o.c.order_id.in_(q)


def _province(name: str) -> ColumnElement[bool]:
    base = name.removesuffix("省").removesuffix("市")
    return o.c.province.in_(sorted({name, base, base + "省", base + "市"}))


def conditions(f: OrderFilter, now: int, *, walk: bool = False) -> list[ColumnElement[bool]]:
    """The WHERE of a filter (ANDed). ``now``: the deadline windows' reference.

    ``walk``: for a page read along a sort index, where a filter most orders pass
    (printed, courier) is a probe per order read (EXISTS) rather than the set of every
    order that passes built first; a count takes the set (each order once)."""
    c: list[ColumnElement[bool]] = []
    s, h, p, pl, pr = m.order_search, m.order_holds, m.packs, m.pack_lines, m.print_records
    for t in query_terms(f.q):
        if t.prefix:
            hit = and_(s.c.term >= t.term, s.c.term < t.term + _PREFIX_END)
        else:
            hit = s.c.term == t.term
        c.append(_in_subquery(select(s.c.order_id).where(hit)))
    if f.shop is not None:
        c.append(o.c.shop_ref == f.shop)
    if f.state:
        c.append(o.c.state == f.state)
    if f.hold:
        c.append(_in_subquery(select(h.c.order_id).where(h.c.reason == f.hold,
                                                          h.c.released_at.is_(None))))
    if f.courier:
        by_courier = select(pl.c.order_id).select_from(
            pl.join(p, p.c.id == pl.c.pack_id)).where(
            p.c.courier_code == f.courier, p.c.state.not_in(GONE_PACKS))
        c.append(exists(by_courier.where(pl.c.order_id == o.c.order_id)) if walk
                 else _in_subquery(by_courier))
    if f.printed is not None:
        labelled = select(pl.c.order_id).select_from(
            pl.join(pr, pr.c.pack_id == pl.c.pack_id)).where(pr.c.kind == "labels")
        printed = (exists(labelled.where(pl.c.order_id == o.c.order_id)) if walk
                   else _in_subquery(labelled))
        c.append(printed if f.printed else not_(printed))
    if f.confirmed is not None:
        # the states named either way (never NOT IN), so the state indexes serve both
        c.append(o.c.state.in_(sorted(str(x) for x in OrderState
                                      if (x in SENT) == f.confirmed)))
    if f.due:
        key = m.DEADLINE_KEY
        c.append(o.c.state.in_(WAITING))
        c.append({"overdue": key < now,
                  "6h": and_(key >= now, key < now + 6 * 3600),
                  "24h": and_(key >= now, key < now + 24 * 3600),
                  "later": key >= now + 24 * 3600}[f.due])
    if f.paid_from is not None:
        c.append(m.PAID_KEY >= f.paid_from)
    if f.paid_to is not None:
        c.append(and_(o.c.pay_time.is_not(None), m.PAID_KEY < f.paid_to))
    # An amount range on a page sorted otherwise: read along the sort index and test each
    # order's amount (``+ 0`` keeps the planner off the amount index, which would gather and
    # sort the whole range first); sorted by amount, the range is the amount index's own.
    amount = o.c.pay_amount if f.sort == "amount" or not walk else o.c.pay_amount + 0
    if f.amount_min is not None:
        c.append(amount >= f.amount_min)
    if f.amount_max is not None:
        c.append(amount <= f.amount_max)
    if f.province:
        c.append(_province(f.province))
    if f.aftersale:
        so = m.sub_orders
        if f.aftersale == "open":
            c.append(_in_subquery(select(so.c.order_id).where(
                so.c.after_sale_status.in_(sorted(OPEN_AFTER_SALE_STATUSES)))))
        else:
            any_case = _in_subquery(select(so.c.order_id).where(so.c.after_sale_status > 0))
            c.append(any_case if f.aftersale == "any" else not_(any_case))
    if f.presale is not None:
        c.append(o.c.presale_type > 0 if f.presale else o.c.presale_type == 0)
    return c


class WorkbenchQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _key(self, f: OrderFilter):
        key, asc = SORT_KEYS[f.sort]
        if f.q:
            # A search names few orders: start from its terms and sort those, rather than
            # walk the sort index probing each order (SQLite has no statistics to tell).
            key = key + literal(0)
        return key, asc

    def count(self, f: OrderFilter, now: int) -> int:
        where = conditions(f, now)
        q = select(func.count()).select_from(o)
        if where:
            q = q.where(and_(*where))
        return int(self.conn.execute(q).scalar_one())

    def page(self, f: OrderFilter, now: int, *, after: Cursor | None = None,
             before: Cursor | None = None, limit: int = 50) -> Page:
        """One page in sort order: after ``after``, or the one ending before ``before``, or
        the first. ``next``/``prev`` are None at either end."""
        key, asc = self._key(f)
        where = conditions(f, now, walk=True)
        edge = after or before
        backwards = before is not None and after is None
        if edge is not None:
            pair, at = tuple_(key, o.c.order_id), tuple_(literal(edge.key), literal(edge.order_id))
            forward_up = asc != backwards  # the direction rows are read in goes up
            where.append(pair > at if forward_up else pair < at)
        up = asc != backwards
        order = (key.asc(), o.c.order_id.asc()) if up else (key.desc(), o.c.order_id.desc())
        q = select(*PAGE_COLS, key.label("sort_key")).order_by(*order).limit(limit + 1)
        if where:
            q = q.where(and_(*where))
        rows = [dict(r._mapping) for r in self.conn.execute(q)]
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            rows.reverse()
        first = Cursor(int(rows[0]["sort_key"]), rows[0]["order_id"]) if rows else None
        last = Cursor(int(rows[-1]["sort_key"]), rows[-1]["order_id"]) if rows else None
        if backwards:
            nxt, prev = (last if rows else before), (first if more else None)
        else:
            nxt, prev = (last if more else None), (first if edge is not None and rows else None)
            if edge is not None and not rows:
                prev = edge  # ran past the end: back to where we came from
        return Page(rows=rows, total=self.count(f, now), next=nxt, prev=prev)

    def ids(self, f: OrderFilter, now: int, *, most: int) -> list[str]:
        """Every order the filter matches, in sort order (the "select all N matching" of a
        batch action). Raises TooMany past ``most`` rather than act on a part."""
        key, asc = self._key(f)
        where = conditions(f, now, walk=True)
        q = select(o.c.order_id).order_by(key.asc() if asc else key.desc(),
                                          o.c.order_id.asc() if asc else o.c.order_id.desc())
        if where:
            q = q.where(and_(*where))
        found = [r[0] for r in self.conn.execute(q.limit(most + 1))]
        if len(found) > most:
            raise TooMany(f"符合条件的订单超过 {most} 单，请再加筛选条件后分批处理")
        return found

    def rows(self, order_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The page columns of these orders (an export of a selection), in the given order."""
        got: dict[str, dict[str, Any]] = {}
        ids = list(order_ids)
        for i in range(0, len(ids), _SLICE):
            for r in self.conn.execute(select(*PAGE_COLS).where(
                    o.c.order_id.in_(ids[i:i + _SLICE]))):
                got[r.order_id] = dict(r._mapping)
        return [got[i] for i in ids if i in got]

    def details(self, order_ids: Sequence[str]) -> PageDetails:
        """Lines, live parcels (courier, number, labels printed) and open holds of a page:
        one query each, whatever the page's size (batches of 500 ids)."""
        out = PageDetails(lines=defaultdict(list), packs=defaultdict(list),
                          holds=defaultdict(list))
        ids = sorted(set(order_ids))
        so, p, pl, h, pr = m.sub_orders, m.packs, m.pack_lines, m.order_holds, m.print_records
        prints = (select(func.count()).where(pr.c.pack_id == p.c.id, pr.c.kind == "labels")
                  .scalar_subquery())
        for i in range(0, len(ids), _SLICE):
            part = ids[i:i + _SLICE]
            for r in self.conn.execute(select(
                    so.c.order_id, so.c.sku_order_id, so.c.product_name, so.c.merchant_code,
                    so.c.spec, so.c.quantity, so.c.after_sale_status).where(
                    so.c.order_id.in_(part)).order_by(so.c.order_id, so.c.sku_order_id)):
                out.lines[r.order_id].append(dict(r._mapping))
            for pk in self.conn.execute(select(
                    pl.c.order_id, p.c.id, p.c.state, p.c.courier_code, p.c.track_no,
                    prints.label("prints")).distinct().select_from(
                    pl.join(p, p.c.id == pl.c.pack_id)).where(
                    pl.c.order_id.in_(part), p.c.state.not_in(GONE_PACKS)).order_by(
                    pl.c.order_id, p.c.id)):
                out.packs[pk.order_id].append(dict(pk._mapping))
            for hd in self.conn.execute(select(h.c.order_id, h.c.reason, h.c.detail).where(
                    h.c.order_id.in_(part), h.c.released_at.is_(None)).order_by(
                    h.c.order_id, h.c.id)):
                out.holds[hd.order_id].append(dict(hd._mapping))
        out.lines, out.packs, out.holds = dict(out.lines), dict(out.packs), dict(out.holds)
        return out

    def bare_page(self, f: OrderFilter, now: int, *, after: Cursor | None = None,
                  limit: int = 50) -> list[str]:
        """The same page's order ids alone, no count nor details (bench/console.py's
        baseline)."""
        key, asc = self._key(f)
        where = conditions(f, now, walk=True)
        if after is not None:
            pair, at = tuple_(key, o.c.order_id), tuple_(literal(after.key),
                                                         literal(after.order_id))
            where.append(pair > at if asc else pair < at)
        q = select(o.c.order_id).order_by(key.asc() if asc else key.desc(),
                                          o.c.order_id.asc() if asc else o.c.order_id.desc())
        if where:
            q = q.where(and_(*where))
        return [r[0] for r in self.conn.execute(q.limit(limit))]

