"""SQLite storage (stdlib sqlite3, WAL). One connection per thread."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any, Iterable, Iterator

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
CREATE TABLE IF NOT EXISTS netsites (
    shop_id INTEGER NOT NULL,
    logistics_code TEXT NOT NULL,
    netsite_code TEXT NOT NULL,
    netsite_name TEXT NOT NULL,
    company_type INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    allocated_quantity INTEGER NOT NULL DEFAULT 0,
    cancelled_quantity INTEGER NOT NULL DEFAULT 0,
    recycled_quantity INTEGER NOT NULL DEFAULT 0,
    sender_address TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (shop_id, logistics_code, netsite_code)
);
CREATE TABLE IF NOT EXISTS waybills (
    track_no TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    logistics_code TEXT NOT NULL,
    netsite_code TEXT NOT NULL,
    order_id TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    status TEXT NOT NULL,
    picked_up INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    info TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_waybills_key ON waybills (shop_id, order_id, pack_id, logistics_code);
CREATE TABLE IF NOT EXISTS waybill_seq (
    logistics_code TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS shipments (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    method TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    order_ids TEXT NOT NULL,
    tracking_no TEXT NOT NULL,
    company_code TEXT NOT NULL,
    request_id TEXT,
    items TEXT NOT NULL,
    ship_time INTEGER NOT NULL,
    previous_tracking_no TEXT,
    picked_up INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_shipments_shop ON shipments (shop_id, id);
CREATE INDEX IF NOT EXISTS ix_shipments_track ON shipments (tracking_no);
CREATE TABLE IF NOT EXISTS ship_requests (
    shop_id INTEGER NOT NULL,
    method TEXT NOT NULL,
    request_id TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (shop_id, method, request_id)
);
"""


class Store:
    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.write_lock = threading.RLock()  # serialise writers inside this process
        self.version = 0  # bumped by every transaction (invalidates cached order totals and cursors)
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

    def one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """The first row (a tuple), or None."""
        return self.conn.execute(sql, tuple(params)).fetchone()

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def write(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self.write_lock:
            cur = self.conn.execute(sql, tuple(params))
            return cur.rowcount

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT`` under the write lock (rolled back on any error)."""
        with self.write_lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.version += 1

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except Exception:  # noqa: BLE001 - closing at shutdown: nothing to do about it
                    pass
            self._all.clear()
        self._local = threading.local()
