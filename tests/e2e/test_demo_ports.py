"""`fahuo demo` as a person runs it: the ports it is told, a clear message on a busy port, a
second demo that never takes over the first one's sandbox, and Ctrl-C within 5 s."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from e2e.demo_process import SRC, Demo, _free_port, _listening

pytestmark = pytest.mark.slow


def _run_to_end(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Demo:
    d = Demo(cwd, *args, env=env)
    try:
        d.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        d.stop()
        raise AssertionError(f"a demo on a busy port kept running: {d.text()[-2000:]}") from None
    time.sleep(0.2)  # the readers drain the pipes
    return d


@pytest.mark.parametrize("busy", ["console", "sandbox"])
def test_a_busy_port_stops_the_demo_with_a_message_in_both_languages(tmp_path, busy):
    port, sandbox_port = _free_port(), _free_port()
    taken = port if busy == "console" else sandbox_port
    with socket.socket() as holder:  # another program listens there
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        d = _run_to_end(tmp_path, "--port", str(port), "--sandbox-port", str(sandbox_port))
    assert d.proc.returncode == 2, d.text()
    err = "".join(d.err)
    assert f"端口 {taken}" in err and "已被占用" in err, err
    assert f"Port {taken}" in err and "already in use" in err, err
    assert ("控制台" if busy == "console" else "沙箱") in err
    assert "fahuo console:" not in d.text()
    assert not _listening(sandbox_port if busy == "console" else port)  # nothing left behind


def test_the_ports_come_from_fahuo_port_and_fahuo_sandbox_port(tmp_path):
    port, sandbox_port = _free_port(), _free_port()
    d = Demo(tmp_path, "--orders", "20", "--rate", "1",
             env={"FAHUO_PORT": str(port), "FAHUO_SANDBOX_PORT": str(sandbox_port)})
    try:
        assert d.wait_url() == f"http://127.0.0.1:{port}/"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/stats",
                         timeout=5).status_code == 200
    finally:
        d.stop()
    assert d.proc.returncode == 0, d.text()[-2000:]


def test_make_demo_passes_port_and_sandbox_port():
    makefile = (SRC.parent / "Makefile")
    if not makefile.exists():
        pytest.skip("not run from a checkout")
    dry = subprocess.run(["make", "-n", "-o", "install", "demo", "PORT=8123", "SANDBOX_PORT=8124"],
                         cwd=makefile.parent, capture_output=True, text=True, check=True).stdout
    line = next(x for x in dry.splitlines() if "fahuo demo" in x)
    assert "--port 8123" in line and "--sandbox-port 8124" in line, line


def _profile(sandbox_port: int, shop_id: int) -> dict:
    rows = httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/profiles", timeout=5).json()
    return next(r for r in rows if r["shop_id"] == shop_id)


def test_a_second_demo_never_takes_over_the_first_ones_sandbox(tmp_path):
    port, sandbox_port = _free_port(), _free_port()
    first = Demo(tmp_path, "--port", str(port), "--sandbox-port", str(sandbox_port),
                 "--orders", "30", "--rate", "4")
    try:
        first.wait_url()
        shop_id = int(re.search(r"\(shop (\d+),", "".join(first.out))[1])
        deadline = time.monotonic() + 10
        while not [r for r in httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/profiles",
                                         timeout=5).json() if r["shop_id"] == shop_id]:
            assert time.monotonic() < deadline, "the first demo's order profile never started"
            time.sleep(0.2)
        apps_before = httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/profiles",
                                timeout=5).json()

        # the same command again, from the same folder (a second `make demo`), then one that
        # only shares the sandbox port, then one on ports of its own in the same folder
        same = _run_to_end(tmp_path, "--port", str(port), "--sandbox-port", str(sandbox_port))
        assert same.proc.returncode == 2 and f"端口 {port}" in "".join(same.err), same.text()
        other_port = _free_port()
        shared = _run_to_end(tmp_path, "--port", str(other_port),
                             "--sandbox-port", str(sandbox_port))
        assert shared.proc.returncode == 2 and f"端口 {sandbox_port}" in "".join(shared.err)
        assert not _listening(other_port)
        own = Demo(tmp_path, "--port", str(other_port), "--sandbox-port", str(_free_port()),
                   "--orders", "10", "--rate", "1")
        try:
            own.wait_url()
        finally:
            own.stop()
        assert own.proc.returncode == 0, own.text()[-2000:]

        # the first demo's sandbox holds only its own shop's profile, still running, still
        # making orders, and those orders still reach the first demo's fahuo
        assert httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/profiles",
                         timeout=5).json()[0]["shop_id"] == apps_before[0]["shop_id"]
        created = _profile(sandbox_port, shop_id)["created"]
        seen = first.orders_seen()
        time.sleep(11)  # two of the first demo's 5-s status lines
        after = _profile(sandbox_port, shop_id)
        assert after["running"] and after["created"] > created, after
        assert first.orders_seen()[-1] > (seen[-1] if seen else 0), first.text()[-2000:]
        assert first.proc.poll() is None
    finally:
        first.stop()
    assert first.proc.returncode == 0, first.text()[-2000:]


def test_ctrl_c_stops_a_demo_with_a_backlog_within_5_s(tmp_path):
    port, sandbox_port = _free_port(), _free_port()
    d = Demo(tmp_path, "--port", str(port), "--sandbox-port", str(sandbox_port),
             "--orders", "3000", "--rate", "50")
    try:
        d.wait_url()
        deadline = time.monotonic() + 20  # the first status line, 5 s after the URL
        while not re.search(r"(\d+) pending", "".join(d.out)):
            assert time.monotonic() < deadline, d.text()[-2000:]
            time.sleep(0.2)
        backlog = int(re.findall(r"(\d+) pending", "".join(d.out))[-1])
        assert backlog > 0, d.text()[-2000:]  # pushes still waiting: there is a backlog
        started = time.monotonic()
        d.ctrl_c()
        try:
            d.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("the demo ignored Ctrl-C for 15 s") from None
        took = time.monotonic() - started
    finally:
        d.stop()
    time.sleep(0.2)
    assert took < 5, took
    assert d.proc.returncode == 0, d.text()[-2000:]
    assert "demo stopped." in "".join(d.out)
    assert not _listening(port) and not _listening(sandbox_port)
