"""What a worker killed mid-task leaves behind never stops the work for good."""

from __future__ import annotations

import time

import pytest

from fahuo.bootstrap import set_app
from fahuo.entrypoints import worker


@pytest.fixture
def app(fahuo):
    set_app(fahuo)
    worker.huey.flush_locks()
    yield fahuo
    worker.huey.flush_locks()
    set_app(None)


def test_a_killed_workers_locks_run_out_and_the_next_pass_runs(app):
    # A worker killed with SIGKILL in the middle of a pass and of a push merge: the Huey
    # locks of before stay forever, the leases it held stop being renewed.
    for name in ("pipeline", "tracking-pushes"):
        worker.huey.lock_task(name).__enter__()
    with app.uow() as u:
        for name in ("pipeline", "tracking-pushes"):
            assert u.leases.acquire(name, "dead-host:4242:0", 0.5)
    assert worker.pipeline_task.call_local() == {"skipped": True}  # still running, maybe
    assert worker.tracking_pushes_task.call_local() == {"skipped": True}
    time.sleep(0.6)  # its lease is over
    summary = worker.pipeline_task.call_local()
    assert set(summary) == {"audit", "plan", "waybills", "confirm", "recycle"}
    assert "skipped" not in worker.tracking_pushes_task.call_local()
    with app.uow() as u:  # and each gave its lease back at the end
        assert u.leases.holder_of("pipeline") is None
        assert u.leases.holder_of("tracking-pushes") is None
