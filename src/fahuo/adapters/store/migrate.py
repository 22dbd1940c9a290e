"""Bring a database to the newest schema with Alembic, one process at a time.

Every fahuo process migrates at start, and a cluster starts many at once: the upgrade runs
under a lock (PostgreSQL: an advisory lock per schema; SQLite: a file lock beside the
database), so the others wait, then find the schema at head and go on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_POLL_S = 0.2


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine) -> None:
    with migration_lock(engine):
        cfg = alembic_config()
        with engine.connect() as conn:
            # Not inside a transaction of ours: Alembic runs one per migration, and a
            # migration may step outside it (``create_index`` on PostgreSQL).
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine):
            yield
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with _file_lock(Path(f"{engine.url.database}.migrate.lock")):
            yield
    else:
        yield


@contextmanager
def _pg_lock(engine: Engine) -> Iterator[None]:
    # Session-level, taken by polling in autocommit: a waiter holds no transaction open, so
    # a CREATE INDEX CONCURRENTLY in the holder's migration never waits on the waiters.
    key = "select pg_try_advisory_lock(hashtext('fahuo.migrate'), hashtext(current_schema()))"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while not conn.execute(text(key)).scalar():
            time.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            conn.execute(text("select pg_advisory_unlock(hashtext('fahuo.migrate'), "
                              "hashtext(current_schema()))"))


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own write lock is all there is
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # in the data folder: private like the rest
    with os.fdopen(fd, "r+b") as f:
        os.fchmod(fd, 0o600)
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def create_index(name: str, table: str, columns: Sequence[str], *, unique: bool = False
                 ) -> None:
    """For migrations: an index on a table that may be big (orders, sub_orders, packs).

    On PostgreSQL it is built ``CONCURRENTLY`` outside the migration's transaction, so writes
    go on while it builds; one a crash left half-built (invalid) is dropped and built again.
    Elsewhere (SQLite, or an upgrade run inside a caller's own transaction) it is a plain
    ``CREATE INDEX``. Call it before the migration's other changes: entering the
    autocommit block commits what came before it."""
    from alembic import op
    ctx = op.get_context()
    if (ctx.dialect.name != "postgresql" or ctx.as_sql
            or getattr(ctx, "_in_external_transaction", False)):
        op.create_index(name, table, list(columns), unique=unique)
        return
    with ctx.autocommit_block():
        assert ctx.connection is not None
        valid = ctx.connection.execute(text(
            "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid "
            "where c.relname = :name and c.relnamespace = current_schema()::regnamespace"),
            {"name": name}).scalar()
        if valid is False:
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        if valid is not True:
            op.create_index(name, table, list(columns), unique=unique,
                            postgresql_concurrently=True)
