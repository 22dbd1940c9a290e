"""``uow.scans``: what the packing desk scanned and the answer it got (扫描发货).

A day's count is a query on stored scans, so it survives a reload and two desks agree: a parcel
is counted once however often it is scanned (``COUNT(DISTINCT pack_id)`` over the scans that
let it go)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from . import models as m


class ScanRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, at: int, actor: str, code: str, pack_id: int | None, courier_code: str,
            order_ids: Sequence[str], verdict: str, ok: bool, message: str) -> None:
        self.conn.execute(m.scans.insert().values(
            at=at, actor=actor[:64], code=code[:64], pack_id=pack_id,
            courier_code=courier_code[:32], order_ids=",".join(order_ids), verdict=verdict,
            ok=ok, message=message))

    def day_counts(self, start: int, end: int, actor: str) -> dict[str, int]:
        """Within [start, end): parcels let go by ``actor`` and by everyone, refusals."""
        s = m.scans
        in_day = (s.c.at >= start, s.c.at < end)
        parcels = func.count(distinct(s.c.pack_id))
        mine = self.conn.execute(select(parcels).where(
            *in_day, s.c.actor == actor, s.c.ok.is_(True))).scalar_one()
        total, refused = self.conn.execute(select(
            select(parcels).where(*in_day, s.c.ok.is_(True)).scalar_subquery(),
            select(func.count()).where(*in_day, s.c.ok.is_(False)).scalar_subquery(),
        )).one()
        return {"mine": int(mine), "total": int(total), "refused": int(refused)}

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The last ``limit`` scans, newest first."""
        s = m.scans
        q = select(s).order_by(s.c.at.desc(), s.c.id.desc()).limit(limit)
        rows = [dict(r._mapping) for r in self.conn.execute(q)]
        for r in rows:
            r["order_ids"] = [o for o in r["order_ids"].split(",") if o]
        return rows
