"""Trackers, their provider accounts and the push inbox (``uow.tracking``, with the parcel
reads and findings of ``tracking_repositories``).

Batch-first like the rest of the store: every read takes many ids, every write many rows.
Events are kept as JSON on the tracker (oldest first); the newest one also sits in its own
column so the detection sweep and the screens never parse the whole history.
"""

from __future__ import annotations

import time
from typing import Any, Iterable

import orjson
from sqlalchemy import Connection, and_, bindparam, func, select, update

from fahuo.adapters.crypto import SecretBox

from . import models as m
from .repositories import _insert, new_id


def _now() -> int:
    return int(time.time())


def _json(v: Any) -> str:
    return orjson.dumps(v).decode()


class TrackerRepository:
    conn: Connection
    box: SecretBox

    # ---- provider accounts -----------------------------------------------------------
    def add_account(self, provider: str, name: str, credentials: dict[str, Any],
                    base_url: str, callback_url: str) -> int:
        res = self.conn.execute(m.tracking_accounts.insert().values(
            provider=provider, name=name, credentials_enc=self.box.encrypt(_json(credentials)),
            base_url=base_url, callback_url=callback_url, enabled=True, created_at=_now()))
        return new_id(res)

    def account(self, account_id: int, *, lock: bool = False) -> dict[str, Any] | None:
        """One account with its credentials decrypted; ``lock`` for a read-modify-write."""
        q = select(m.tracking_accounts).where(m.tracking_accounts.c.id == account_id)
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        if r is None:
            return None
        d = dict(r._mapping)
        d["credentials"] = orjson.loads(self.box.decrypt(d.pop("credentials_enc")) or "{}")
        return d

    def update_credentials(self, account_id: int, credentials: dict[str, Any]) -> bool:
        """Replace an account's (encrypted) credentials; False when there is no such account."""
        return self.conn.execute(update(m.tracking_accounts).where(
            m.tracking_accounts.c.id == account_id).values(
            credentials_enc=self.box.encrypt(_json(credentials)))).rowcount > 0

    def accounts(self, *, enabled_only: bool = False) -> list[dict[str, Any]]:
        q = select(m.tracking_accounts).order_by(m.tracking_accounts.c.id)
        if enabled_only:
            q = q.where(m.tracking_accounts.c.enabled.is_(True))
        out = []
        for r in self.conn.execute(q):
            d = dict(r._mapping)
            d["credentials"] = orjson.loads(self.box.decrypt(d.pop("credentials_enc")) or "{}")
            out.append(d)
        return out

    # ---- trackers --------------------------------------------------------------------
    def untracked_packs(self, limit: int) -> list[dict[str, Any]]:
        """Confirmed packs with a number and no tracker yet, with the receiver phone mask."""
        p, t, o = m.packs, m.trackers, m.orders
        q = (select(p.c.id, p.c.shop_ref, p.c.main_order_id, p.c.courier_code, p.c.track_no,
                    p.c.updated_at, o.c.receiver_phone_mask)
             .select_from(p.outerjoin(t, t.c.pack_id == p.c.id)
                          .outerjoin(o, o.c.order_id == p.c.main_order_id))
             .where(p.c.state == "confirmed", p.c.track_no.is_not(None), p.c.track_no != "",
                    t.c.id.is_(None))
             .order_by(p.c.id).limit(limit))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def add_trackers(self, rows: list[dict[str, Any]]) -> int:
        """Insert; a number already tracked (same courier) is left alone."""
        if not rows:
            return 0
        now = _now()
        for r in rows:
            r.setdefault("events", "[]")
            r.setdefault("created_at", now)
            r.setdefault("updated_at", now)
        stmt = _insert(self.conn, m.trackers).on_conflict_do_nothing()
        return self.conn.execute(stmt, rows).rowcount

    def to_subscribe(self, limit: int) -> list[dict[str, Any]]:
        t = m.trackers
        q = (select(t).where(t.c.source.in_(("kuaidi100", "kdniao")), t.c.subscribed.is_(False),
                             t.c.subscribe_error.is_(None), t.c.next_poll_at.is_not(None))
             .order_by(t.c.id).limit(limit))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def mark_subscribed(self, ids: list[int], error: dict[int, str] | None = None) -> None:
        t = m.trackers
        if ids:
            self.conn.execute(update(t).where(t.c.id.in_(ids)).values(
                subscribed=True, subscribe_error=None, updated_at=_now()))
        for tid, text in (error or {}).items():
            self.conn.execute(update(t).where(t.c.id == tid).values(
                subscribe_error=text[:500], updated_at=_now()))

    def due_for_poll(self, now: int, limit: int) -> list[dict[str, Any]]:
        t = m.trackers
        q = (select(t).where(t.c.next_poll_at.is_not(None), t.c.next_poll_at <= now)
             .order_by(t.c.next_poll_at, t.c.id).limit(limit))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def _select(self, cond, lock: bool):
        q = select(m.trackers).where(cond).order_by(m.trackers.c.id)
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()  # merges read-modify-write; SQLite's writer is single
        return self.conn.execute(q)

    def by_track_nos(self, track_nos: Iterable[str], *, lock: bool = False
                     ) -> dict[str, list[dict[str, Any]]]:
        """Trackers per number (one number may, rarely, exist at two couriers)."""
        nos = sorted(set(track_nos))
        out: dict[str, list[dict[str, Any]]] = {}
        for i in range(0, len(nos), 500):
            for r in self._select(m.trackers.c.track_no.in_(nos[i:i + 500]), lock):
                out.setdefault(r.track_no, []).append(dict(r._mapping))
        return out

    def by_ids(self, ids: Iterable[int], *, lock: bool = False) -> dict[int, dict[str, Any]]:
        ids = sorted(set(ids))
        out: dict[int, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            for r in self._select(m.trackers.c.id.in_(ids[i:i + 500]), lock):
                out[r.id] = dict(r._mapping)
        return out


    _SAVE_COLS = ("state", "incident", "state_since", "last_event_at", "picked_up_at",
                  "last_event", "events", "poll_attempts", "next_poll_at")

    def save_progress(self, rows: list[dict[str, Any]]) -> None:
        """rows: {id, state, incident, state_since, last_event_at, picked_up_at, last_event,
        events, poll_attempts, next_poll_at} — one executemany."""
        if not rows:
            return
        t = m.trackers
        stmt = update(t).where(t.c.id == bindparam("_id")).values(
            **{c: bindparam(c) for c in self._SAVE_COLS}, updated_at=bindparam("_now"))
        now = _now()
        self.conn.execute(stmt, [{**{c: r[c] for c in self._SAVE_COLS}, "_id": r["id"],
                                  "_now": now} for r in rows])

    def list_trackers(self, *, state: str | None = None, shop_ref: int | None = None,
                      order_id: str | None = None, limit: int = 100, offset: int = 0
                      ) -> tuple[int, list[dict[str, Any]]]:
        t = m.trackers
        conds = []
        if state:
            conds.append(t.c.state == state)
        if shop_ref:
            conds.append(t.c.shop_ref == shop_ref)
        if order_id:
            conds.append(t.c.order_id == order_id)
        where = and_(*conds) if conds else None
        count_q = select(func.count()).select_from(t)
        q = select(*[c for c in t.c if c.name != "events"]).order_by(t.c.id.desc())
        if where is not None:
            count_q, q = count_q.where(where), q.where(where)
        total = self.conn.execute(count_q).scalar_one()
        return total, [dict(r._mapping) for r in self.conn.execute(q.limit(limit).offset(offset))]

    def watch_page(self, after_id: int, limit: int) -> list[Any]:
        """The slim columns detection needs, for trackers that can still be in trouble
        (delivered parcels never are), in id order from ``after_id``."""
        t = m.trackers
        q = (select(t.c.id, t.c.shop_ref, t.c.order_id, t.c.courier_code, t.c.track_no,
                    t.c.state, t.c.incident, t.c.state_since, t.c.last_event_at,
                    t.c.picked_up_at, t.c.shipped_at, t.c.created_at, t.c.last_event)
             .where(t.c.id > after_id, t.c.state != "delivered").order_by(t.c.id).limit(limit))
        return list(self.conn.execute(q).fetchall())

    # ---- pushes (inbox) --------------------------------------------------------------
    def store_push(self, account_id: int, digest: str, body: str, now: int) -> bool:
        """True when new; a push seen before (same digest) is not stored twice."""
        stmt = _insert(self.conn, m.tracking_pushes).on_conflict_do_nothing()
        res = self.conn.execute(stmt, {"account_id": account_id, "digest": digest, "body": body,
                                       "received_at": now})
        return res.rowcount > 0

    def pending_pushes(self, limit: int) -> list[dict[str, Any]]:
        p = m.tracking_pushes
        q = select(p).where(p.c.processed_at.is_(None)).order_by(p.c.id).limit(limit)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def mark_pushes(self, ids: list[int], now: int, errors: dict[int, str] | None = None) -> None:
        p = m.tracking_pushes
        if ids:
            self.conn.execute(update(p).where(p.c.id.in_(ids)).values(processed_at=now))
        for pid, text in (errors or {}).items():
            self.conn.execute(update(p).where(p.c.id == pid).values(error=text[:500]))

    def push_counts(self) -> dict[str, int]:
        p = m.tracking_pushes
        total = self.conn.execute(select(func.count()).select_from(p)).scalar_one()
        pending = self.conn.execute(select(func.count()).select_from(p).where(
            p.c.processed_at.is_(None))).scalar_one()
        return {"total": total, "pending": pending}


__all__ = ["TrackerRepository"]
