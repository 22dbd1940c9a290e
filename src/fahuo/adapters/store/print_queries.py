"""Which packs a print may take: live numbers, by selection or filter (part of ``uow.prints``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, exists, select

from . import models as m


class PrintQueries:
    """Mixed into ``PrintRepository``. The service says which pack and order states count as
    live; these queries only apply them."""

    conn: Connection

    def _printable(self, live_states: Sequence[str], done_orders: Sequence[str]) -> Any:
        p, w, o = m.packs, m.waybills, m.orders
        # No waybill row (packs made by hand, older installs): nothing says it went back.
        joined = (p.outerjoin(w, and_(w.c.pack_id == p.c.id, w.c.track_no == p.c.track_no,
                                      w.c.courier_code == p.c.courier_code))
                  .join(o, o.c.order_id == p.c.main_order_id))
        return (select(p, w.c.source.label("waybill_source"))
                .select_from(joined)
                .where(p.c.state.in_(list(live_states)), p.c.track_no.is_not(None),
                       p.c.track_no != "",
                       (w.c.status.is_(None)) | (w.c.status != "recycled"),
                       o.c.state.not_in(list(done_orders))))

    def printable_packs(self, *, live_states: Sequence[str], done_orders: Sequence[str],
                        shop_ref: int | None = None, courier: str | None = None,
                        due_before: int | None = None, not_printed: bool = True,
                        kind: str = "labels", limit: int = 5000) -> list[dict[str, Any]]:
        """Packs with a live number matching the filter, earliest deadline first (packs
        without a deadline last, unless a deadline is asked for); each with
        ``waybill_source`` (``ewaybill``: a Douyin platform number; ``manual``; or None)."""
        p = m.packs
        q = self._printable(live_states, done_orders)
        if shop_ref is not None:
            q = q.where(p.c.shop_ref == shop_ref)
        if courier:
            q = q.where(p.c.courier_code == courier)
        if due_before is not None:
            q = q.where(p.c.exp_ship_time.is_not(None), p.c.exp_ship_time <= due_before)
        if not_printed:
            r = m.print_records
            q = q.where(~exists().where(r.c.pack_id == p.c.id, r.c.kind == kind))
        rows = list(self.conn.execute(q.where(p.c.exp_ship_time.is_not(None))
                                      .order_by(p.c.exp_ship_time, p.c.id).limit(limit)))
        if len(rows) < limit and due_before is None:
            rows += self.conn.execute(q.where(p.c.exp_ship_time.is_(None)).order_by(p.c.id)
                                      .limit(limit - len(rows))).all()
        return [dict(r._mapping) for r in rows]

    def label_facts(self, pack_ids: Sequence[int], *, live_states: Sequence[str],
                    done_orders: Sequence[str]) -> dict[int, dict[str, Any]]:
        """The packs among these with a live number (as ``printable_packs`` rows)."""
        if not pack_ids:
            return {}
        q = self._printable(live_states, done_orders).where(m.packs.c.id.in_(list(pack_ids)))
        return {r.id: dict(r._mapping) for r in self.conn.execute(q)}

    def component_results(self, subject_type: str, limit: int = 30) -> list[dict[str, Any]]:
        """The print component's task outcomes (kept as audit entries), newest first."""
        a = m.audit_log
        q = (select(a.c.at, a.c.actor, a.c.detail).where(a.c.subject_type == subject_type)
             .order_by(a.c.id.desc()).limit(limit))
        out = []
        for at, actor, detail in self.conn.execute(q):
            d = json.loads(detail or "{}")
            out.append({"at": at, "actor": actor, "task_id": d.get("task_id", ""),
                        "status": d.get("status", ""), "msg": d.get("msg", ""),
                        "printer": d.get("printer", ""), "printed": d.get("printed", []),
                        "failed": d.get("failed", {})})
        return out
