"""Benchmark: courier pushes accepted, and one exception-detection sweep (issue 5).

    .venv/bin/python bench/tracking.py            # 20,000 pushes, 1,000,000 parcels
    .venv/bin/python bench/tracking.py --quick    # 4,000 pushes, 200,000 parcels (< 30 s)

Pushes: fahuo's web app runs in its own process under uvicorn (one worker, SQLite WAL, no
embedded worker), with one extra route, ``POST /bench/bare``, that answers Kuaidi100's success
body without reading anything. This process sends signed Kuaidi100 pushes (``param`` +
``sign`` = MD5(param + salt)) for tracked numbers, 10 % of them repeats, from 32 concurrent
clients; every push is verified, de-duplicated by digest and stored before the reply. The
ceiling is the same number of requests with the same bodies to ``/bench/bare`` on the same
server in the same run. ``ratio = pushes/s ÷ bare/s``. Exits non-zero unless the store holds
exactly the distinct pushes and every reply was the success body.

Detection: that many trackers are written straight into a fresh store (a realistic mix:
most moving, some never collected, stalled, failed, refused, returned), then one
``Watch.detect()`` sweep is timed. Its ceiling is a bare ``SELECT`` of the same columns over
the same rows (what reading them costs with nothing of fahuo around it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync import free_port

GOALS = {"pushes_per_s": 1000, "ratio": 0.25, "detect_1m_s": 10.0}
SALT = "bench-salt"
CONCURRENCY = 32

SERVER = textwrap.dedent("""
    import sys, uvicorn
    from fastapi.responses import Response
    from fahuo.bootstrap import Fahuo, configure_logging
    from fahuo.config import Settings
    from fahuo.entrypoints.web.app import create_app
    from fahuo.adapters.carriers.kuaidi100.push import REPLY_OK
    configure_logging("WARNING")
    fh = Fahuo(Settings(data_dir=sys.argv[1], secret_key=sys.argv[2], log_level="WARNING"))
    app = create_app(fh, embedded_worker=False)

    @app.post("/bench/bare")
    async def bare() -> Response:
        return Response(REPLY_OK, 200, media_type="application/json;charset=utf-8")

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning",
                access_log=False)
