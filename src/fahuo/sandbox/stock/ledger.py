"""The platform stock of each shop SKU: its rows, seeding, paid orders taking units, pre-held units."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..catalogue import ALL_SKUS

if TYPE_CHECKING:
    from ..core import Sandbox

INITIAL_STOCK = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    shop_id INTEGER NOT NULL,
    sku_id INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    stock_num INTEGER NOT NULL,
    sold_since_sync INTEGER NOT NULL DEFAULT 0,
    synced_at INTEGER,
    update_time INTEGER NOT NULL,
    PRIMARY KEY (shop_id, sku_id)
);
CREATE TABLE IF NOT EXISTS stock_idempotent (
    shop_id INTEGER NOT NULL,
    idempotent_id TEXT NOT NULL,
    method TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, idempotent_id)
);
CREATE TABLE IF NOT EXISTS stock_syncs (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    method TEXT NOT NULL,
    at INTEGER NOT NULL,
    product_id TEXT,
    incremental INTEGER NOT NULL,
    idempotent_id TEXT,
    skus TEXT NOT NULL,
    code INTEGER NOT NULL,
    sub_code TEXT NOT NULL,
    sub_msg TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_stock_syncs_shop ON stock_syncs (shop_id, id);
"""


def ensure_shop(conn: Any, shop_id: int, now: int) -> None:
    """Seed the shop's rows (no in-memory cache: a rolled-back seed must not look done)."""
    if conn.execute("SELECT 1 FROM stock WHERE shop_id=? LIMIT 1", (shop_id,)).fetchone():
        return
    conn.executemany("INSERT OR IGNORE INTO stock (shop_id, sku_id, product_id, code, stock_num, update_time)"
                     " VALUES (?,?,?,?,?,?)",
                     [(shop_id, s["sku_id"], p["product_id"], s["code"], INITIAL_STOCK, now) for p, s in ALL_SKUS])


def seed(sb: Sandbox, shop_id: int) -> None:
    """For readers: a write transaction only the first time (a transaction also resets the order caches)."""
    if sb.store.one("SELECT 1 FROM stock WHERE shop_id=? LIMIT 1", (shop_id,)) is None:
        with sb.store.transaction() as conn:
            ensure_shop(conn, shop_id, int(sb.now()))


# ---------------------------------------------------------------------------- paid orders take stock

def take_units(conn: Any, units: dict[tuple[int, int], int], now: int) -> None:
    """``units[(shop_id, sku_id)]`` were just paid: take them off the platform stock (floor 0)."""
    for shop_id in {k[0] for k in units}:
        ensure_shop(conn, shop_id, now)
    conn.executemany("UPDATE stock SET stock_num=MAX(0, stock_num-?), sold_since_sync=sold_since_sync+?,"
                     " update_time=? WHERE shop_id=? AND sku_id=?",
                     [(n, n, now, shop, sku) for (shop, sku), n in units.items() if n])


def take_new_orders(conn: Any, after_id: int, now: int) -> None:
    """Orders inserted with ``id > after_id`` in this transaction: paid ones (2, 105) take their units.

    JSON is read by SQLite (C speed), so big generated batches stay cheap."""
    rows = conn.execute(
        "SELECT o.shop_id, json_extract(j.value, '$.sku_id'), SUM(json_extract(j.value, '$.item_num'))"
        " FROM orders AS o, json_each(o.payload, '$.sku_order_list') AS j"
        " WHERE o.id > ? AND o.order_status IN (2, 105) GROUP BY 1, 2", (after_id,)).fetchall()
    if rows:
        take_units(conn, {(shop, int(sku)): int(n) for shop, sku, n in rows if sku is not None}, now)


def order_units(order: dict[str, Any]) -> dict[tuple[int, int], int]:
    out: dict[tuple[int, int], int] = {}
    for s in order["sku_order_list"]:
        k = (int(order["shop_id"]), int(s["sku_id"]))
        out[k] = out.get(k, 0) + int(s["item_num"])
    return out


def prehold(sb: Sandbox, shop_id: int, sku_id: int | None = None) -> dict[int, int]:
    """Units of paid-but-unshipped lines per SKU (refunded lines and shipped units excluded)."""
    flt = ""
    args: list[Any] = [shop_id]
    if sku_id is not None:  # a plain substring test first spares parsing the orders without that SKU
        flt = " AND instr(o.payload, ?) > 0 AND json_extract(j.value, '$.sku_id') = ?"
        args += [f'"sku_id":{sku_id},', sku_id]
    out: dict[int, int] = {}
    for sku, n in sb.store.all(
            "SELECT json_extract(j.value, '$.sku_id'), SUM(json_extract(j.value, '$.item_num'))"
            " FROM orders AS o, json_each(o.payload, '$.sku_order_list') AS j"
            " WHERE o.shop_id=? AND o.order_status IN (2, 105)"
            " AND COALESCE(json_extract(j.value, '$.after_sale_info.after_sale_status'), 0) != 12"
            f"{flt} GROUP BY 1", args):
        if sku is not None:
            out[int(sku)] = out.get(int(sku), 0) + int(n)
    # partly shipped orders: what is left of each line (few rows, read in Python)
    for (payload,) in sb.store.all("SELECT payload FROM orders WHERE shop_id=? AND order_status=101", (shop_id,)):
        o = json.loads(payload)
        shipped: dict[str, int] = {}
        for pk in o.get("logistics_info") or []:
            for p in pk.get("product_info") or []:
                shipped[str(p["sku_order_id"])] = shipped.get(str(p["sku_order_id"]), 0) + int(p["product_count"])
        for s in o["sku_order_list"]:
            if (sku_id is not None and int(s["sku_id"]) != sku_id) or \
                    (s.get("after_sale_info") or {}).get("after_sale_status") == 12:
                continue
            left = int(s["item_num"]) - shipped.get(s["order_id"], 0)
            if left > 0:
                out[int(s["sku_id"])] = out.get(int(s["sku_id"]), 0) + left
    return out
