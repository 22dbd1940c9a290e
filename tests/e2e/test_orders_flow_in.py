"""Orders flow in from the (strict, local) Douyin open platform over real HTTP."""

import time

import pytest

from support import connect_sandbox_shop, make_fahuo, serve_in_thread

from fahuo.entrypoints.web.app import create_app
from fahuo.services.push import process_inbox


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def _stored(app, ref) -> dict[str, int]:
    with app.uow() as uow:
        return uow.orders.ids_with_update_time(ref)


def _sync(app, ref):
    time.sleep(1.05)  # orders created this very second are inside the sync lag
    with app.uow() as uow:
        shop = uow.shops.get(ref)
    return app.order_sync.run(ref, app.platform_for(shop))


def test_sync_takes_every_order_of_several_shops_exactly(fahuo, sandbox):
    a_ref, a = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    b_ref, b = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    sandbox.generate(a["shop_id"], 1800, seed=1, spread_seconds=2 * 86400)
    sandbox.generate(b["shop_id"], 700, seed=2, spread_seconds=5 * 86400)
    ra, rb = _sync(fahuo, a_ref), _sync(fahuo, b_ref)
    assert _stored(fahuo, a_ref) == sandbox.index(a["shop_id"])
    assert _stored(fahuo, b_ref) == sandbox.index(b["shop_id"])
    assert ra.inserted == 1800 and rb.inserted == 700
    # Changes on the platform arrive with the next poll; nothing doubles.
    sandbox.mutate(a["shop_id"], 150, seed=3)
    time.sleep(1.1)
    r2 = _sync(fahuo, a_ref)
    assert r2.inserted == 0 and r2.updated >= 1
    assert _stored(fahuo, a_ref) == sandbox.index(a["shop_id"])
    with fahuo.uow() as uow:
        counts = uow.orders.count_by_state(a_ref)
    assert sum(counts.values()) == 1800 and counts.get("cancelled", 0) >= 1


def test_sync_completes_through_five_percent_faults_and_throttling(fahuo, sandbox):
    ref, creds = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    sandbox.generate(creds["shop_id"], 2500, seed=4, spread_seconds=86400)
    sandbox.faults(error_rate=0.05, throttle_burst={"every_n": 12, "length": 3}, latency_ms=2)
    report = _sync(fahuo, ref)
    stats = sandbox.stats()
    codes = stats["calls_by_code"]
    assert int(codes.get("60000", 0)) > 0 and (int(codes.get("20000", 0))
                                               + int(codes.get("20001", 0))) > 0
    assert _stored(fahuo, ref) == sandbox.index(creds["shop_id"])
    assert report.inserted == 2500


def test_real_rate_limit_is_respected(fahuo, sandbox):
    """The platform allows this app 5 calls/s; with its budget set to that, fahuo is not
    refused (a stray refusal at a window edge is retried) and the sync completes."""
    ref, creds = connect_sandbox_shop(fahuo, sandbox, qps=5, fahuo_qps=5)
    sandbox.generate(creds["shop_id"], 1200, seed=5, spread_seconds=3600)
    t0 = time.monotonic()
    _sync(fahuo, ref)
    assert _stored(fahuo, ref) == sandbox.index(creds["shop_id"])
    calls = sum(int(n) for n in sandbox.stats()["calls_by_method"].values())
    assert time.monotonic() - t0 >= (calls - 5) / 5  # the budget really paced the calls
    assert int(sandbox.stats()["calls_by_code"].get("60000", 0)) <= 2


def test_duplicated_out_of_order_pushes_converge_with_polling(fahuo, sandbox):
    ref, creds = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as fahuo_url:
        sandbox.push_config(creds["app_key"], f"{fahuo_url}/webhooks/doudian",
                            duplicate_rate=0.4, reorder=True, retry_base_s=0.05)
        sandbox.generate(creds["shop_id"], 200, seed=6, spread_seconds=600)
        sandbox.mutate(creds["shop_id"], 120, seed=7)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sandbox.stats()["push"]["pending"] == 0:
                break
            time.sleep(0.2)
        assert sandbox.stats()["push"]["pending"] == 0
    with fahuo.uow() as uow:
        inbox = uow.inbox.counts()
    assert inbox.get("pending", 0) > 0
    while process_inbox(fahuo.uow, fahuo.platform_for).processed:
        pass
    with fahuo.uow() as uow:
        assert uow.inbox.counts().get("pending", 0) == 0
    # Every order the platform pushed about is here, at its newest update.
    pushed = _stored(fahuo, ref)
    index = sandbox.index(creds["shop_id"])
    assert pushed and all(index[k] == v for k, v in pushed.items())
    # Polling afterwards agrees and adds only what no push named.
    _sync(fahuo, ref)
    assert _stored(fahuo, ref) == index


def test_couriers_and_addresses_come_live_from_the_platform(fahuo, sandbox):
    from fastapi.testclient import TestClient
    ref, _ = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        couriers = client.get(f"/api/shops/{ref}/platform/couriers").json()
        assert {"zhongtong", "shunfeng"} <= {c["code"] for c in couriers}
        addresses = client.get(f"/api/shops/{ref}/platform/addresses").json()
        assert addresses and any(a["is_default_send"] for a in addresses)
        assert client.get("/api/shops/999/platform/couriers").status_code == 404
        page = client.get(f"/shops/{ref}")
        assert "中通" in page.text and "默认发货" in page.text


def test_a_tool_app_shop_is_authorised_by_the_oauth_redirect(fahuo, sandbox):
    from fastapi.testclient import TestClient

    from fahuo.services.shops import NewShop, add_shop
    creds = sandbox.new_app(qps=1000)
    with fahuo.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id=str(creds["shop_id"]), app_key=creds["app_key"],
                                    app_secret=creds["app_secret"], gateway_url=sandbox.url,
                                    auth_type="oauth"))
    code = sandbox.http.post("/sandbox/oauth/code", json={"app_key": creds["app_key"],
                                                          "shop_id": creds["shop_id"]}).json()
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        def state() -> str:  # what the shop page's "authorise" button hands the merchant
            return client.post(f"/api/shops/{ref}/oauth-state").json()["state"]
        r = client.get("/oauth/doudian/callback", params={"code": code["code"],
                                                          "state": state()},
                       follow_redirects=False)
        assert r.status_code == 303 and "msg=" in r.headers["location"]
        again = client.get("/oauth/doudian/callback", params={"code": code["code"],
                                                              "state": state()},
                           follow_redirects=False)  # a code works once
        assert "%E5%A4%B1%E8%B4%A5" in again.headers["location"]  # 失败
    with fahuo.uow() as uow:
        assert uow.shops.load_tokens(ref)["access_token"]
    sandbox.generate(creds["shop_id"], 50, seed=9, spread_seconds=3600)
    _sync(fahuo, ref)
    assert len(_stored(fahuo, ref)) == 50