""")


def _cst(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + 8 * 3600))


def make_app(tmp: Path, key: str):
    from fahuo.bootstrap import Fahuo
    from fahuo.config import Settings
    app = Fahuo(Settings(data_dir=tmp, secret_key=key, log_level="WARNING"))
    app.migrate()
    return app


def seed_trackers(app, n: int, now: int) -> int:
    """n trackers (and their shop) straight into the store; returns the shop ref."""
    from fahuo.adapters.store import models as m
    from fahuo.services.shops import NewShop, add_shop
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1", app_key="7000000000000000001", app_secret="s",
                                  gateway_url="http://127.0.0.1:9"))
    rng = random.Random(1)
    mix = [("in_transit", 0.80), ("info_received", 0.05), ("out_for_delivery", 0.06),
           ("failed_attempt", 0.03), ("rejected", 0.02), ("returning", 0.02),
           ("picked_up", 0.02)]
    states, weights = zip(*mix)
    rows = []
    with app.engine.begin() as conn:
        for i in range(n):
            st = rng.choices(states, weights)[0]
            shipped = now - rng.randrange(3 * 3600, 5 * 86400)
            # most parcels scanned within the last day; about 3 % quiet for longer (stalled)
            quiet = rng.randrange(60, 26 * 3600) if rng.random() < 0.97 else \
                rng.randrange(49 * 3600, 90 * 3600)
            last = None if st == "info_received" else max(shipped + 600, now - quiet)
            rows.append({"shop_ref": ref, "pack_id": None, "order_id": f"69{i:017d}",
                         "courier_code": "zhongtong", "track_no": f"78{i:012d}",
                         "source": "kuaidi100", "phone_tail": "", "state": st,
                         "state_since": last, "last_event_at": last,
                         "picked_up_at": None if last is None else shipped + 600,
                         "last_event": None, "events": "[]", "shipped_at": shipped,
                         "subscribed": True, "poll_attempts": 0,
                         "next_poll_at": now + 86400, "created_at": now, "updated_at": now})
            if len(rows) == 20_000:
                conn.execute(m.trackers.insert(), rows)
                rows = []
        if rows:
            conn.execute(m.trackers.insert(), rows)
    return ref


def push_bodies(track_nos: list[str], n: int, now: int) -> tuple[list[bytes], int]:
    """n form bodies; 10 % repeat an earlier one. Returns (bodies, distinct)."""
    from urllib.parse import urlencode
    rng = random.Random(2)
    bodies: list[bytes] = []
    distinct = 0
    for i in range(n):
        if bodies and rng.random() < 0.10:
            bodies.append(bodies[rng.randrange(len(bodies))])
            continue
        no = track_nos[i % len(track_nos)]
        at = now - 3600 + i
        param = json.dumps({"status": "polling", "message": "", "lastResult": {
            "message": "ok", "state": "0", "status": "200", "condition": "F00", "ischeck": "0",
            "com": "zhongtong", "nu": no, "data": [
                {"context": f"快件已到达【杭州转运中心】#{i}", "time": _cst(at), "ftime": _cst(at),
                 "statusCode": "1002", "areaName": "浙江,杭州市"},
                {"context": "快递员已揽收", "time": _cst(at - 7200), "ftime": _cst(at - 7200),
                 "statusCode": "1", "areaName": "浙江,杭州市"}]}}, ensure_ascii=False)
        sign = hashlib.md5((param + SALT).encode()).hexdigest().upper()
        bodies.append(urlencode({"param": param, "sign": sign}).encode())
        distinct += 1
    return bodies, distinct


async def fire(host: str, port: int, path: str, bodies: list[bytes]) -> tuple[float, int]:
    """Send every body over CONCURRENCY keep-alive connections; (seconds, non-success replies).

    A minimal HTTP/1.1 client on asyncio streams: a Python HTTP library costs more per
    request than the endpoint being measured, and would make the client the bottleneck."""
    bad = 0
    queue = iter(bodies)

    def request(body: bytes) -> bytes:
        return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                f"application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode() + body

    async def one(reader, writer, body: bytes) -> bool:
        writer.write(request(body))
        status = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        reply = await reader.readexactly(length)
        return status.split(b" ", 2)[1] == b"200" and b'"result":true' in reply

    async def worker() -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, port)
        for body in queue:
            if not await one(reader, writer, body):
                bad += 1
        writer.close()

    reader, writer = await asyncio.open_connection(host, port)
    await one(reader, writer, bodies[0])  # warm the path (a repeat: stored already or now)
    writer.close()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - t0, bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pushes", type=int)
    ap.add_argument("--parcels", type=int)
    a = ap.parse_args(argv)
    n_push = a.pushes or (4_000 if a.quick else 20_000)
    n_parcels = a.parcels or (200_000 if a.quick else 1_000_000)

    from fahuo.bootstrap import configure_logging
    from fahuo.bootstrap import add_account
    from fahuo.services.watch import Watch
    configure_logging("WARNING")
    tmp = Path(tempfile.mkdtemp(prefix="fahuo-bench-tracking-"))
    key = base64.b64encode(os.urandom(32)).decode()
    now = int(time.time())
    proc = None
    try:
        # ---- pushes -------------------------------------------------------------------
        app = make_app(tmp / "push", key)
        seed_trackers(app, 2_000, now)
        acc = add_account(app.uow, "kuaidi100", "bench", {"customer": "C", "key": "K",
                                                          "salt": SALT},
                          "http://127.0.0.1:9", "http://127.0.0.1:9")
        with app.uow() as u:
            nos = [r["track_no"] for r in u.tracking.list_trackers(limit=2000)[1]]
        app.close()
        bodies, distinct = push_bodies(nos, n_push, now)
        port = free_port()
        log = open(tmp / "server.log", "wb")
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp / "push"), key,
                                 str(port)], stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start; see {tmp}/server.log")
            time.sleep(0.1)
        push_s, bad = asyncio.run(fire("127.0.0.1", port, f"/webhooks/kuaidi100/{acc}", bodies))
        bare_s, bad_bare = asyncio.run(fire("127.0.0.1", port, "/bench/bare", bodies))
        proc.terminate()
        proc.wait(timeout=10)
        with sqlite3.connect(tmp / "push" / "fahuo.db") as db:
            stored = db.execute("SELECT COUNT(*) FROM tracking_pushes").fetchone()[0]
        problems = []
        if bad or bad_bare:
            problems.append(f"{bad} push and {bad_bare} bare replies were not success")
        if stored != distinct:
            problems.append(f"stored {stored} pushes, expected the {distinct} distinct ones")
        if problems:
            raise SystemExit("TRACKING BENCHMARK FAILED: " + "; ".join(problems))
        push_rate, bare_rate = n_push / push_s, n_push / bare_s
        print(f"pushes: {n_push} sent ({distinct} distinct, the rest repeats) in {push_s:.2f}s; "
              f"stored exactly {stored}", flush=True)

        # ---- detection ----------------------------------------------------------------
        app = make_app(tmp / "detect", key)
        t0 = time.perf_counter()
        seed_trackers(app, n_parcels, now)
        print(f"detection: {n_parcels} trackers written in {time.perf_counter() - t0:.1f}s "
              f"(not timed)", flush=True)
        watch = Watch(app.uow, notify=app.notify, clock=lambda: now)
        t0 = time.perf_counter()
        rep = watch.detect()
        detect_s = time.perf_counter() - t0
        with sqlite3.connect(tmp / "detect" / "fahuo.db") as db:
            t0 = time.perf_counter()
            rows = db.execute(
                "SELECT id, shop_ref, order_id, courier_code, track_no, state, incident, "
                "state_since, last_event_at, picked_up_at, shipped_at, created_at, last_event "
                "FROM trackers WHERE state != 'delivered' ORDER BY id").fetchall()
            select_s = time.perf_counter() - t0
        del rows
        app.close()
        print(f"detection: swept {rep.parcels} parcels, opened {rep.opened} exceptions in "
              f"{detect_s:.2f}s (a second sweep would find the same keys)", flush=True)
        detect_1m = detect_s * 1_000_000 / n_parcels
        ok = (push_rate >= GOALS["pushes_per_s"] and push_rate / bare_rate >= GOALS["ratio"]
              and detect_1m <= GOALS["detect_1m_s"])
        print(f"tracking: pushes {push_rate:.0f}/s vs bare endpoint {bare_rate:.0f}/s = ratio "
              f"{push_rate / bare_rate:.2f} | detection {n_parcels} parcels in {detect_s:.2f}s "
              f"(1M at this rate {detect_1m:.1f}s) vs bare SELECT {select_s:.2f}s = ratio "
              f"{select_s / detect_s:.2f} | goals >= {GOALS['pushes_per_s']}/s, ratio >= "
              f"{GOALS['ratio']}, 1M < {GOALS['detect_1m_s']:.0f}s: {'met' if ok else 'NOT met'}")
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
