"""`fahuo demo`: the sandbox platform and fahuo on loopback, a demo shop, orders flowing in.

The demo uses the same paths a merchant's install does: the shop is added with an app key,
secret and gateway URL, the token is fetched over the wire, orders arrive by push and polling.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from fahuo.domain.clock import shop_time

import httpx

DEMO_DIR = Path(".fahuo-demo")


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the sandbox did not answer at {url}")


def _post(client: httpx.Client, path: str, body: dict) -> dict:
    r = client.post(path, json=body)
    if r.status_code != 200:
        raise RuntimeError(f"sandbox {path} answered {r.status_code}: {r.text}")
    return r.json()


def run_demo(*, port: int, sandbox_port: int, orders: int, rate: float) -> int:
    if DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir(parents=True)
    # The worker module reads settings when imported: point everything at the demo folder first.
    os.environ["FAHUO_DATA_DIR"] = str(DEMO_DIR / "data")
    os.environ.setdefault("FAHUO_LOG_LEVEL", "WARNING")
    from fahuo.config import get_settings
    get_settings.cache_clear()

    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    console_url = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "fahuo.sandbox", "--db", str(DEMO_DIR / "sandbox.db"),
         "--host", "127.0.0.1", "--port", str(sandbox_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    admin = httpx.Client(base_url=sandbox_url, timeout=120)
    stop = threading.Event()
    try:
        _wait_ready(f"{sandbox_url}/sandbox/stats", sandbox)
        creds = _post(admin, "/sandbox/apps", {"shop_name": "演示小店", "qps": 200})
        _post(admin, "/sandbox/orders/generate",
              {"shop_id": creds["shop_id"], "count": orders, "spread_seconds": 2 * 86400})

        from fahuo.bootstrap import configure_logging, get_app
        from fahuo.services.shops import NewShop, add_shop, connect_shop
        configure_logging(get_settings().log_level)
        app = get_app()
        app.migrate()
        with app.uow() as uow:
            ref = add_shop(uow, NewShop(shop_id=str(creds["shop_id"]), app_key=creds["app_key"],
                                        app_secret=creds["app_secret"], gateway_url=sandbox_url,
                                        shop_name="演示小店"), actor="demo")
        with app.uow() as uow:
            shop = uow.shops.require(ref)
        connect_shop(app.platform_for(shop), app.uow, ref)
        from fahuo.services.settings import refresh_from_platform, update_settings
        refresh_from_platform(app.uow, app.platform_for, ref)
        update_settings(app.uow, ref, {"sender_name": "演示仓", "sender_phone": "13800000000",
                                       "default_courier": "zhongtong"}, actor="demo")
        _post(admin, "/sandbox/push/config", {"app_key": creds["app_key"],
                                               "url": f"{console_url}/webhooks/doudian"})
        # Parcels are tracked through the sandbox's Kuaidi100, which pushes to fahuo; a few
        # of them run into trouble so the exceptions page has something to show.
        from fahuo.bootstrap import add_account
        k100 = _post(admin, "/sandbox/kuaidi100/accounts", {})
        add_account(app.uow, "kuaidi100", "演示快递100", {
            "customer": k100["customer"], "key": k100["key"], "salt": k100["salt_hint"]},
            sandbox_url, console_url)
        _post(admin, "/sandbox/tracking/rates", {"never_collected": 0.03, "stalled": 0.03,
                                                 "failed_delivery": 0.02, "refused": 0.01})

        import uvicorn

        from fahuo.entrypoints import worker
        from fahuo.entrypoints.web.app import create_app

        def after_start() -> None:
            worker.sync_shop_task(ref)  # the first full sync; pushes carry the rest
            _post(admin, "/sandbox/profiles/start",
                  {"shop_id": creds["shop_id"], "profile": "steady", "rate_per_s": rate,
                   "duration_s": 24 * 3600})
            print(f"\n  fahuo console:   {console_url}/\n  API docs:        {console_url}/docs"
                  f"\n  sandbox:         {sandbox_url}  (shop {creds['shop_id']}, "
                  f"app key {creds['app_key']})\n  new orders:      {rate}/s, by push"
                  f"\n  stop:            Ctrl-C\n", flush=True)
            while not stop.wait(5):
                with app.uow() as uow:
                    counts = uow.orders.count_by_state(ref)
                    inbox = uow.inbox.counts()
                    tracked = uow.tracking.list_trackers(limit=1)[0]
                print(f"  {shop_time(time.time(), '%H:%M:%S')}  orders in fahuo: {sum(counts.values())}"
                      f"  (已发货 {counts.get('shipped', 0)}, 挂起 {counts.get('held', 0)},"
                      f" 已取消 {counts.get('cancelled', 0)})"
                      f"  pushes: {inbox.get('done', 0)} done, {inbox.get('pending', 0)} pending"
                      f"  parcels tracked: {tracked}",
                      flush=True)

        server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port,
                                               log_level="warning"))
        def started() -> None:
            _wait_started(server)
            after_start()

        watcher = threading.Thread(target=started, daemon=True)
        watcher.start()
        server.run()
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        if sandbox.poll() is not None and sandbox.stderr:
            print(sandbox.stderr.read().decode(errors="replace")[-2000:], file=sys.stderr)
        return 1
    finally:
        stop.set()
        try:
            admin.post("/sandbox/profiles/stop", json={})
        except httpx.HTTPError:
            pass
        admin.close()
        sandbox.terminate()
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()
        print("demo stopped.")


def _wait_started(server) -> None:  # noqa: ANN001
    while not server.started:
        time.sleep(0.1)
