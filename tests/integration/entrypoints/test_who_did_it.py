"""Every action in the audit log names who did it: the person signed in to the console or
holding the API token, the CLI's --as NAME or its OS user. An install without users keeps
recording the way in ("console", "api"), as it did before sign-in existed."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from fahuo.entrypoints.web.app import create_app
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.users import add_user, issue_token

OIDS = ("6900000000000000001", "6900000000000000002")


@pytest.fixture
def shop(fahuo, make_order):
    with fahuo.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                    app_secret="s", gateway_url="http://127.0.0.1:1",
                                    shop_name="测试小店"))
        store_platform_orders(uow, ref, [make_order(OIDS[0], 1_700_000_000),
                                         make_order(OIDS[1], 1_700_000_100)])
    return ref


def _client(fahuo) -> TestClient:
    return TestClient(create_app(fahuo, embedded_worker=False), follow_redirects=False)


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get("/").text)[1]


def _who(fahuo, subject_type: str, subject_id: str) -> list[tuple[str, str]]:
    with fahuo.uow() as uow:
        return [(e["action"], e["actor"]) for e in uow.audit.for_subject(subject_type, subject_id)]


def test_console_actions_name_the_signed_in_person(fahuo, shop):
    add_user(fahuo.uow, "boss", "correct horse", role="admin", actor="t")
    add_user(fahuo.uow, "小李", "packer pass", actor="boss")
    c = _client(fahuo)
    assert c.post("/login", data={"username": "小李", "password": "packer pass"}
                  ).status_code == 303
    token = _csrf(c)
    r = c.post("/holds", data={"order_id": OIDS[0], "action": "hold", "note": "买家改地址",
                               "csrf_token": token})
    assert r.status_code == 303 and "%E5%B7%B2%E6%8C%82%E8%B5%B7%201" in r.headers["location"]
    c.post("/holds", data={"order_id": OIDS[0], "action": "release", "csrf_token": token})
    c.post(f"/shops/{shop}/settings", data={"sender_name": "二号仓", "csrf_token": token})
    assert _who(fahuo, "order", OIDS[0]) == [("order.hold", "小李"), ("order.release", "小李")]
    assert _who(fahuo, "shop", str(shop))[-1] == ("settings.update", "小李")


def test_api_actions_name_the_tokens_owner(fahuo, shop):
    add_user(fahuo.uow, "boss", "correct horse", role="admin", actor="t")
    add_user(fahuo.uow, "接口机器人", "robot pass", actor="boss")
    bearer = {"Authorization": f"Bearer {issue_token(fahuo.uow, '接口机器人', actor='boss')}"}
    c = _client(fahuo)
    r = c.post("/api/orders/hold", json={"order_ids": [OIDS[1]], "note": "核对"},
               headers=bearer)
    assert r.status_code == 200 and r.json()["changed"] == [OIDS[1]]
    r = c.put(f"/api/shops/{shop}/settings", json={"sender_name": "三号仓"}, headers=bearer)
    assert r.status_code == 200
    assert _who(fahuo, "order", OIDS[1]) == [("order.hold", "接口机器人")]
    assert _who(fahuo, "shop", str(shop))[-1] == ("settings.update", "接口机器人")


def test_without_users_the_way_in_is_recorded(fahuo, shop):
    c = _client(fahuo)
    c.post("/holds", data={"order_id": OIDS[0], "action": "hold", "note": "等回复"})
    c.post("/api/orders/hold", json={"order_ids": [OIDS[1]], "note": "等回复"})
    assert _who(fahuo, "order", OIDS[0]) == [("order.hold", "console")]
    assert _who(fahuo, "order", OIDS[1]) == [("order.hold", "api")]


def test_the_cli_records_as_name_else_the_os_user(fahuo, shop, run):
    got = run("--as", "老张", "orders", "hold", OIDS[0], "--note", "电话确认")
    assert got.exit_code == 0, got.output
    # getpass reads LOGNAME first: the OS user this command runs as
    got = run("orders", "release", OIDS[0])
    assert got.exit_code == 0, got.output
    import getpass
    assert _who(fahuo, "order", OIDS[0]) == [("order.hold", "老张"),
                                             ("order.release", getpass.getuser())]
    assert run("--as", " ", "orders", "holds").exit_code == 2  # an empty name is refused


def test_the_cli_names_the_os_user_it_runs_as(fahuo, shop, monkeypatch, run):
    monkeypatch.setenv("LOGNAME", "仓库小王")
    assert run("orders", "hold", OIDS[1], "--note", "缺货").exit_code == 0
    assert _who(fahuo, "order", OIDS[1]) == [("order.hold", "仓库小王")]


class _Down:
    """A platform whose every call fails the way a dead gateway does."""

    def __getattr__(self, method):
        def call(*_a, **_kw):
            raise ConnectionError(f"{method}: gateway down")
        return call


def test_a_failed_sync_is_kept_on_the_shop_from_the_cli_and_the_worker(fahuo, shop, run):
    import time

    from fahuo.entrypoints import worker
    with fahuo.uow() as uow:  # synced once: the error is kept on the shop's cursor row
        uow.cursors.advance(shop, int(time.time()) - 3600, 0)
    fahuo.platform_for = lambda s: _Down()
    got = run("sync", "--quiet")
    assert got.exit_code == 1 and "gateway down" in got.output
    with fahuo.uow() as uow:
        cursor = next(c for c in uow.cursors.get_all() if c["shop_ref"] == shop)
        assert cursor["last_error"].startswith("ConnectionError: ")
        uow.cursors.record_error(shop, "")
    with pytest.raises(ConnectionError):
        worker.sync_shop(shop)  # the task raises (Huey retries it) after recording
    with fahuo.uow() as uow:
        cursor = next(c for c in uow.cursors.get_all() if c["shop_ref"] == shop)
    assert "gateway down" in cursor["last_error"]
