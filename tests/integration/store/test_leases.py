"""Leases on SQLite and PostgreSQL: one holder at a time, expiry by the database's clock,
renewal while the holder lives, and a holder killed with SIGKILL that stops blocking."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from support import make_fahuo

from fahuo.adapters.store.leases import Candidate, hold
from fahuo.services.ports import LeaseHeld


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, tmp_path):
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    fh = make_fahuo(tmp_path, url, lease_s=1.5)
    yield fh
    fh.close()


def test_a_live_lease_is_refused_to_anyone_else_and_an_expired_one_is_taken(app):
    with app.uow() as u:
        assert u.leases.acquire("x", "a")
        assert not u.leases.acquire("x", "b")
        assert u.leases.acquire("x", "a")  # its own: extended
        assert u.leases.holder_of("x") == "a"
    time.sleep(1.7)  # past the 1.5 s lease, by the database's clock
    with app.uow() as u:
        assert u.leases.holder_of("x") is None
        assert u.leases.acquire("x", "b")
        assert not u.leases.renew("x", "a")  # a's time is over
        u.leases.release("x", "a")  # not a's to release
        assert u.leases.holder_of("x") == "b"
        u.leases.release("x", "b")
        assert u.leases.acquire("x", "c")


def test_many_callers_at_once_give_one_holder(app):
    barrier = threading.Barrier(8)
    won: list[str] = []
    errors: list[BaseException] = []

    def try_it(i: int) -> None:
        try:
            barrier.wait()
            with app.uow() as u:
                if u.leases.acquire("pipeline", f"h{i}", 60):
                    won.append(f"h{i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=try_it, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(won) == 1


def test_the_holder_renews_while_it_works_and_releases_at_the_end(app):
    with hold(app.uow, "long") as mine:
        # 4 s of work on a 1.5 s lease: the heartbeat keeps it, nobody else gets in
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            with pytest.raises(LeaseHeld) as held:
                with hold(app.uow, "long"):
                    pass
            assert held.value.holder == mine.holder
            time.sleep(0.3)
        assert not mine.lost.is_set()
    with hold(app.uow, "long"):  # released at once, not after expiry
        pass


HOLDER = """
import sys, time
from pathlib import Path
from fahuo.adapters.store.leases import hold
from fahuo.bootstrap import Fahuo
from fahuo.config import Settings
app = Fahuo(Settings(data_dir=Path({data!r}), database_url={url!r}, secret_key={key!r},
                     lease_s=1.5))
with hold(app.uow, "pipeline") as h:
    print(h.holder, flush=True)
    time.sleep(600)
"""


def test_a_holder_killed_on_this_machine_is_taken_over_at_once(app, tmp_path):
    # A restarted `fahuo serve` (or a sibling worker) need not wait out a dead process's
    # lease: on the same machine, a gone pid is proof.
    code = HOLDER.format(data=str(app.settings.data_dir), url=app.settings.database_url,
                         key=app.settings.secret_key)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        holder = proc.stdout.readline().decode().strip()
        assert holder, "the holder did not start"
        time.sleep(2.0)  # longer than the lease: only its heartbeat keeps it
        with app.uow() as u:
            assert u.leases.holder_of("pipeline") == holder
        with pytest.raises(LeaseHeld):  # alive: refused
            with hold(app.uow, "pipeline"):
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with hold(app.uow, "pipeline") as h:  # dead: taken before its lease ran out
            with app.uow() as u:
                assert u.leases.holder_of("pipeline") == h.holder
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_holder_elsewhere_blocks_until_its_lease_runs_out(app):
    from fahuo.adapters.store.leases import MACHINE
    # another machine (a pid there says nothing here), and a live process of this machine
    elsewhere = f"other-host:{os.getpid() + 1}:0123456789:{'f' * 12}"
    alive_here = f"this-host:{os.getppid()}:0123456789:{MACHINE}"
    for other in (elsewhere, alive_here):
        with app.uow() as u:
            assert u.leases.acquire("x", other)
            assert not u.leases.acquire("x", "me")
        time.sleep(1.7)  # past the 1.5 s lease
        with app.uow() as u:
            assert u.leases.acquire("x", "me")
            u.leases.release("x", "me")


def test_one_candidate_leads_and_a_mark_is_claimed_once(app):
    a, b = Candidate(app.uow, "scheduler"), Candidate(app.uow, "scheduler")
    a.start()
    b.start()
    try:
        assert a.leading and not b.leading
        assert a.claim(60) and not a.claim(60) and not b.claim(60)
        a.stop()  # steps down: b leads at its next beat
        deadline = time.monotonic() + 2
        while not b.leading and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.leading
        assert not b.claim(60)  # a did that period
        assert b.claim(120)
    finally:
        a.stop()
        b.stop()
