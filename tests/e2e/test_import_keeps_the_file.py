"""The console's tracking-number import: 确认发货 applies exactly the file just previewed,
without picking it again; the kept file is used once (issue 13)."""
import re

import pytest
from fastapi.testclient import TestClient
from support import make_fahuo, orders_in_fahuo

from fahuo.entrypoints.web.app import create_app


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def test_confirm_applies_the_previewed_file_once(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 8, seed=131, run=False)
    with fahuo.uow(readonly=True) as u:  # paid and waiting (a random buyer may not have paid)
        ids = sorted(o["order_id"] for o in u.orders.search(shop_ref=ref, state="synced",
                                                            limit=20)[1])[:2]
    assert len(ids) == 2
    rows = "".join(f"{o},中通快递,7312{n:010d}\n" for n, o in enumerate(ids))
    data = ("订单号,快递公司,快递单号\n" + rows).encode()
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/ship").text)[1]
        page = c.post("/ship/import", data={"csrf_token": token, "apply": "0"},
                      files={"file": ("单号.csv", data, "text/csv")})
        assert page.status_code == 200 and "按此预览确认发货" in page.text
        staged = re.search(r'name="staged" value="([^"]+)"', page.text)[1]
        done = c.post("/ship/import", data={"csrf_token": token, "apply": "1",
                                            "staged": staged}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/ship/jobs/")
        job = c.get(done.headers["location"]).text
        again = c.post("/ship/import", data={"csrf_token": token, "apply": "1",
                                             "staged": staged}, follow_redirects=False)
        assert again.status_code == 410 and "请重新上传并预览" in again.text
    assert all(o in job for o in ids), job
    shipped = {o for s in sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json() for o in s["order_ids"]}
    assert set(ids) <= shipped, (job[-3000:], page.text[-3000:])  # the previewed rows shipped
