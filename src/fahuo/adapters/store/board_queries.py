"""The 今天 board's counts: a handful of grouped counts, each served by an index."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, func, select

from . import models as m


class BoardQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def orders_by_state(self) -> dict[str, int]:
        o = m.orders
        return dict(self.conn.execute(select(o.c.state, func.count()).group_by(o.c.state)).all())

    def holds_by_reason(self) -> dict[str, int]:
        """Held orders per open hold reason (an order held for two reasons counts in both)."""
        h, o = m.order_holds, m.orders
        q = (select(h.c.reason, func.count(func.distinct(h.c.order_id)))
             .select_from(h.join(o, o.c.order_id == h.c.order_id))
             .where(h.c.released_at.is_(None), o.c.state == "held").group_by(h.c.reason))
        return dict(self.conn.execute(q).all())

    def packs_by_state(self, states: Iterable[str]) -> dict[str, int]:
        p = m.packs
        return dict(self.conn.execute(select(p.c.state, func.count()).where(
            p.c.state.in_(list(states))).group_by(p.c.state)).all())

    def due(self, states: Iterable[str], now: int, soon_s: int) -> tuple[int, int]:
        """(orders past their ship deadline, orders due within ``soon_s``) among ``states``."""
        o = m.orders
        waiting = and_(o.c.state.in_(list(states)), o.c.exp_ship_time.is_not(None))
        late = self.conn.execute(select(func.count()).where(
            waiting, o.c.exp_ship_time < now)).scalar_one()
        soon = self.conn.execute(select(func.count()).where(
            waiting, o.c.exp_ship_time >= now, o.c.exp_ship_time < now + soon_s)).scalar_one()
        return int(late), int(soon)

    def open_findings_by_kind(self) -> dict[str, int]:
        f = m.findings
        return dict(self.conn.execute(select(f.c.kind, func.count()).where(
            f.c.closed_at.is_(None)).group_by(f.c.kind)).all())

    def open_after_sales(self) -> int:
        a = m.after_sales
        return int(self.conn.execute(select(func.count()).where(
            a.c.closed_at.is_(None))).scalar_one())

    def shop_troubles(self, now: int, warn_s: int) -> list[dict[str, Any]]:
        """Enabled shops whose last sync failed or whose authorisation ends within
        ``warn_s`` (the refresh token: past it the merchant must authorise again)."""
        s, c = m.shops, m.sync_cursors
        q = (select(s.c.id, s.c.shop_id, s.c.shop_name, s.c.refresh_expires_at,
                    c.c.last_error)
             .select_from(s.outerjoin(c, and_(c.c.shop_ref == s.c.id, c.c.kind == "orders")))
             .where(s.c.enabled.is_(True)).order_by(s.c.id))
        out = []
        for r in self.conn.execute(q):
            ends = r.refresh_expires_at
            if r.last_error or (ends is not None and ends < now + warn_s):
                out.append({"shop_ref": r.id, "shop": r.shop_name or r.shop_id,
                            "sync_error": r.last_error or "", "auth_ends_at": ends
                            if ends is not None and ends < now + warn_s else None})
        return out
