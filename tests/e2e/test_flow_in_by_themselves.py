"""No human in the loop: `fahuo serve` with its embedded worker takes pushes and polls alone."""

import time

import pytest

from support import connect_sandbox_shop, make_fahuo, serve_in_thread

from fahuo.bootstrap import set_app
from fahuo.entrypoints import worker
from fahuo.entrypoints.web.app import create_app


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    worker.huey.flush()  # no task or lock left over from another test's shop #1
    worker.huey.flush_locks()
    set_app(app)  # worker tasks use the process-wide container
    yield app
    set_app(None)
    app.close()


def _wait_for(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return False


def test_pushed_orders_arrive_without_anyone_running_a_command(fahuo, sandbox):
    ref, creds = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    with serve_in_thread(create_app(fahuo, embedded_worker=True)) as url:
        sandbox.push_config(creds["app_key"], f"{url}/webhooks/doudian", retry_base_s=0.05)
        sandbox.generate(creds["shop_id"], 60, seed=21, spread_seconds=30)
        sandbox.mutate(creds["shop_id"], 15, seed=22)

        def converged():
            with fahuo.uow() as uow:
                stored = uow.orders.ids_with_update_time(ref)
            return stored == sandbox.index(creds["shop_id"])
        assert _wait_for(converged), "pushed orders did not all arrive"


def test_sync_task_runs_on_the_worker_queue(fahuo, sandbox):
    ref, creds = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    sandbox.generate(creds["shop_id"], 300, seed=23, spread_seconds=3600)
    time.sleep(1.1)
    # No periodic poll here: it would race this very task at a minute boundary.
    consumer = worker.start_embedded(workers=1, periodic=False)
    try:
        result = worker.sync_shop_task(ref)
        assert result.get(blocking=True, timeout=60)["inserted"] == 300
    finally:
        consumer.stop(graceful=True)
    with fahuo.uow() as uow:
        assert uow.orders.ids_with_update_time(ref) == sandbox.index(creds["shop_id"])


def test_redis_queue_carries_the_same_tasks(fahuo, sandbox, redis_url):
    """At scale the queue is Redis; the same task runs from it unchanged."""
    from huey import RedisHuey
    ref, creds = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    sandbox.generate(creds["shop_id"], 120, seed=24, spread_seconds=3600)
    time.sleep(1.1)
    q = RedisHuey(f"fahuo-test-{ref}-{time.time_ns()}", url=redis_url)
    task = q.task()(worker.sync_shop)
    result = task(ref)
    consumer = worker.EmbeddedConsumer(q, workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        assert result.get(blocking=True, timeout=60)["inserted"] == 120
    finally:
        consumer.stop(graceful=True)
        q.storage.flush_all()
