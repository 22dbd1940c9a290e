"""SQLite storage (stdlib sqlite3, WAL). One connection per thread."""
from __future__ import annotations

import sqlite3
import threading
from typing import Any, Iterable

SCHEMA = """
CREATE TABLE IF NOT EXISTS shops (
    shop_id INTEGER PRIMARY KEY,
    shop_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS apps (
    app_key TEXT PRIMARY KEY,
    app_secret TEXT NOT NULL,
    shop_id INTEGER,
    qps REAL NOT NULL DEFAULT 100,
    push_url TEXT,
    push_config TEXT
);
CREATE TABLE IF NOT EXISTS app_shops (
    app_key TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    PRIMARY KEY (app_key, shop_id)
);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code TEXT PRIMARY KEY,
    app_key TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    access_token TEXT PRIMARY KEY,
    refresh_token TEXT NOT NULL UNIQUE,
    app_key TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    access_expires REAL NOT NULL,
    refresh_expires REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL UNIQUE,
    shop_id INTEGER NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    order_status INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_orders_shop_ct ON orders (shop_id, create_time, order_status, update_time);
CREATE INDEX IF NOT EXISTS ix_orders_shop_ut ON orders (shop_id, update_time, order_status, create_time);
"""


class Store:
    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.write_lock = threading.RLock()  # serialise writers inside this process
        conn = self.conn
        conn.executescript(SCHEMA)
        conn.commit()

    @property
    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=OFF")
            c.execute("PRAGMA busy_timeout=30000")
            c.execute("PRAGMA cache_size=-65536")
            c.execute("PRAGMA temp_store=MEMORY")
            c.execute("PRAGMA wal_autocheckpoint=20000")
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def one(self, sql: str, params: Iterable[Any] = ()) -> tuple | None:
        return self.conn.execute(sql, tuple(params)).fetchone()

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self.write_lock:
            cur = self.conn.execute(sql, tuple(params))
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except Exception:
                    pass
            self._all.clear()
        self._local = threading.local()
