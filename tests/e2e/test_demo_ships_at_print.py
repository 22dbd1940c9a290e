"""The demo keeps the default 打印后发货: nothing ships on a number alone; its packing station
prints what waits (platform e-waybills through a stand-in of the print component) and the
printed parcels then ship."""

import re
import time

import httpx
import pytest

from e2e.demo_process import Demo, _free_port
from support import make_fahuo, orders_in_fahuo

from fahuo.entrypoints.demo_packer import pack_waiting
from fahuo.services.shipping import Pipeline


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def _shipped(sandbox, shop_id):
    return {o for s in sandbox.http.get("/sandbox/shipments", params={"shop_id": shop_id}).json()
            for o in s["order_ids"]}


def test_the_packing_station_prints_and_only_then_parcels_ship(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 10, seed=91, confirm_mode=None)  # the default
    with fahuo.uow() as uow:
        assert uow.settings.get(ref)["confirm_mode"] == "on_print"
        taken = uow.pipeline.packs_in_state(["waybill_taken"], limit=100)
    assert taken and not _shipped(sandbox, creds["shop_id"])  # a number is not shipping
    got = pack_waiting(fahuo)
    assert got.component == len(taken) and got.drawn == 0 and got.failed == 0
    with fahuo.uow() as uow:
        assert {p["state"] for p in uow.pipeline.packs_by_ids([p["id"] for p in taken])} == {
            "printed"}
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    assert {p["main_order_id"] for p in taken} <= _shipped(sandbox, creds["shop_id"])
    assert pack_waiting(fahuo).component == 0  # nothing printed twice


def test_make_demo_orders_ship_on_the_default(tmp_path):
    port, sandbox_port = _free_port(), _free_port()
    d = Demo(tmp_path, "--port", str(port), "--sandbox-port", str(sandbox_port),
             "--orders", "30", "--rate", "1", env={"FAHUO_DEMO_PACK_EVERY_S": "2",
                                                    "FAHUO_PERIODIC_EVERY_S": "2"})
    try:
        url = d.wait_url()
        deadline = time.monotonic() + 120
        sent = 0
        while time.monotonic() < deadline and not sent:
            time.sleep(1)
            found = re.findall(r"已发货 (\d+)", "".join(d.out))
            sent = int(found[-1]) if found else 0
        assert sent > 0, d.text()[-3000:]
        assert "打包台：打印组件已打印" in "".join(d.out)
        assert httpx.get(f"{url}healthz", timeout=10).status_code == 200
    finally:
        d.stop()
