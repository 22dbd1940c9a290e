"""Benchmark: a new user's first run, fresh clone to the console URL (issue 13).

    .venv/bin/python bench/first_run.py           # cold: clone, `make demo` (venv, pip, npm)
    .venv/bin/python bench/first_run.py --quick   # warm: clone, the demo on this venv (< 30 s)

Cold: the committed HEAD is cloned into a temp folder and `make demo PORT=… SANDBOX_PORT=…`
runs there with no `.venv` and no `node_modules`, timed until `fahuo console:` is printed;
then the demo gets Ctrl-C. pip uses whatever cache and index this machine is configured with
(say which when recording a figure). Its ceiling is the warm run in the same process: the same
clone started with this checkout's venv, i.e. what the wait would be with nothing to install.
Quick: only the warm run, against a ceiling of the bare `git clone`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL_LINE = "fahuo console:"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clone(into: Path) -> float:
    t = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(into)], check=True)
    return time.monotonic() - t


def _until_url(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> float:
    """Seconds from start until the console URL is printed; the demo is then stopped."""
    t = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert p.stdout is not None
        for line in p.stdout:
            if URL_LINE in line:
                return time.monotonic() - t
            if time.monotonic() - t > timeout:
                break
        raise SystemExit(f"no console URL within {timeout:.0f} s: {' '.join(argv)}")
    finally:
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="warm run only (< 30 s)")
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FAHUO_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with tempfile.TemporaryDirectory() as tmp:
        warm_dir = Path(tmp) / "warm"
        clone_s = _clone(warm_dir)
        warm = clone_s + _until_url(
            [sys.executable, "-m", "fahuo.entrypoints.cli", "demo", "--port", str(_free_port()),
             "--sandbox-port", str(_free_port())], warm_dir,
            dict(env, PYTHONPATH=str(warm_dir / "src")), timeout=120)
        if a.quick:
            print(f"first run (warm, this venv): clone → console URL {warm:.1f} s | bare git "
                  f"clone {clone_s:.1f} s | ratio {clone_s / warm:.2f}")
            return
        cold_dir = Path(tmp) / "cold"
        cold = _clone(cold_dir) + _until_url(
            ["make", "demo", f"PORT={_free_port()}", f"SANDBOX_PORT={_free_port()}"], cold_dir,
            env, timeout=900)
    print(f"first run (cold, make demo): clone → console URL {cold:.1f} s | warm (nothing to "
          f"install) {warm:.1f} s | ratio {warm / cold:.2f}")


if __name__ == "__main__":
    main()
