"""`fahuo serve` on a port another program holds: one message in Chinese and English, exit 2,
nothing started (no migration, no worker)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import fahuo

SRC = Path(fahuo.__file__).resolve().parents[1]


def test_serve_on_a_busy_port_says_so_and_exits_2(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "FAHUO_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(SRC),
               "FAHUO_PORT": str(port)}
        env.pop("FAHUO_DATABASE_URL", None)
        env.pop("FAHUO_REDIS_URL", None)
        r = subprocess.run([sys.executable, "-m", "fahuo.entrypoints.cli", "serve"], env=env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"端口 {port}（控制台）已被占用" in r.stderr, r.stderr
    assert f"Port {port} (console) is already in use" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "data" / "fahuo.db").exists()  # refused before the migration
