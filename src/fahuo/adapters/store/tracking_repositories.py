"""Queries for tracking, exception records (findings) and alert channels (issue 5).

Batch-first like the rest of the store: every read takes many ids, every write many rows.
Events are kept as JSON on the tracker (oldest first); the newest one also sits in its own
column so the detection sweep and the screens never parse the whole history.
"""

from __future__ import annotations

import time
from typing import Any, Iterable

import orjson
from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, select, update

from fahuo.adapters.crypto import SecretBox

from . import models as m
from .repositories import _insert, new_id

UNSHIPPED_STATES = ("synced", "held", "approved", "waybill_taken", "printed")


def _now() -> int:
    return int(time.time())


def _json(v: Any) -> str:
    return orjson.dumps(v).decode()


class TrackingRepository:
    def __init__(self, conn: Connection, box: SecretBox) -> None:
        self.conn, self.box = conn, box

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

    def parcels_of_orders(self, tracker_ids: Iterable[int]
                          ) -> dict[str, list[str | None]]:
        """For the orders these trackers' parcels carry: order_id → the tracker state of
        each of its confirmed, numbered parcels (None: not tracked yet). Return parcels
        (trackers without a pack) carry no order here."""
        t, p, pl = m.trackers, m.packs, m.pack_lines
        ids = sorted(set(tracker_ids))
        orders: set[str] = set()
        for i in range(0, len(ids), 500):
            orders.update(self.conn.execute(
                select(pl.c.order_id).distinct().select_from(
                    t.join(pl, pl.c.pack_id == t.c.pack_id))
                .where(t.c.id.in_(ids[i:i + 500]))).scalars())
        got = sorted(orders)
        out: dict[str, dict[int, str | None]] = {}
        for i in range(0, len(got), 500):
            for oid, pid, st in self.conn.execute(
                    select(pl.c.order_id, p.c.id, t.c.state)
                    .select_from(pl.join(p, p.c.id == pl.c.pack_id)
                                 .outerjoin(t, t.c.pack_id == p.c.id))
                    .where(pl.c.order_id.in_(got[i:i + 500]), p.c.state == "confirmed",
                           p.c.track_no.is_not(None), p.c.track_no != "")):
                out.setdefault(oid, {})[pid] = st
        return {oid: list(by_pack.values()) for oid, by_pack in out.items()}

    def shipped_parcels(self, order_ids: Iterable[str]
                        ) -> dict[str, dict[int, tuple[str, str | None]]]:
        """order_id → {pack id: (number, tracker state or None)} of each of the orders'
        confirmed, numbered parcels."""
        t, p, pl = m.trackers, m.packs, m.pack_lines
        got = sorted(set(order_ids))
        out: dict[str, dict[int, tuple[str, str | None]]] = {}
        for i in range(0, len(got), 500):
            for oid, pid, no, st in self.conn.execute(
                    select(pl.c.order_id, p.c.id, p.c.track_no, t.c.state)
                    .select_from(pl.join(p, p.c.id == pl.c.pack_id)
                                 .outerjoin(t, t.c.pack_id == p.c.id))
                    .where(pl.c.order_id.in_(got[i:i + 500]), p.c.state == "confirmed",
                           p.c.track_no.is_not(None), p.c.track_no != "")):
                out.setdefault(oid, {})[pid] = (no, st)
        return out

    def orders_with_tracker_in(self, order_ids: Iterable[str], states: Iterable[str]
                               ) -> set[str]:
        """Orders among these with a tracker in one of ``states``."""
        t, ids, out = m.trackers, sorted(set(order_ids)), set[str]()
        for i in range(0, len(ids), 500):
            out.update(self.conn.execute(select(t.c.order_id).where(
                t.c.order_id.in_(ids[i:i + 500]), t.c.state.in_(sorted(states)))).scalars())
        return out

    def tracked_numbers(self, track_nos: Iterable[str]) -> set[str]:
        """The numbers among these that have a tracker."""
        t, nos, out = m.trackers, sorted(set(track_nos)), set[str]()
        for i in range(0, len(nos), 500):
            out.update(self.conn.execute(select(t.c.track_no).where(
                t.c.track_no.in_(nos[i:i + 500]))).scalars())
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

    # ---- deadlines -------------------------------------------------------------------
    def unshipped_due(self, until: int, shop_ref: int | None = None, order_ids=None
                      ) -> list[tuple[str, int, int, str]]:
        """(order_id, shop_ref, exp_ship_time, state) of unshipped paid orders whose
        deadline is at or before ``until``."""
        o = m.orders
        q = (select(o.c.order_id, o.c.shop_ref, o.c.exp_ship_time, o.c.state)
             .where(o.c.state.in_(UNSHIPPED_STATES), o.c.exp_ship_time.is_not(None),
                    o.c.exp_ship_time <= until, o.c.order_status.in_((2, 101)))
             .order_by(o.c.exp_ship_time))
        if shop_ref:
            q = q.where(o.c.shop_ref == shop_ref)
        if order_ids is not None:
            q = q.where(o.c.order_id.in_(sorted(order_ids)))
        return [tuple(r) for r in self.conn.execute(q)]

    def deadline_facts(self, order_ids: Iterable[str]) -> list[tuple[str, int, int | None, str,
                                                                       int]]:
        """(order_id, shop_ref, exp_ship_time, state, order_status) of these orders."""
        ids = sorted(set(order_ids))
        o = m.orders
        out = []
        for i in range(0, len(ids), 500):
            out += [tuple(r) for r in self.conn.execute(select(
                o.c.order_id, o.c.shop_ref, o.c.exp_ship_time, o.c.state, o.c.order_status
            ).where(o.c.order_id.in_(ids[i:i + 500])))]
        return out

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


__all__ = ["TrackingRepository", "UNSHIPPED_STATES"]
