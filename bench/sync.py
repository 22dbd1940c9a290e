"""Benchmark: sync orders from the sandbox over HTTP into SQLite (issue 2).

    .venv/bin/python bench/sync.py            # 200,000 orders
    .venv/bin/python bench/sync.py --quick    # 20,000 orders, whole script under 30 s

The sandbox runs as a separate process (its own core), fahuo runs here. Only
``OrderSync.run`` is timed (generation on the sandbox is not). The ceiling, measured in the
same run, is plain ``sqlite3`` ``executemany`` of the very rows fahuo stored into a fresh file
with the same schema (WAL, synchronous=NORMAL, foreign_keys=ON, one transaction per 100
orders with their sub-orders, like fahuo's pages). Peak RSS is this process's high-water mark
taken right after the sync (the sandbox is another process; the ceiling runs afterwards).
Exits non-zero if the store does not hold exactly the sandbox's orders.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

GOALS = {"orders_per_s": 3000, "ratio": 0.3, "rss_mb": 400}
PAGE = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(tmp / "sandbox.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fahuo.sandbox", "--db", str(tmp / "sandbox.db"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"sandbox exited early (rc {proc.returncode}); see {tmp}/sandbox.log")
        try:
            if httpx.get(f"{url}/sandbox/clock", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("sandbox did not answer within 20 s")
        time.sleep(0.05)


def stop_sandbox(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def admin(http: httpx.Client, method: str, path: str, **kw):
    r = http.request(method, path, **kw)
    if r.status_code != 200:
        raise SystemExit(f"sandbox {method} {path}: HTTP {r.status_code} {r.text[:300]}")
    return r.json()


def sandbox_with_orders(tmp: Path, http: httpx.Client, n: int, *, seed: int,
                        spread_seconds: float) -> tuple[subprocess.Popen, dict]:
    """A sandbox process with one app (limits off) and n generated orders (not timed)."""
    proc, url = start_sandbox(tmp)
    try:
        http.base_url = url
        creds = admin(http, "POST", "/sandbox/apps", json={"qps": 100000})
        gen = admin(http, "POST", "/sandbox/orders/generate",
                    json={"shop_id": creds["shop_id"], "count": n, "seed": seed,
                          "spread_seconds": spread_seconds})
        if gen["inserted"] != n:
            raise SystemExit(f"sandbox generated {gen['inserted']} of {n} orders")
        print(f"sandbox: generated {n} orders in {gen['elapsed_s']:.1f}s (not timed)", flush=True)
        return proc, creds
    except BaseException:
        stop_sandbox(proc)
        raise


def cleanup(http: httpx.Client, app, proc, tmp: Path, *, keep: bool) -> None:
    """Close what a benchmark opened and remove its temp dir (unless asked to keep it)."""
    http.close()
    if app is not None:
        app.close()
    if proc is not None:
        stop_sandbox(proc)
    if keep:
        print(f"kept {tmp}", file=sys.stderr)
    else:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


def make_fahuo(tmp: Path):
    from fahuo.adapters.platforms.doudian.client import RetryPolicy
    from fahuo.bootstrap import Fahuo
    from fahuo.config import Settings
    settings = Settings(data_dir=tmp / "fahuo", secret_key=base64.b64encode(os.urandom(32)).decode(),
                        rate_qps=10000, sync_lag_s=1, sync_initial_days=3, log_level="WARNING")
    app = Fahuo(settings, retry=RetryPolicy(max_attempts=8, initial_wait=0.01, max_wait=0.2))
    app.migrate()
    return app


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def verify(app, ref: int, http: httpx.Client, shop_id: int, n: int, report) -> None:
    """Fail loudly unless the store holds exactly the sandbox's orders (ids and update times)."""
    platform = {r["order_id"]: r["update_time"]
                for r in admin(http, "GET", "/sandbox/orders/index", params={"shop_id": shop_id})}
    with app.uow() as uow:
        stored = uow.orders.ids_with_update_time(ref)
    problems = []
    if len(platform) != n:
        problems.append(f"sandbox holds {len(platform)} orders, expected {n}")
    if len(stored) != len(platform):
        problems.append(f"store holds {len(stored)} orders, sandbox {len(platform)}")
    missing = platform.keys() - stored.keys()
    extra = stored.keys() - platform.keys()
    differ = [k for k in platform.keys() & stored.keys() if platform[k] != stored[k]]
    if missing:
        problems.append(f"{len(missing)} orders lost, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{len(extra)} orders not on the platform, e.g. {sorted(extra)[:3]}")
    if differ:
        problems.append(f"{len(differ)} orders with another update_time, e.g. {differ[:3]}")
    # Window edges are inclusive on the platform, so an order updated exactly at an edge is
    # read twice and upserted again ("updated"): harmless, but it must never be inserted twice.
    if report.inserted != n or report.stale:
        problems.append(f"report says inserted={report.inserted} stale={report.stale} "
                        f"(expected inserted={n})")
    if report.errors:
        problems.append(f"sync errors: {report.errors[:3]}")
    if problems:
        raise SystemExit("SYNC BENCHMARK FAILED: " + "; ".join(problems))


