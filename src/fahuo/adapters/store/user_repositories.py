"""Console users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from . import models as m


class UserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count(self) -> int:
        return self.conn.execute(select(func.count()).select_from(m.users)).scalar_one()

    def add(self, row: dict[str, Any]) -> int:
        return int(self.conn.execute(m.users.insert().values(**row)).inserted_primary_key[0])

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
