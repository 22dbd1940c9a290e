"""The warehouse aggregate: which packs were handed to a third-party warehouse (each goes out
once), which stopped packs were told to it as cancelled, and which it confirmed shipped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from . import models as m


class WmsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def unsent_packs(self, states: Sequence[str], limit: int) -> list[int]:
        """Numbered packs in these states never handed over, deadline first."""
        w, p = m.wms_exports, m.packs
        sent = select(w.c.pack_id).where(w.c.pack_id == p.c.id).exists()
        return list(self.conn.execute(select(p.c.id).where(
            p.c.state.in_(list(states)), p.c.track_no.is_not(None), ~sent)
            .order_by(p.c.exp_ship_time.asc().nulls_last(), p.c.id).limit(limit)).scalars())

    def stopped_after_export(self, states: Sequence[str]) -> list[tuple[int, str]]:
        """(pack id, number) of handed-over packs now in these states, neither told as
        cancelled nor confirmed by the warehouse."""
        w, p = m.wms_exports, m.packs
        return [(r.id, r.track_no) for r in self.conn.execute(
            select(p.c.id, p.c.track_no).select_from(w.join(p, p.c.id == w.c.pack_id)).where(
                p.c.state.in_(list(states)), w.c.cancel_sent_at.is_(None),
                w.c.confirmed_at.is_(None)))]

    def mark_cancel_sent(self, pack_ids: Iterable[int], now: int) -> None:
        w = m.wms_exports
        self.conn.execute(update(w).where(w.c.pack_id.in_(sorted(set(pack_ids))))
                          .values(cancel_sent_at=now))

    def record_exported(self, pack_ids: Iterable[int], file_name: str, now: int) -> None:
        rows: list[dict[str, Any]] = [{"pack_id": i, "file_name": file_name, "exported_at": now}
                                      for i in pack_ids]
        if rows:
            self.conn.execute(m.wms_exports.insert(), rows)

    def mark_confirmed(self, pack_ids: Iterable[int], now: int) -> None:
        w = m.wms_exports
        ids = sorted(set(pack_ids))
        if ids:
            self.conn.execute(update(w).where(w.c.pack_id.in_(ids)).values(confirmed_at=now))


__all__ = ["WmsRepository"]
