"""`fahuo demo`: the sandbox platform and fahuo on loopback, a demo shop, orders flowing in.

The demo uses the same paths a merchant's install does: the shop is added with an app key,
secret and gateway URL, the token is fetched over the wire, orders arrive by push and polling.
The shop keeps the default 打印后发货 (confirm at print); a packing station (``demo_packer``)
prints what waits every ``PACK_EVERY_S``, so parcels ship only once their label printed.
Parcels are tracked through the sandbox's Kuaidi100 account, added like any merchant's; the
shop's courier rules spread them over three couriers, and the sandbox is told (its admin API,
never fahuo) how those couriers and the buyers behave, so 数据分析 has differences to show.

Several demos may run on one machine, from one folder or several: each one binds both its
ports itself before anything else (a busy port stops it with a message, exit code 2), hands
the sandbox its already-bound socket (so the sandbox it talks to is always its own), keeps its
files under ``.fahuo-demo/<console port>/`` (the port it holds makes that folder its own) and
only ever stops its own shop's order profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from fahuo.domain.clock import shop_time
from fahuo.domain.orders import SENT
from fahuo.entrypoints.ports import CONSOLE, DEMO_HINT, PORT_BUSY_EXIT, SANDBOX, PortBusy, bind_port

DEMO_ROOT = Path(".fahuo-demo")
# Ctrl-C: open requests get this long, then the rest of the stop is bounded too (see _stop).
GRACEFUL_S = 1
PACK_EVERY_S = 20.0  # the demo's packing station prints what waits this often
# The demo shop's courier strategy, set in its settings as a merchant would: small orders go
# 韵达, large ones 圆通, the rest the default 中通, so every province sees all three couriers.
DEMO_COURIER_RULES = [
    {"name": "小额订单走韵达", "courier_code": "yunda", "max_amount_fen": 8999},
    {"name": "大额订单走圆通", "courier_code": "yuantong", "min_amount_fen": 16000},
]

# The sandbox child serves on the socket the demo bound (fd passed down), so it can neither
# lose a race for the port nor be confused with another instance listening there.
_SANDBOX_CHILD = """\
import socket, sys, uvicorn
from fahuo.sandbox.app import create_app
sock = socket.socket(fileno=int(sys.argv[2]))
uvicorn.Server(uvicorn.Config(create_app(sys.argv[1]), log_level="warning",
                              access_log=False)).run(sockets=[sock])
