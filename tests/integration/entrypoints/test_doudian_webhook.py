"""POST /webhooks/doudian: who may push, what is stored, and what processing does."""

import json

import pytest
from fastapi.testclient import TestClient

from fahuo.adapters.platforms.doudian.signing import push_signature
from fahuo.entrypoints.web.app import create_app
from fahuo.services.push import process_inbox
from fahuo.services.shops import NewShop, add_shop

APP_KEY = "3409409348479354011"
SECRET = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
SHOP = "12345"


@pytest.fixture
def web(fahuo):
    with fahuo.uow() as uow:
        add_shop(uow, NewShop(shop_id=SHOP, app_key=APP_KEY, app_secret=SECRET,
                              gateway_url="http://127.0.0.1:1"))
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        yield client


def _post(client, messages, *, secret=SECRET, app_id=APP_KEY, raw=None, sign=None):
    body = raw if raw is not None else json.dumps(messages, ensure_ascii=False).encode()
    headers = {"content-type": "application/json"}
    if app_id is not None:
        headers["app-id"] = app_id
    if sign is not False:
        headers["event-sign"] = sign or push_signature(app_id or APP_KEY, secret, body)
    return client.post("/webhooks/doudian", content=body, headers=headers)


def _msg(msg_id, tag="101", order_id="6900000000000000001"):
    data = json.dumps({"p_id": int(order_id), "s_ids": [int(order_id)], "shop_id": int(SHOP),
                       "order_status": 2})
    return {"tag": tag, "msg_id": msg_id, "data": data}


def _inbox(fahuo):
    with fahuo.uow() as uow:
        return {m["msg_id"]: m for m in uow.inbox.recent(500)}


def test_signed_push_is_stored_once_and_acknowledged(web, fahuo):
    r = _post(web, [_msg("a:101:1"), _msg("a:101:1")])
    assert r.status_code == 200 and r.json() == {"code": 0, "msg": "success"}
    r = _post(web, [_msg("a:101:1")])  # replayed: acknowledged, not stored again
    assert r.json()["code"] == 0
    inbox = _inbox(fahuo)
    assert list(inbox) == ["a:101:1"] and inbox["a:101:1"]["status"] == "pending"
    assert inbox["a:101:1"]["order_id"] == "6900000000000000001"


def test_verification_ping_gets_success(web):
    r = _post(web, [{"tag": "0", "msg_id": "ping-1", "data": "{}"}])
    assert r.status_code == 200 and r.json() == {"code": 0, "msg": "success"}


@pytest.mark.parametrize("case", ["forged", "unsigned", "unknown_app", "no_app_id"])
def test_forged_or_unsigned_push_is_refused_and_nothing_stored(web, fahuo, case, caplog):
    kwargs = {
        "forged": {"secret": "not-the-secret"},
        "unsigned": {"sign": False},
        "unknown_app": {"app_id": "1111111111111111111"},
        "no_app_id": {"app_id": None, "sign": "0" * 32},
    }[case]
    r = _post(web, [_msg("x:1")], **kwargs)
    assert 400 <= r.status_code < 500 and r.json()["code"] != 0
    assert _inbox(fahuo) == {}


def test_tampered_body_with_an_old_signature_is_refused(web, fahuo):
    good = json.dumps([_msg("t:1")]).encode()
    sign = push_signature(APP_KEY, SECRET, good)
    r = _post(web, None, raw=good.replace(b"101", b"106"), sign=sign)
    assert r.status_code == 401 and _inbox(fahuo) == {}


def test_oversized_body_gets_413(web, fahuo):
    big = json.dumps([_msg(f"big:{i}") for i in range(1)] + [{"pad": "x" * (1 << 20)}]).encode()
    r = _post(web, None, raw=big)
    assert r.status_code == 413 and _inbox(fahuo) == {}


def test_malformed_json_gets_a_clear_400(web, fahuo):
    r = _post(web, None, raw=b'[{"tag": "101", "msg_id": ')
    assert r.status_code == 400 and "malformed" in r.json()["msg"]
    assert _inbox(fahuo) == {}


def test_unknown_tags_are_stored_and_skipped(web, fahuo):
    _post(web, [_msg("p:400", tag="400"), _msg("o:101", tag="101")])
    inbox = _inbox(fahuo)
    assert inbox["p:400"]["status"] == "skipped"
    assert inbox["o:101"]["status"] == "pending"


class DetailPlatform:
    def __init__(self, orders):
        self.orders, self.detail_calls = orders, []

    def order_detail(self, oid):
        self.detail_calls.append(oid)
        if oid not in self.orders:
            raise RuntimeError(f"order {oid} not found")
        return self.orders[oid]


def test_processing_rereads_each_order_once_and_converges(web, fahuo, make_order):
    oid = "6900000000000000001"
    plat = DetailPlatform({oid: make_order(oid, 1_700_000_500, status=4, shop_id=SHOP)})
    # Out of order and duplicated: cancel (106) arrives before paid (101), twice.
    _post(web, [_msg("m:106", "106", oid), _msg("m:101", "101", oid), _msg("m:106", "106", oid)])
    report = process_inbox(fahuo.uow, lambda shop: plat)
    assert report.processed == 2 and plat.detail_calls == [oid]
    with fahuo.uow() as uow:
        assert uow.orders.get(oid)["state"] == "cancelled"
    assert {m["status"] for m in _inbox(fahuo).values()} == {"done"}


def test_failed_fetch_stays_pending_then_gives_up(web, fahuo):
    plat = DetailPlatform({})
    _post(web, [_msg("f:1", "101", "6900000000000000009")])
    for _ in range(4):
        process_inbox(fahuo.uow, lambda shop: plat)
        assert _inbox(fahuo)["f:1"]["status"] == "pending"
    process_inbox(fahuo.uow, lambda shop: plat)
    m = _inbox(fahuo)["f:1"]
    assert m["status"] == "failed" and "not found" in m["error"]
