"""Console users."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from . import models as m
from .repositories import new_id


class UserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count(self) -> int:
        return self.conn.execute(select(func.count()).select_from(m.users)).scalar_one()

    def add(self, row: dict[str, Any]) -> int:
        return new_id(self.conn.execute(m.users.insert().values(**row)))

    def by_name(self, username: str) -> dict[str, Any] | None:
        r = self.conn.execute(select(m.users).where(m.users.c.username == username)).first()
        return None if r is None else dict(r._mapping)

    def by_id(self, user_id: int) -> dict[str, Any] | None:
        r = self.conn.execute(select(m.users).where(m.users.c.id == user_id)).first()
        return None if r is None else dict(r._mapping)

    def by_token_hash(self, digest: str) -> dict[str, Any] | None:
        r = self.conn.execute(select(m.users).where(m.users.c.api_token_hash == digest)).first()
        return None if r is None else dict(r._mapping)

    def list(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(
            select(m.users).order_by(m.users.c.id))]

    def update(self, user_id: int, **values: Any) -> None:
        self.conn.execute(update(m.users).where(m.users.c.id == user_id).values(**values))

    # ---- sessions (the cookie's id is never stored, only its SHA-256) ----------------------
    def add_session(self, id_hash: str, user_id: int, created_at: int, expires_at: int) -> None:
        self.conn.execute(m.sessions.insert().values(id_hash=id_hash, user_id=user_id,
                                                     created_at=created_at,
                                                     expires_at=expires_at))

    def session_user(self, id_hash: str, now: int) -> dict[str, Any] | None:
        r = self.conn.execute(
            select(m.users).join(m.sessions, m.sessions.c.user_id == m.users.c.id)
            .where(m.sessions.c.id_hash == id_hash, m.sessions.c.expires_at > now)).first()
        return None if r is None else dict(r._mapping)

    def delete_session(self, id_hash: str) -> int:
        return self.conn.execute(delete(m.sessions).where(
            m.sessions.c.id_hash == id_hash)).rowcount

    def delete_sessions_of(self, user_id: int) -> int:
        return self.conn.execute(delete(m.sessions).where(
            m.sessions.c.user_id == user_id)).rowcount

    def delete_expired_sessions(self, now: int) -> None:
        self.conn.execute(delete(m.sessions).where(m.sessions.c.expires_at <= now))

    def session_counts(self) -> dict[int, int]:
        q = select(m.sessions.c.user_id, func.count()).group_by(m.sessions.c.user_id)
        return {uid: n for uid, n in self.conn.execute(q)}

    # ---- sign-in attempts -------------------------------------------------------------------
    def add_attempt(self, *, at: float, username: str, ip: str, ok: bool) -> int:
        return new_id(self.conn.execute(m.login_attempts.insert().values(
            at=at, username=username, ip=ip, ok=ok)))

    def attempt_succeeded(self, attempt_id: int) -> None:
        self.conn.execute(update(m.login_attempts).where(
            m.login_attempts.c.id == attempt_id).values(ok=True))

    def failures_since(self, column: str, value: str, since: float) -> builtins.list[float]:
        """Times of failed attempts after ``since`` and after the last success, oldest first."""
        t = m.login_attempts
        col = t.c[column]
        last_ok = self.conn.execute(select(func.max(t.c.at)).where(
            col == value, t.c.ok.is_(True), t.c.at > since)).scalar_one()
        q = select(t.c.at).where(col == value, t.c.ok.is_(False),
                                 t.c.at > max(since, last_ok or since)).order_by(t.c.at)
        return [r[0] for r in self.conn.execute(q)]

    def forget_attempts_before(self, before: float) -> None:
        self.conn.execute(delete(m.login_attempts).where(m.login_attempts.c.at < before))

    # ---- OAuth state nonces -----------------------------------------------------------------
    def add_oauth_state(self, *, nonce_hash: str, shop_ref: int, user_id: int | None,
                        created_at: int, expires_at: int) -> None:
        self.conn.execute(m.oauth_states.insert().values(
            nonce_hash=nonce_hash, shop_ref=shop_ref, user_id=user_id, created_at=created_at,
            expires_at=expires_at))

    def oauth_state(self, nonce_hash: str) -> dict[str, Any] | None:
        r = self.conn.execute(select(m.oauth_states).where(
            m.oauth_states.c.nonce_hash == nonce_hash)).first()
        return None if r is None else dict(r._mapping)

    def use_oauth_state(self, nonce_hash: str, now: int) -> bool:
        """Marks the nonce used; False when it was used already or has expired (one winner)."""
        t = m.oauth_states
        return self.conn.execute(update(t).where(
            t.c.nonce_hash == nonce_hash, t.c.used_at.is_(None), t.c.expires_at > now)
            .values(used_at=now)).rowcount == 1

    def forget_oauth_states_before(self, before: int) -> None:
        self.conn.execute(delete(m.oauth_states).where(m.oauth_states.c.expires_at < before))
