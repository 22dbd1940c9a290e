"""Benchmark: stock reservations per second (issue 6).

    .venv/bin/python bench/stock.py            # 100,000 order lines over 1,000 SKUs
    .venv/bin/python bench/stock.py --quick    # 20,000 lines (< 30 s)
    .venv/bin/python bench/stock.py --pg URL   # also on PostgreSQL (a scratch schema)

Orders (one line each, 1–3 units of one of 1,000 SKU codes, stock for ~90 % of the demand)
are written straight into a fresh store (not timed). Timed: ``reserve_in`` over all of them,
1,000 orders per transaction, deadline first — the same call the pipeline makes: orders
loaded, bundles expanded, item rows locked in id order, reservations, journal and balances
written. The ceiling, in the same run, is plain ``sqlite3`` writing the very same rows
(balance updates, reservations, journal entries; one transaction per 1,000 orders) with no
reading or deciding. Exits non-zero unless the ledger afterwards is exact (balances equal the
journal, nothing reserved beyond what is on hand, every reservation accounted for).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

GOALS = {"sqlite_per_s": 5000}
BATCH = 1000


def make_app(tmp: Path, url: str | None):
    from fahuo.bootstrap import Fahuo
    from fahuo.config import Settings
    app = Fahuo(Settings(data_dir=tmp, database_url=url, log_level="WARNING",
                         secret_key=base64.b64encode(os.urandom(32)).decode()))
    app.migrate()
    return app


def seed(app, n_lines: int, n_skus: int) -> list[str]:
    """Orders and stock straight into the store; returns order ids in deadline order."""
    from fahuo.adapters.store import models as m
    from fahuo.services.shops import NewShop, add_shop
    from fahuo.services.stock.lines import StockLine
    from fahuo.services.stock.moves import move_stock
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1", app_key="7000000000000000001", app_secret="s",
                                  gateway_url="http://127.0.0.1:9"))
    rng = random.Random(4)
    now = 1_790_000_000
    orders, subs, demand = [], [], [0] * n_skus
    for i in range(n_lines):
        oid = f"69{i:017d}"
        k, q = rng.randrange(n_skus), rng.randint(1, 3)
        demand[k] += q
        orders.append({"order_id": oid, "shop_ref": ref, "state": "approved", "order_status": 2,
                       "create_time": now, "pay_time": now, "update_time": now,
                       "exp_ship_time": now + 86400 + i, "raw": "{}", "synced_at": now})
        subs.append({"sku_order_id": oid, "order_id": oid, "product_id": "1", "sku_id": str(k),
                     "merchant_code": f"SKU-{k:04d}", "product_name": "p", "quantity": q,
                     "pay_amount": 100, "order_status": 2})
    with app.engine.begin() as c:
        for i in range(0, n_lines, 20_000):
            c.execute(m.orders.insert(), orders[i:i + 20_000])
            c.execute(m.sub_orders.insert(), subs[i:i + 20_000])
    move_stock(app.uow, "receive", [StockLine(f"SKU-{k:04d}", max(1, demand[k] * 9 // 10))
                                    for k in range(n_skus)], actor="bench")
    return [o["order_id"] for o in orders]


def timed_reservations(app, ids: list[str]) -> tuple[float, int, int]:
    from fahuo.services.stock.orders import reserve_in
    reserved = short = 0
    t0 = time.perf_counter()
    for i in range(0, len(ids), BATCH):
        with app.uow() as u:
            r = reserve_in(u, ids[i:i + BATCH], actor="bench")
        reserved += len(r.reserved)
        short += len(r.short)
    return time.perf_counter() - t0, reserved, short


def verify(app) -> list[str]:
    problems = []
    with app.uow() as u:
        sums = u.stock.journal_sums()
        _, items = u.stock.levels(limit=10**6)
        live = {}
        for r in u.conn.exec_driver_sql(
                "select item_id, sum(quantity) from stock_reservations where state='reserved' "
                "group by item_id"):
            live[r[0]] = r[1]
    for it in items:
        if (it["on_hand"], it["reserved"], it["damaged"]) != tuple(sums.get(it["id"], (0, 0, 0))):
            problems.append(f"{it['sku_code']}: balance differs from its journal")
        if not 0 <= it["reserved"] <= it["on_hand"]:
            problems.append(f"{it['sku_code']}: reserved {it['reserved']} of {it['on_hand']}")
        if it["reserved"] != live.get(it["id"], 0):
            problems.append(f"{it['sku_code']}: reservations do not add up")
    return problems[:5]


def ceiling(app, tmp: Path) -> float:
    """Plain sqlite3 writing the rows fahuo wrote, same batching, nothing read or decided."""
    with app.uow() as u:
        res = [tuple(r) for r in u.conn.exec_driver_sql(
            "select order_id, item_id, quantity from stock_reservations order by order_id")]
    db = sqlite3.connect(tmp / "ceiling.db", isolation_level=None)
    db.executescript("""
        pragma journal_mode=wal; pragma synchronous=normal;
        create table items (id integer primary key, on_hand int, reserved int, dirty_at int);
        create table res (order_id text, item_id int, quantity int, state text, updated_at int,
                          primary key (order_id, item_id));
        create table journal (id integer primary key, item_id int, move text, on_hand int,
                              reserved int, damaged int, ref_type text, ref_id text,
                              reason text, actor text, at int);""")
    db.executemany("insert into items values (?, 1000000, 0, null)",
                   [(i,) for i in {r[1] for r in res}])
    now = int(time.time())
    t0 = time.perf_counter()
    for i in range(0, len(res), BATCH):
        part = res[i:i + BATCH]
        db.execute("begin immediate")
        db.executemany("update items set reserved = reserved + ?, dirty_at = ? where id = ?",
                       [(q, now, it) for _, it, q in part])
        db.executemany("insert into res values (?, ?, ?, 'reserved', ?)",
                       [(o, it, q, now) for o, it, q in part])
        db.executemany("insert into journal (item_id, move, on_hand, reserved, damaged, "
                       "ref_type, ref_id, reason, actor, at) values "
                       "(?, 'reserve', 0, ?, 0, 'order', ?, '', 'bench', ?)",
                       [(it, q, o, now) for o, it, q in part])
        db.execute("commit")
    return time.perf_counter() - t0


def run_one(label: str, url: str | None, n: int, skus: int, tmp: Path) -> tuple[float, float]:
    app = make_app(tmp / label, url)
    try:
        ids = seed(app, n, skus)
        secs, reserved, short = timed_reservations(app, ids)
        problems = verify(app)
        if problems:
            raise SystemExit(f"STOCK BENCHMARK FAILED ({label}): " + "; ".join(problems))
        print(f"{label}: {n} order lines over {skus} SKUs in {secs:.2f}s; {reserved} reserved, "
              f"{short} short (stock covers ~90 %); ledger exact", flush=True)
        ceil = ceiling(app, tmp) if label == "sqlite" else None
        # per reservation written, on both sides (short lines write nothing)
        return reserved / secs, (reserved / ceil if ceil else 0.0)
    finally:
        app.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--lines", type=int)
    ap.add_argument("--pg", metavar="URL", help="also run on this PostgreSQL database")
    a = ap.parse_args(argv)
    n = a.lines or (20_000 if a.quick else 100_000)
    from fahuo.bootstrap import configure_logging
    configure_logging("WARNING")
    tmp = Path(tempfile.mkdtemp(prefix="fahuo-bench-stock-"))
    pg_rate = None
    schema = None
    try:
        rate, ceil_rate = run_one("sqlite", None, n, 1000, tmp)
        if a.pg:
            import sqlalchemy as sa
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            eng = sa.create_engine(a.pg)
            with eng.begin() as c:
                c.execute(sa.text(f'create schema "{schema}"'))
            eng.dispose()
            sep = "&" if "?" in a.pg else "?"
            pg_rate, _ = run_one("postgresql", f"{a.pg}{sep}options=-csearch_path%3D{schema}",
                                 n, 1000, tmp)
        ok = rate >= GOALS["sqlite_per_s"]
        pg = f" | PostgreSQL {pg_rate:.0f}/s" if pg_rate else ""
        print(f"stock: SQLite {rate:.0f} reservations/s vs plain sqlite3 writing the same rows "
              f"{ceil_rate:.0f}/s = ratio {rate / ceil_rate:.2f}{pg} | goal SQLite >= "
              f"{GOALS['sqlite_per_s']}/s: {'met' if ok else 'NOT met'}")
        return 0
    finally:
        if schema:
            import sqlalchemy as sa
            eng = sa.create_engine(a.pg)
            with eng.begin() as c:
                c.execute(sa.text(f'drop schema "{schema}" cascade'))
            eng.dispose()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
