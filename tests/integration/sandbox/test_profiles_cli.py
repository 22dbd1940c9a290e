"""Real-time order profiles and the module entry point."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def test_steady_profile_creates_orders_and_stops(fresh_client):
    c = fresh_client()
    c.login()
    shop = c.app["shop_id"]
    st = c.admin("/sandbox/profiles/start", {"shop_id": shop, "profile": "steady", "rate_per_s": 40,
                                             "duration_s": 30})
    assert st["running"] and st["profile"] == "steady"
    time.sleep(1.2)
    stopped = c.admin("/sandbox/profiles/stop", {"shop_id": shop})["stopped"]
    assert stopped and not stopped[0]["running"]
    n = c.call("order.searchList", {"size": 1})["total"]
    assert 20 <= n <= 60, n
    time.sleep(0.5)
    assert c.call("order.searchList", {"size": 1})["total"] == n  # really stopped


def test_spike_profile_ramps(fresh_client):
    c = fresh_client()
    c.login()
    shop = c.app["shop_id"]
    c.admin("/sandbox/profiles/start", {"shop_id": shop, "profile": "spike", "rate_per_s": 400, "duration_s": 4})
    time.sleep(1.5)
    runners = c.admin("/sandbox/profiles", method="GET")
    assert runners and runners[0]["profile"] == "spike"
    c.admin("/sandbox/profiles/stop", {})
    n = c.call("order.searchList", {"size": 1})["total"]
    assert 100 <= n <= 600, n


def test_generate_spike_profile_clusters_recent(fresh_client):
    c = fresh_client()
    c.login()
    shop = c.app["shop_id"]
    c.admin("/sandbox/orders/generate", {"shop_id": shop, "count": 400, "seed": 1, "spread_seconds": 40000,
                                         "profile": "spike"})
    idx = c.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET")
    now = time.time()
    recent = sum(1 for i in idx if i["update_time"] >= now - 10000)
    assert recent > 0.6 * len(idx)


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_python_dash_m_entry_point(tmp_path):
    port = _free_port()
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-m", "fahuo.sandbox", "--db", str(tmp_path / "m.db"),
                             "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/sandbox/apps", json={}, trust_env=False)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.status_code == 200 and len(r.json()["app_key"]) == 19
        res = httpx.post(f"http://127.0.0.1:{port}/order/searchList", trust_env=False).json()
        assert res["code"] == 40001 and res["sub_code"] == "isv.app-id-missing"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
