"""Findings (exception records), alert channels and the alerts sent."""

from __future__ import annotations

import time
from typing import Any, Iterable

import orjson
from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, select, update

from fahuo.adapters.crypto import SecretBox

from . import models as m
from .repositories import _insert, new_id


def _now() -> int:
    return int(time.time())


def _json(v: Any) -> str:
    return orjson.dumps(v).decode()


class FindingRepository:
    conn: Connection
    box: SecretBox

    # ---- findings (exception records) ------------------------------------------------
    def open_findings(self, *, kinds: Iterable[str] | None = None,
                      order_ids: Iterable[str] | None = None,
                      track_nos: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        f = m.findings
        q = select(f).where(f.c.closed_at.is_(None))
        if kinds is not None:
            q = q.where(f.c.kind.in_(sorted(set(kinds))))
        if order_ids is not None:
            q = q.where(f.c.order_id.in_(sorted(set(order_ids))))
        if track_nos is not None:
            q = q.where(f.c.track_no.in_(sorted(set(track_nos))))
        return {r.key: dict(r._mapping) for r in self.conn.execute(q)}

    def dismissed_keys(self, keys: Iterable[str]) -> set[str]:
        ks = sorted(set(keys))
        out: set[str] = set()
        f = m.findings
        for i in range(0, len(ks), 500):
            out.update(self.conn.execute(select(f.c.key).where(
                f.c.key.in_(ks[i:i + 500]), f.c.dismissed.is_(True))).scalars())
        return out

    def open_new(self, rows: list[dict[str, Any]], now: int) -> int:
        """Open findings; a key seen before (closed by the system) opens again."""
        if not rows:
            return 0
        f = m.findings
        keys = [r["key"] for r in rows]
        old: set[str] = set()
        for i in range(0, len(keys), 500):
            old.update(self.conn.execute(select(f.c.key).where(
                f.c.key.in_(keys[i:i + 500]))).scalars())
        fresh = [{**r, "opened_at": now, "notes": "[]", "dismissed": False, "told": "[]"}
                 for r in rows if r["key"] not in old]
        again = [r for r in rows if r["key"] in old]
        if fresh:  # another sweep may open the same key meanwhile: theirs stands
            self.conn.execute(_insert(self.conn, f).on_conflict_do_nothing(
                index_elements=["key"]), fresh)
        if again:
            self.conn.execute(update(f).where(f.c.key == bindparam("_key")).values(
                closed_at=None, close_reason="", opened_at=now, alerted_at=None, told="[]",
                since=bindparam("since"), detail=bindparam("detail"),
                last_event=bindparam("last_event")),
                [{"_key": r["key"], "since": r["since"], "detail": r["detail"],
                  "last_event": r.get("last_event")} for r in again])
        return len(rows)

    def close(self, keys: list[str], now: int, reason: str) -> None:
        f = m.findings
        for i in range(0, len(keys), 500):
            self.conn.execute(update(f).where(f.c.key.in_(keys[i:i + 500]),
                                              f.c.closed_at.is_(None))
                              .values(closed_at=now, close_reason=reason))

    def finding(self, finding_id: int) -> dict[str, Any] | None:
        r = self.conn.execute(select(m.findings).where(m.findings.c.id == finding_id)).first()
        return None if r is None else dict(r._mapping)

    def list_findings(self, *, status: str = "open", kind: str | None = None,
                      shop_ref: int | None = None, assignee: str | None = None,
                      order_id: str | None = None, limit: int = 100, offset: int = 0
                      ) -> tuple[int, list[dict[str, Any]]]:
        f = m.findings
        conds: list[ColumnElement[bool]] = []
        if status == "open":
            conds.append(f.c.closed_at.is_(None))
        elif status == "closed":
            conds.append(f.c.closed_at.is_not(None))
        if kind:
            conds.append(f.c.kind == kind)
        if shop_ref:
            conds.append(f.c.shop_ref == shop_ref)
        if assignee is not None:
            conds.append(f.c.assignee == assignee)
        if order_id:
            conds.append(f.c.order_id == order_id)
        where = and_(*conds) if conds else None
        cq, q = select(func.count()).select_from(f), select(f).order_by(f.c.since, f.c.id)
        if where is not None:
            cq, q = cq.where(where), q.where(where)
        total = self.conn.execute(cq).scalar_one()
        return total, [dict(r._mapping) for r in self.conn.execute(q.limit(limit).offset(offset))]

    def count_open_by_kind(self) -> dict[str, int]:
        f = m.findings
        return {k: n for k, n in self.conn.execute(
            select(f.c.kind, func.count()).where(f.c.closed_at.is_(None)).group_by(f.c.kind))}

    def update_finding(self, finding_id: int, **values: Any) -> None:
        self.conn.execute(update(m.findings).where(m.findings.c.id == finding_id).values(**values))

    def untold(self, channels: list[str], limit: int = 20000) -> list[dict[str, Any]]:
        """Open findings some of these channels have not been told about this episode."""
        f = m.findings
        q = (select(f).where(f.c.closed_at.is_(None), f.c.told != _json(sorted(channels)))
             .order_by(f.c.kind, f.c.since, f.c.id).limit(limit))
        out = []
        for r in self.conn.execute(q):
            d = dict(r._mapping)
            d["told"] = orjson.loads(d["told"] or "[]")
            if set(channels) - set(d["told"]):
                out.append(d)
        return out

    def mark_told(self, told: dict[int, set[str]], now: int) -> None:
        """Add channels to what each finding has been told (and stamp the first telling)."""
        if not told:
            return
        f = m.findings
        ids = sorted(told)
        current = {}
        for i in range(0, len(ids), 500):
            for fid, t in self.conn.execute(select(f.c.id, f.c.told).where(
                    f.c.id.in_(ids[i:i + 500]))):
                current[fid] = set(orjson.loads(t or "[]"))
        self.conn.execute(update(f).where(f.c.id == bindparam("_id")).values(
            told=bindparam("_told"), alerted_at=func.coalesce(f.c.alerted_at, now)),
            [{"_id": fid, "_told": _json(sorted(current.get(fid, set()) | chans))}
             for fid, chans in told.items()])

    # ---- alert channels --------------------------------------------------------------
    def add_channel(self, name: str, kind: str, config: dict[str, Any], kinds: list[str],
                    interval_s: int) -> int:
        res = self.conn.execute(m.alert_channels.insert().values(
            name=name, kind=kind, config_enc=self.box.encrypt(_json(config)), kinds=_json(kinds),
            interval_s=interval_s, enabled=True, created_at=_now()))
        return new_id(res)

    def channels(self, *, enabled_only: bool = False) -> list[dict[str, Any]]:
        q = select(m.alert_channels).order_by(m.alert_channels.c.id)
        if enabled_only:
            q = q.where(m.alert_channels.c.enabled.is_(True))
        out = []
        for r in self.conn.execute(q):
            d = dict(r._mapping)
            d["config"] = orjson.loads(self.box.decrypt(d.pop("config_enc")) or "{}")
            d["kinds"] = orjson.loads(d["kinds"])
            out.append(d)
        return out

    def delete_channel(self, name: str) -> bool:
        return self.conn.execute(m.alert_channels.delete().where(
            m.alert_channels.c.name == name)).rowcount > 0

    def log_alert(self, channel: str, kind: str, title: str, count: int, ok: bool,
                  error: str | None, now: int) -> None:
        self.conn.execute(m.alert_log.insert().values(channel=channel, kind=kind, title=title,
                                                      count=count, ok=ok, error=error,
                                                      sent_at=now))

    def last_sent(self, *, delivered_only: bool = True) -> dict[tuple[str, str], int]:
        """(channel, kind) → when the last alert was delivered (or just tried)."""
        a = m.alert_log
        q = select(a.c.channel, a.c.kind, func.max(a.c.sent_at)).group_by(a.c.channel, a.c.kind)
        if delivered_only:
            q = q.where(a.c.ok.is_(True))
        return {(c, k): int(t) for c, k, t in self.conn.execute(q)}

    def alert_history(self, limit: int = 50) -> list[dict[str, Any]]:
        a = m.alert_log
        return [dict(r._mapping) for r in self.conn.execute(
            select(a).order_by(a.c.id.desc()).limit(limit))]


__all__ = ["FindingRepository"]
