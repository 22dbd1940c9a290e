"""`fahuo demo` run as a person runs it, for the tests that need the real thing."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import fahuo

SRC = Path(fahuo.__file__).resolve().parents[1]  # the sources these tests run against


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Demo:
    """One `fahuo demo` in its own process group, as a terminal runs it."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1", **(env or {})}
        for name in ("FAHUO_DATA_DIR", "FAHUO_PORT", "FAHUO_SANDBOX_PORT"):
            if name not in (env or {}):
                full_env.pop(name, None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fahuo.entrypoints.cli", "demo", *args], cwd=cwd,
            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, i=into: i.extend(
                raw.decode("utf-8", "replace") for raw in iter(s.readline, b"")),
                daemon=True).start()

    def text(self) -> str:
        return "".join(self.out) + "".join(self.err)

    def wait_url(self, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(r"fahuo console:\s+(\S+)", "".join(self.out))
            if m:
                return m[1]
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no console URL: {self.text()[-3000:]}")

    def orders_seen(self) -> list[int]:
        return [int(n) for n in re.findall(r"orders in fahuo: (\d+)", "".join(self.out))]

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)  # the whole group, like a terminal

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.ctrl_c()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