def raw_ceiling(db_file: Path, tmp: Path) -> tuple[float, int, int]:
    """Insert fahuo's stored rows with plain sqlite3 executemany; return (seconds, orders, subs)."""
    src = sqlite3.connect(db_file)
    ddl = [sql for (sql,) in src.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name IN ('shops','orders','sub_orders') "
        "AND sql IS NOT NULL ORDER BY type DESC, name")]  # tables before indexes
    shops = src.execute("SELECT * FROM shops").fetchall()
    ocols = [r[1] for r in src.execute("PRAGMA table_info(orders)")]
    scols = [r[1] for r in src.execute("PRAGMA table_info(sub_orders)")]
    orders = src.execute("SELECT * FROM orders ORDER BY update_time, order_id").fetchall()
    subs: dict[str, list[tuple]] = {}
    oid_at = scols.index("order_id")
    for row in src.execute("SELECT * FROM sub_orders"):
        subs.setdefault(row[oid_at], []).append(row)
    src.close()
    batches = []
    for i in range(0, len(orders), PAGE):
        chunk = orders[i:i + PAGE]
        batches.append((chunk, [s for o in chunk for s in subs.get(o[0], ())]))
    n_subs = sum(len(b[1]) for b in batches)
    del subs

    dst = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    dst.execute("PRAGMA foreign_keys=ON")
    for sql in ddl:
        dst.execute(sql)
    dst.executemany(f"INSERT INTO shops VALUES ({','.join('?' * len(shops[0]))})", shops)
    ins_o = f"INSERT INTO orders ({','.join(ocols)}) VALUES ({','.join('?' * len(ocols))})"
    ins_s = f"INSERT INTO sub_orders ({','.join(scols)}) VALUES ({','.join('?' * len(scols))})"
    t0 = time.perf_counter()
    for o_rows, s_rows in batches:
        dst.execute("BEGIN IMMEDIATE")
        dst.executemany(ins_o, o_rows)
        dst.executemany(ins_s, s_rows)
        dst.execute("COMMIT")
    seconds = time.perf_counter() - t0
    got = dst.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    dst.close()
    if got != len(orders):
        raise SystemExit(f"raw ceiling stored {got} of {len(orders)} orders")
    return seconds, len(orders), n_subs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 orders (under 30 s)")
    ap.add_argument("--orders", type=int, help="number of orders (default 200,000; 20,000 quick)")
    ap.add_argument("--spread-days", type=float, default=2.0)
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the sync to FILE")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (prints its path)")
    a = ap.parse_args(argv)
    n = a.orders or (20_000 if a.quick else 200_000)

    from fahuo.bootstrap import configure_logging
    from fahuo.services.shops import NewShop, add_shop
    configure_logging("WARNING")

    tmp = Path(tempfile.mkdtemp(prefix="fahuo-bench-sync-"))
    proc = app = None
    http = httpx.Client(timeout=600)
    try:
        proc, creds = sandbox_with_orders(tmp, http, n, seed=2,
                                          spread_seconds=a.spread_days * 86400)

        app = make_fahuo(tmp)
        with app.uow() as uow:
            ref = add_shop(uow, NewShop(shop_id=str(creds["shop_id"]), app_key=creds["app_key"],
                                        app_secret=creds["app_secret"],
                                        gateway_url=str(http.base_url).rstrip("/")))
        with app.uow() as uow:
            shop = uow.shops.get(ref)
        api = app.platform_for(shop)
        time.sleep(1.1)  # the newest orders are inside sync_lag_s=1 until a second has passed

        prof = None
        if a.profile:
            import cProfile
            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        report = app.order_sync.run(ref, api)
        seconds = time.perf_counter() - t0
        if prof:
            prof.disable()
            prof.dump_stats(a.profile)
        rss = peak_rss_mb()
        verify(app, ref, http, creds["shop_id"], n, report)
        rate = n / seconds
        print(f"fahuo: {report.windows} windows, {report.pages} pages, {report.splits} splits, "
              f"{report.rereads} rereads, {report.updated} edge re-reads; store matches the sandbox exactly", flush=True)

        raw_s, raw_n, raw_subs = raw_ceiling(app.settings.sqlite_path, tmp)
        raw_rate = raw_n / raw_s
        ratio = rate / raw_rate
        ok = (rate >= GOALS["orders_per_s"] and ratio >= GOALS["ratio"]
              and rss < GOALS["rss_mb"])
        print(f"sync: {n} orders in {seconds:.1f}s = {rate:.0f} orders/s | "
              f"raw sqlite executemany {raw_rate:.0f} orders/s ({raw_n} orders + {raw_subs} "
              f"sub-orders in {raw_s:.2f}s, 1 tx/100 orders) | ratio {ratio:.2f} | "
              f"peak RSS {rss:.0f} MB | goals >= {GOALS['orders_per_s']} orders/s, ratio >= "
              f"{GOALS['ratio']}, RSS < {GOALS['rss_mb']} MB: {'met' if ok else 'NOT met'}")
        return 0
    finally:
        cleanup(http, app, proc, tmp, keep=a.keep)


if __name__ == "__main__":
    sys.exit(main())
