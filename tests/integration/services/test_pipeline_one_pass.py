"""One pipeline pass at a time per install, whoever starts it: the service holds the lease."""

from __future__ import annotations

import threading
import time

import pytest

from support import make_fahuo

from fahuo.adapters.store.leases import hold
from fahuo.services.shipping import Pipeline
from fahuo.services.ports import LeaseHeld


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, tmp_path):
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    fh = make_fahuo(tmp_path, url, lease_s=1.5)
    yield fh
    fh.close()


class SlowPipeline(Pipeline):
    """A pass whose first step takes ``work_s``, counting passes inside it at once."""

    def __init__(self, app, work_s: float, meter: dict) -> None:
        super().__init__(app.uow, app.platform_for)
        self.work_s, self.meter = work_s, meter

    def recycle(self, limit: int = 2000):
        with self.meter["lock"]:
            self.meter["now"] += 1
            self.meter["most"] = max(self.meter["most"], self.meter["now"])
        time.sleep(self.work_s)
        with self.meter["lock"]:
            self.meter["now"] -= 1
        return super().recycle(limit)


def _meter() -> dict:
    return {"lock": threading.Lock(), "now": 0, "most": 0}


def test_concurrent_passes_never_both_run(app):
    meter = _meter()
    barrier = threading.Barrier(4)
    ran, refused, errors = [], [], []

    def one_pass() -> None:
        barrier.wait()
        try:
            SlowPipeline(app, 0.8, meter).run()
            ran.append(1)
        except LeaseHeld:
            refused.append(1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert meter["most"] == 1
    assert (len(ran), len(refused)) == (1, 3)
    Pipeline(app.uow, app.platform_for).run()  # the lease went back at the end of the pass


def test_a_pass_longer_than_the_lease_keeps_it(app):
    meter = _meter()
    done = threading.Event()
    long_pass = threading.Thread(
        target=lambda: (SlowPipeline(app, 4.5, meter).run(), done.set()))
    long_pass.start()
    while meter["now"] == 0:
        time.sleep(0.02)
    tries = 0
    while not done.is_set() and meter["now"]:
        with pytest.raises(LeaseHeld):  # three leases' worth of refusals
            Pipeline(app.uow, app.platform_for).run()
        tries += 1
        time.sleep(0.25)
    long_pass.join()
    assert done.is_set() and tries >= 12


def test_a_dead_holders_lease_is_taken_once_it_expires(app):
    with app.uow() as u:  # as a pass killed with SIGKILL leaves it (it renews no more)
        assert u.leases.acquire("pipeline", "gone:1234:x", 1.0)
    with pytest.raises(LeaseHeld) as held:
        Pipeline(app.uow, app.platform_for).run()
    assert held.value.holder == "gone:1234:x"
    time.sleep(1.1)
    Pipeline(app.uow, app.platform_for).run()


def test_the_api_and_the_cli_say_a_pass_is_running(app):
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from fahuo.bootstrap import set_app
    from fahuo.entrypoints.cli import cli
    from fahuo.entrypoints.web.app import create_app
    with hold(app.uow, "pipeline"):
        with TestClient(create_app(app, embedded_worker=False)) as client:
            r = client.post("/api/pipeline/run")
        assert r.status_code == 409 and r.json()["detail"] == "另一轮发货正在进行，请稍后"
        set_app(app)
        try:
            res = CliRunner().invoke(cli, ["pipeline", "run"], env={"COLUMNS": "250"})
        finally:
            set_app(None)
        assert res.exit_code == 1 and "另一轮发货正在进行，请稍后" in res.output
        assert "step" not in res.output  # no table: nothing ran
