"""A full demo run, logged at DEBUG, never writes a buyer's name or phone number.

The buyers are read back from the sandbox's own records (decrypted with the sandbox's key),
so the check does not depend on what fahuo believes it stored."""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from fahuo.sandbox.receivers import decrypt_text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _buyers(sandbox_db) -> tuple[set[str], set[str]]:
    names, phones = set(), set()
    with sqlite3.connect(sandbox_db) as conn:
        for (payload,) in conn.execute("select payload from orders"):
            o = json.loads(payload)
            if o.get("encrypt_post_receiver"):
                names.add(decrypt_text(o["encrypt_post_receiver"]))
            if o.get("encrypt_post_tel"):
                phones.add(decrypt_text(o["encrypt_post_tel"]))
    return names, phones


def test_a_demo_run_logged_at_debug_names_no_buyer(tmp_path):
    env = {**os.environ, "FAHUO_LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"}
    env.pop("FAHUO_DATA_DIR", None)
    port = _free_port()  # the demo keeps its files under .fahuo-demo/<port>/
    proc = subprocess.Popen(
        [sys.executable, "-m", "fahuo.entrypoints.cli", "demo", "--port", str(port),
         "--sandbox-port", str(_free_port()), "--orders", "120", "--rate", "4"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(
        raw.decode("utf-8", "replace") for raw in iter(proc.stdout.readline, b"")), daemon=True)
    reader.start()
    try:
        # run until parcels have shipped and are tracked: labels, confirmations and pushes
        # from the platform and the courier have all been through the code that logs
        deadline = time.monotonic() + 150
        shipped = tracked = 0
        while time.monotonic() < deadline and proc.poll() is None:
            for line in lines[-5:]:
                m = re.search(r"已发货 (\d+).*parcels tracked: (\d+)", line)
                if m:
                    shipped, tracked = int(m[1]), int(m[2])
            if shipped >= 20 and tracked >= 20:
                break
            time.sleep(1)
        assert shipped >= 20 and tracked >= 20, "".join(lines[-40:])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        reader.join(timeout=5)
    log = "".join(lines)
    assert log.count("[debug") + log.count("[info") > 50, log[-3000:]  # it did log
    names, phones = _buyers(tmp_path / ".fahuo-demo" / str(port) / "sandbox.db")
    assert len(names) > 100 and len(phones) > 100
    assert [p for p in phones if p in log] == []
    assert [n for n in names if len(n) >= 3 and n in log] == []
    # a two-character name could be any two words of a message: only as a whole token
    assert [n for n in names if len(n) == 2 and re.search(
        rf"(?<![\u4e00-\u9fff]){n}(?![\u4e00-\u9fff])", log)] == []
