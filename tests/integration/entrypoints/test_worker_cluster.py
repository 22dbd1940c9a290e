"""Several workers, one scheduler: periodic tasks are enqueued once per period across the
cluster, by whoever holds the scheduler lease, and again by another after it is killed."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from fahuo.bootstrap import set_app
from fahuo.entrypoints import worker

PERIOD_S, LEASE_S = 1, 2.0
ENQUEUED = re.compile(r"periodic_enqueued\s.*?period=(\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _periods(path) -> list[int]:
    text = ANSI.sub("", path.read_text(errors="replace")) if path.exists() else ""
    return [int(p) for p in ENQUEUED.findall(text)]


def _wait(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.postgres
def test_three_workers_enqueue_each_period_once_and_a_new_leader_takes_over(
        tmp_path, pg_url, redis_url):
    from huey import RedisHuey

    from fahuo.adapters.store.db import make_engine
    from fahuo.adapters.store.migrate import upgrade
    RedisHuey("fahuo", url=redis_url).flush()
    engine = make_engine(pg_url)
    upgrade(engine)  # (each worker would, one after another: a slower start)
    engine.dispose()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
           "FAHUO_DATA_DIR": str(tmp_path / "data"), "FAHUO_DATABASE_URL": pg_url,
           "FAHUO_REDIS_URL": redis_url, "FAHUO_LOG_LEVEL": "INFO",
           "FAHUO_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
           "FAHUO_LEASE_S": str(LEASE_S), "FAHUO_PERIODIC_EVERY_S": str(PERIOD_S)}
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    procs = []
    try:
        for log in logs:
            with open(log, "wb") as out:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "fahuo.entrypoints.cli", "worker", "--workers", "1"],
                    env=env, stdout=out, stderr=subprocess.STDOUT))
        assert _wait(lambda: sum(len(_periods(p)) for p in logs) >= 3, 25), \
            [p.read_text()[-1500:] for p in logs]
        before = [_periods(p) for p in logs]
        leaders = [i for i, got in enumerate(before) if got]
        assert len(leaders) == 1, before  # one scheduler enqueued, the other two did not
        old = leaders[0]
        procs[old].send_signal(signal.SIGKILL)
        procs[old].wait(10)
        killed_after = max(before[old])
        others = [i for i in range(3) if i != old]
        assert _wait(lambda: sum(len(_periods(logs[i])) for i in others) >= 2, 20), \
            [logs[i].read_text()[-1500:] for i in others]
        # read before the stop: the first survivor to stop steps down, and the other may
        # rightly lead for a period or two before its own signal lands
        after = [_periods(p) for p in logs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # Huey's immediate stop
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        RedisHuey("fahuo", url=redis_url).flush()
    everything = sorted(x for p in logs for x in _periods(p))
    assert len(everything) == len(set(everything))  # no period enqueued twice, stop included
    assert len([i for i in others if after[i]]) == 1  # one new leader, not two
    new = next(i for i in others if after[i])
    # the old leader enqueued every period while it lived ...
    assert after[old] == list(range(after[old][0], killed_after + 1, PERIOD_S))
    # ... and the new one every period from its first, which came within a lease, a
    # campaign beat and a period (plus slack for a busy machine) of the last one
    assert after[new] == list(range(after[new][0], after[new][-1] + 1, PERIOD_S))
    assert after[new][0] > killed_after
    assert after[new][0] - killed_after <= LEASE_S + LEASE_S / 3 + PERIOD_S + 3


def test_the_embedded_worker_alone_leads_and_enqueues_the_periodic_tasks(fahuo):
    set_app(fahuo)
    worker.huey.flush()
    consumer = worker.EmbeddedConsumer(worker.huey, workers=1, worker_type="thread",
                                       periodic=True)
    assert consumer.candidate is not None
    consumer.candidate.start()
    try:
        assert consumer.candidate.leading  # nobody else stands: it leads at once
        at = datetime(2026, 12, 2, 10, 23, tzinfo=timezone.utc).timestamp()  # minute 23
        names = consumer.leader_scheduler.enqueue_due(at=at)
        # every minute: poll_shops; at minute 23: the full stock sync; at 7 only: refresh
        assert sorted(n.rsplit(".", 1)[-1] for n in names) == ["poll_shops", "stock_full_sync"]
        assert sorted(t.name.rsplit(".", 1)[-1] for t in worker.huey.pending()) == [
            "poll_shops", "stock_full_sync"]
        assert consumer.leader_scheduler.enqueue_due(at=at + 1) == []  # once per period
    finally:
        consumer.candidate.stop()
        worker.huey.flush()
        set_app(None)


def test_a_worker_without_periodic_never_enqueues_them(fahuo):
    set_app(fahuo)
    try:
        consumer = worker.FahuoConsumer(worker.huey, workers=1, worker_type="thread",
                                        periodic=False)
        assert consumer.candidate is None and consumer.leader_scheduler.candidate is None
    finally:
        set_app(None)
