"""`fahuo serve` stops on SIGTERM within 10 s, even with shops whose rate budget is tiny."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import fahuo
from fahuo.bootstrap import Fahuo
from fahuo.config import Settings

SRC = Path(fahuo.__file__).resolve().parents[1]  # the sources this test runs against


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_tiny_rate_shops_stops_on_sigterm_within_10_s(tmp_path):
    key = base64.b64encode(os.urandom(32)).decode()
    data = tmp_path / "data"
    app = Fahuo(Settings(data_dir=data, secret_key=key))
    app.migrate()
    with app.uow() as uow:  # stored before rates were validated: one call per 10 000 s
        refs = [uow.shops.add(shop_id=str(1001 + i), app_key=f"340940934847935401{i}",
                              app_secret="s", gateway_url="http://127.0.0.1:1",
                              shop_name="", sign_method="hmac-sha256", auth_type="self",
                              rate_qps=0.0001) for i in range(2)]
    app.close()
    port = _free_port()
    env = {**os.environ, "FAHUO_DATA_DIR": str(data), "FAHUO_SECRET_KEY": key,
           "PYTHONPATH": str(SRC)}
    env.pop("FAHUO_REDIS_URL", None)
    env.pop("FAHUO_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "fahuo.entrypoints.cli", "serve",
                             "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("fahuo serve did not come up")
        for ref in refs:  # one sync per shop: both embedded worker threads take one
            assert httpx.post(f"{base}/api/shops/{ref}/sync", timeout=5).json()["queued"]
        time.sleep(4)  # the first call fails (no gateway); its retry meets the budget
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("fahuo serve ignored SIGTERM for 15 s") from None
        took = time.monotonic() - started
        assert took < 10, took
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    # The tasks failed fast with the reason, to be retried later, instead of waiting hours.
    assert "RateBudgetExhausted" in log and "retry later" in log, log[-3000:]
