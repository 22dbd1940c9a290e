"""The console's paged lists (``uow.lists``): a total and one page of each list, by its filter.

Every page query orders by a whole key (ties broken by the id) so page 2 starts exactly where
page 1 ended, and each filter with its order is served by an index (migration 0024), so
neither the count nor the page sorts the whole table: exceptions (open: oldest first, by
``closed_at, kind, since, id``), tracking (newest first, by ``state, id`` or
``courier_code, id``), after-sales (newest first, by ``update_time, aftersale_id``), the push
inbox (``received_at``), jobs and users (by id), stock (by code; the item table is the
merchant's catalogue) and deadlines (per unshipped state from
``ix_orders_state_deadline``, merged: each state gives at most ``offset + limit`` rows).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement, Connection, Select, and_, func, literal_column, or_, select, union_all,
)

from fahuo.domain.stock import SyncRule

from . import models as m

Rows = list[dict[str, Any]]


def _like(text: str) -> str:
    """``text`` as a LIKE pattern that finds it anywhere (its own % and _ taken literally)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ListQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _page(self, q: Select[Any], conds: list[ColumnElement[bool]], table: Any,
              limit: int, offset: int) -> tuple[int, Rows]:
        where = and_(*conds) if conds else None
        cq = select(func.count()).select_from(table)
        if where is not None:
            cq, q = cq.where(where), q.where(where)
        total = self.conn.execute(cq).scalar_one()
        rows = [dict(r._mapping) for r in self.conn.execute(q.limit(limit).offset(offset))]
        return total, rows

    # ---- 物流异常 ------------------------------------------------------------------------
    def _finding_conds(self, status: str, kind: str | None, assignee: str | None,
                       shop_ref: int | None) -> list[ColumnElement[bool]]:
        f = m.findings
        conds: list[ColumnElement[bool]] = []
        if status == "open":
            conds.append(f.c.closed_at.is_(None))
        elif status == "closed":
            conds.append(f.c.closed_at.is_not(None))
        if kind:
            conds.append(f.c.kind == kind)
        if assignee is not None:
            conds.append(f.c.assignee == assignee)
        if shop_ref:
            conds.append(f.c.shop_ref == shop_ref)
        return conds

    def findings(self, *, status: str = "open", kind: str | None = None,
                 assignee: str | None = None, shop_ref: int | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[int, Rows]:
        """status open: oldest trouble first; closed: last closed first; all: newest first."""
        f = m.findings
        order = {"open": (f.c.since, f.c.id),  # ix_findings_open_since, or _kind_since
                 "closed": (f.c.closed_at.desc(), f.c.since.desc(), f.c.id.desc()),  # reversed
                 }.get(status, (f.c.id.desc(),))
        return self._page(select(f).order_by(*order),
                          self._finding_conds(status, kind, assignee, shop_ref), f, limit,
                          offset)

    def open_finding_ids(self, *, status: str = "open", kind: str | None = None,
                         assignee: str | None = None, shop_ref: int | None = None
                         ) -> list[int]:
        """The ids of every open finding the filter matches (a batch action's "all N")."""
        f = m.findings
        conds = self._finding_conds(status, kind, assignee, shop_ref)
        if status != "open":
            conds.append(f.c.closed_at.is_(None))
        return list(self.conn.execute(
            select(f.c.id).where(and_(*conds)).order_by(f.c.id)).scalars())

    # ---- 物流跟踪 ------------------------------------------------------------------------
    def trackers(self, *, state: str | None = None, courier: str | None = None,
                 shop_ref: int | None = None, order_id: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[int, Rows]:
        """Newest first, without the event history (the newest event is its own column)."""
        t = m.trackers
        conds: list[ColumnElement[bool]] = []
        if state:
            conds.append(t.c.state == state)
        if courier:
            conds.append(t.c.courier_code == courier)
        if shop_ref:
            conds.append(t.c.shop_ref == shop_ref)
        if order_id:
            conds.append(t.c.order_id == order_id)
        q = select(*[c for c in t.c if c.name != "events"]).order_by(t.c.id.desc())
        return self._page(q, conds, t, limit, offset)

    # ---- 售后 ----------------------------------------------------------------------------
    def cases(self, *, status: str = "open", aftersale_type: int | None = None,
              stage: str | None = None, limit: int = 50, offset: int = 0
              ) -> tuple[int, Rows]:
        """Newest first; status open | closed | intercept (touched) | all."""
        a = m.after_sales
        conds: list[ColumnElement[bool]] = []
        if status == "open":
            conds.append(a.c.closed_at.is_(None))
        elif status == "closed":
            conds.append(a.c.closed_at.is_not(None))
        elif status == "intercept":
            conds.append(a.c.intercept_state != "")
        if aftersale_type is not None:
            conds.append(a.c.aftersale_type == aftersale_type)
        if stage:
            conds.append(a.c.stage == stage)
        q = select(a).order_by(a.c.update_time.desc(), a.c.aftersale_id.desc())
        return self._page(q, conds, a, limit, offset)

    # ---- 库存 ----------------------------------------------------------------------------
    def stock(self, *, search: str | None = None, level: str | None = None,
              limit: int = 50, offset: int = 0) -> tuple[int, Rows]:
        """By code; search: part of the merchant code or of the name; level: ``out``
        (nothing available) or ``low`` (some, at most the safety stock)."""
        s = m.stock_items
        conds: list[ColumnElement[bool]] = []
        if search:
            pat = _like(search.lower())
            conds.append(or_(func.lower(s.c.sku_code).like(pat, escape="\\"),
                             func.lower(s.c.name).like(pat, escape="\\")))
        available = s.c.on_hand - s.c.reserved
        if level == "out":
            conds.append(available <= 0)
        elif level == "low":
            conds.append(and_(available > 0, available <= s.c.safety))
        total, rows = self._page(select(s).order_by(s.c.sku_code, s.c.warehouse), conds, s,
                                 limit, offset)
        for r in rows:
            r["available"] = r["on_hand"] - r["reserved"]
            r["sync_rule"] = SyncRule.from_dict(orjson.loads(r["sync_rule"] or "{}")).to_dict()
        return total, rows

    # ---- 推送消息 ------------------------------------------------------------------------
    def inbox(self, *, status: str | None = None, limit: int = 50, offset: int = 0
              ) -> tuple[int, Rows]:
        """Newest first (the message itself, ``data``, is not read)."""
        p = m.push_inbox
        q = (select(*[c for c in p.c if c.name != "data"])
             .order_by(p.c.received_at.desc(), p.c.msg_id.desc()))
        return self._page(q, [p.c.status == status] if status else [], p, limit, offset)

    # ---- 发货任务 ------------------------------------------------------------------------
    def jobs(self, *, kind: str | None = None, status: str | None = None,
             limit: int = 50, offset: int = 0) -> tuple[int, Rows]:
        """Import and batch-ship jobs, newest first."""
        j = m.ship_jobs
        conds: list[ColumnElement[bool]] = []
        if kind:
            conds.append(j.c.kind == kind)
        if status:
            conds.append(j.c.status == status)
        return self._page(select(j).order_by(j.c.id.desc()), conds, j, limit, offset)

    def job_head(self, job_id: int) -> dict[str, Any] | None:
        """The job without its rows."""
        r = self.conn.execute(select(m.ship_jobs).where(m.ship_jobs.c.id == job_id)).first()
        return None if r is None else dict(r._mapping)

    def job_items(self, job_id: int, *, status: str | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[int, Rows]:
        """One job's rows in file order (the primary key: job, line)."""
        i = m.ship_job_items
        conds = [i.c.job_id == job_id] + ([i.c.status == status] if status else [])
        return self._page(select(i).order_by(i.c.line_no), conds, i, limit, offset)

    def job_item_counts(self, job_id: int) -> dict[str, int]:
        i = m.ship_job_items
        return dict(self.conn.execute(select(i.c.status, func.count()).where(
            i.c.job_id == job_id).group_by(i.c.status)).all())

    # ---- 用户 ----------------------------------------------------------------------------
    def users(self, *, role: str | None = None, disabled: bool | None = None,
              limit: int = 50, offset: int = 0) -> tuple[int, Rows]:
        """By id, with each user's session count (hashes never leave the store)."""
        u, s = m.users, m.sessions
        conds: list[ColumnElement[bool]] = []
        if role:
            conds.append(u.c.role == role)
        if disabled is not None:
            conds.append(u.c.disabled.is_(disabled))
        sessions = (select(func.count()).select_from(s).where(s.c.user_id == u.c.id)
                    .scalar_subquery())
        q = select(*[c for c in u.c if c.name not in ("password_hash", "api_token_hash")],
                   u.c.api_token_hash.is_not(None).label("has_token"),
                   sessions.label("sessions")).order_by(u.c.id)
        total, rows = self._page(q, conds, u, limit, offset)
        for r in rows:
            r["has_token"] = bool(r["has_token"])
        return total, rows

    # ---- 发货时效 ------------------------------------------------------------------------
    def due(self, states: tuple[str, ...], *, after: int | None, until: int | None,
            shop_ref: int | None = None, limit: int = 50, offset: int = 0
            ) -> tuple[int, Rows]:
        """Paid orders in ``states`` whose ship deadline is in (after, until], earliest first.

        Each state's rows come in deadline order from ``(state, exp_ship_time, order_id)``;
        at most ``offset + limit`` of each are merged, never the whole table."""
        o = m.orders

        def conds(state: str | None) -> list[ColumnElement[bool]]:
            c: list[ColumnElement[bool]] = [
                o.c.state == state if state else o.c.state.in_(states),
                o.c.exp_ship_time.is_not(None), o.c.order_status.in_((2, 101))]
            if after is not None:
                c.append(o.c.exp_ship_time > after)
            if until is not None:
                c.append(o.c.exp_ship_time <= until)
            if shop_ref:
                c.append(o.c.shop_ref == shop_ref)
            return c

        total = self.conn.execute(select(func.count()).select_from(o).where(
            *conds(None))).scalar_one()
        cols = (o.c.order_id, o.c.shop_ref, o.c.exp_ship_time, o.c.state)
        parts = [select(*cols).where(*conds(st)).order_by(o.c.exp_ship_time, o.c.order_id)
                 .limit(offset + limit).subquery() for st in states]
        merged = union_all(*[select(p) for p in parts]).subquery()
        q = (select(merged).order_by(literal_column("exp_ship_time"),
                                     literal_column("order_id")).limit(limit).offset(offset))
        return total, [dict(r._mapping) for r in self.conn.execute(q)]


__all__ = ["ListQueries"]