"""


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


def _isolate(data_dir: Path) -> None:
    """The demo never touches a real install: its own SQLite and embedded queue, whatever
    FAHUO_DATABASE_URL / FAHUO_REDIS_URL say. The worker module reads settings when
    imported, so this runs first."""
    os.environ["FAHUO_DATA_DIR"] = str(data_dir)
    os.environ["FAHUO_DATABASE_URL"] = f"sqlite:///{data_dir / 'fahuo.db'}"
    os.environ.pop("FAHUO_REDIS_URL", None)
    os.environ.setdefault("FAHUO_LOG_LEVEL", "WARNING")
    from fahuo.config import get_settings
    get_settings.cache_clear()
    if get_settings().redis_url:  # only a .env file can still name one
        raise RuntimeError("演示不使用 Redis，而本目录的 .env 设置了 FAHUO_REDIS_URL：请在别的目录运行。"
                           " / The demo runs without Redis but this folder's .env sets "
                           "FAHUO_REDIS_URL: run it from another folder.")


def run_demo(*, port: int, sandbox_port: int, orders: int, rate: float) -> int:
    if port == sandbox_port:
        print(f"控制台和沙箱不能用同一个端口 {port}。\nThe console and the sandbox cannot share "
              f"port {port}.", file=sys.stderr)
        return PORT_BUSY_EXIT
    try:
        web_sock = bind_port(port, CONSOLE)
        try:
            sandbox_sock = bind_port(sandbox_port, SANDBOX)
        except PortBusy:
            web_sock.close()
            raise
    except PortBusy as busy:
        print(busy.message(DEMO_HINT), file=sys.stderr)
        return PORT_BUSY_EXIT

    demo_dir = DEMO_ROOT / str(port)  # ours: we hold the port it is named after
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    try:
        _isolate(demo_dir / "data")
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    from fahuo.config import get_settings

    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    console_url = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen(
        [sys.executable, "-c", _SANDBOX_CHILD, str(demo_dir / "sandbox.db"),
         str(sandbox_sock.fileno())],
        pass_fds=[sandbox_sock.fileno()], stdout=subprocess.DEVNULL,
        stderr=(demo_dir / "sandbox.log").open("wb"))  # a file: a full pipe would stall it
    sandbox_sock.close()  # the child has its copy: the port frees when it exits
    admin = httpx.Client(base_url=sandbox_url, timeout=120)
    stop = threading.Event()
    consumer = None
    shop_id: int | None = None
    code = 0
    try:
        _wait_ready(f"{sandbox_url}/sandbox/stats", sandbox)
        creds = _post(admin, "/sandbox/apps", {"shop_name": "演示小店", "qps": 200})
        shop_id = int(creds["shop_id"])
        _post(admin, "/sandbox/orders/generate",
              {"shop_id": shop_id, "count": orders, "spread_seconds": 2 * 86400})

        from fahuo.bootstrap import configure_logging, get_app
        from fahuo.services.shops import NewShop, add_shop, connect_shop
        configure_logging(get_settings().log_level)
        app = get_app()
        app.migrate()
        with app.uow() as uow:
            ref = add_shop(uow, NewShop(shop_id=str(shop_id), app_key=creds["app_key"],
                                        app_secret=creds["app_secret"], gateway_url=sandbox_url,
                                        shop_name="演示小店"), actor="demo")
        with app.uow() as uow:
            shop = uow.shops.require(ref)
        connect_shop(app.platform_for(shop), app.uow, ref)
        from fahuo.services.settings import refresh_from_platform, update_settings
        refresh_from_platform(app.uow, app.platform_for, ref)
        update_settings(app.uow, ref, {"sender_name": "演示仓", "sender_phone": "13800000000",
                                       "default_courier": "zhongtong",
                                       "courier_rules": DEMO_COURIER_RULES}, actor="demo")
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
        # 数据分析 needs differences to find: the sandbox's demo couriers (韵达 slow into 广东 and
        # failing at the door more, 圆通 refused more; fast-forwarded so days of transit pass in
        # minutes, stamped as the couriers would) and buyers who return some products far more.
        character: dict = {"preset": "demo"}
        if os.environ.get("FAHUO_DEMO_FAST_FORWARD"):  # tests: days of transit in seconds
            character["fast_forward"] = float(os.environ["FAHUO_DEMO_FAST_FORWARD"])
        _post(admin, "/sandbox/tracking/character", character)
        _post(admin, "/sandbox/aftersales/buyers", {"preset": "demo"})

        import uvicorn

        from fahuo.entrypoints import worker
        from fahuo.entrypoints.web.app import create_app

        def after_start() -> None:
            print(f"\n  fahuo console:   {console_url}/\n  API docs:        {console_url}/docs"
                  f"\n  sandbox:         {sandbox_url}  (shop {shop_id}, "
                  f"app key {creds['app_key']})\n  new orders:      {rate}/s, by push"
                  f"\n  files:           {demo_dir}/\n  stop:            Ctrl-C\n", flush=True)
            worker.sync_shop_task(ref)  # the first full sync (queued); pushes carry the rest
            _post(admin, "/sandbox/profiles/start",
                  {"shop_id": shop_id, "profile": "steady", "rate_per_s": rate,
                   "duration_s": 24 * 3600})
            threading.Thread(target=packing_station, args=(app, stop), daemon=True,
                             name="fahuo-demo-packer").start()
            while not stop.wait(5):
                with app.uow() as uow:
                    counts = uow.orders.count_by_state(ref)
                    inbox = uow.inbox.counts()
                    tracked = uow.tracking.list_trackers(limit=1)[0]
                print(f"  {shop_time(time.time(), '%H:%M:%S')}  orders in fahuo: {sum(counts.values())}"
                      f"  (已发货 {sum(counts.get(st.value, 0) for st in SENT)}, 挂起 {counts.get('held', 0)},"
                      f" 已取消 {counts.get('cancelled', 0)})"
                      f"  pushes: {inbox.get('done', 0)} done, {inbox.get('pending', 0)} pending"
                      f"  parcels tracked: {tracked}",
                      flush=True)

        # The demo runs its own consumer (not the app's lifespan one) so Ctrl-C can stop it at
        # once: its threads are daemons, and a task cut short is redone by the next pass.
        consumer = worker.start_embedded()
        server = uvicorn.Server(uvicorn.Config(
            create_app(app, embedded_worker=False), log_level="warning",
            timeout_graceful_shutdown=GRACEFUL_S))

        def started() -> None:
            while not server.started and not stop.is_set():
                time.sleep(0.1)
            if server.started:
                after_start()

        threading.Thread(target=started, daemon=True).start()
        server.run(sockets=[web_sock])
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        if sandbox.poll() is not None:
            print((demo_dir / "sandbox.log").read_text(errors="replace")[-2000:],
                  file=sys.stderr)
        code = 1
    finally:
        stop.set()
        web_sock.close()
        _stop(consumer, admin, shop_id, sandbox)
    return code


def packing_station(app, stop: threading.Event) -> None:
    """The demo shop confirms at print (the default): someone must print. Every
    PACK_EVERY_S what waits is printed, so labels wait a little on the print page first."""
    from fahuo.entrypoints.demo_packer import pack_waiting
    every = float(os.environ.get("FAHUO_DEMO_PACK_EVERY_S", PACK_EVERY_S))
    while not stop.wait(every):
        try:
            got = pack_waiting(app)
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            print(f"  打包台：打印失败 {exc}", flush=True)
            continue
        if got.component or got.drawn or got.failed:
            print(f"  {shop_time(time.time(), '%H:%M:%S')}  打包台：打印组件已打印 {got.component} 张，"
                  f"自绘 {got.drawn} 张" + (f"，失败 {got.failed} 张" if got.failed else ""),
                  flush=True)


def _stop(consumer, admin: httpx.Client, shop_id: int | None,
          sandbox: subprocess.Popen) -> None:
    """Each step bounded, about 2 s in all: Ctrl-C must end the demo within 5 s whatever the
    backlog (the sandbox, in the terminal's process group, got the same Ctrl-C)."""
    if consumer is not None:
        consumer.stop(graceful=False)
    if shop_id is not None and sandbox.poll() is None:
        try:  # only our shop's profile: never another instance's order flow
            admin.post("/sandbox/profiles/stop", json={"shop_id": shop_id}, timeout=0.5)
        except httpx.HTTPError:
            pass
    admin.close()
    if sandbox.poll() is None:
        sandbox.terminate()
    try:
        sandbox.wait(timeout=1.5)
    except subprocess.TimeoutExpired:
        sandbox.kill()
        sandbox.wait()
    print("demo stopped.", flush=True)


def exit_now(code: int) -> None:
    """After run_demo. Threads still inside a call (the first sync's page fetch, a label) would keep the
    interpreter waiting at exit; the demo's data is throwaway, so it leaves at once."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
