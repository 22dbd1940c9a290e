"""Engines: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            private_sqlite_file(Path(u.database))
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30,
                                                              "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # Let SQLAlchemy issue BEGIN itself so writers can take the lock up front.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # IMMEDIATE: take the write lock at the start, so read-then-write is consistent
            # and two writers never deadlock upgrading a read lock. Pure reads say so and
            # take no lock (WAL readers never wait for the writer).
            if conn.get_execution_options().get("fahuo_readonly"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, echo=echo, pool_pre_ping=True)


def private_sqlite_file(path: Path) -> None:
    """The database holds buyers' data: create it (and its folder) for this user only.

    SQLite gives its -wal, -shm and -journal files the main file's permissions, so a main
    file made 0600 here keeps them private too, whatever the process umask. An existing
    file is tightened (an install from before this check)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    else:
        os.close(fd)  # an empty file is an empty SQLite database


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
