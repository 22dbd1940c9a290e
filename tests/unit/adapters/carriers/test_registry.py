"""The carrier registry: what each provider declares, and that its parts are the provider's own
(status map, pushes, accounts, interception) behind the one ``ports.Carrier`` shape."""

import hashlib
import json

import httpx
import pytest

from fahuo.adapters.carriers.base import InvalidPush
from fahuo.adapters.carriers.kdniao.push import data_sign
from fahuo.adapters.carriers.kdniao.status import KDNIAO
from fahuo.adapters.carriers.kuaidi100.client import Kuaidi100Client
from fahuo.adapters.carriers.kuaidi100.status import KUAIDI100
from fahuo.adapters.carriers.provider import Unsupported
from fahuo.adapters.carriers.registry import CarrierRegistry
from fahuo.domain.tracking import TrackingState as S
from fahuo.services.ports import Capability as C

ACCOUNT_K100 = {"id": 7, "provider": "kuaidi100", "name": "k",
                "credentials": {"customer": "CUST", "key": "KEY", "salt": "SALT"},
                "base_url": "https://poll.k100.test", "callback_url": "https://fahuo.test"}
ACCOUNT_KDN = {"id": 8, "provider": "kdniao", "name": "d",
               "credentials": {"ebusiness_id": "1237100", "api_key": "APPKEY"},
               "base_url": "https://api.kdniao.test/api/dist", "callback_url": "https://f.test"}


@pytest.fixture
def reg():
    r = CarrierRegistry(http=httpx.Client(transport=httpx.MockTransport(
        lambda req: httpx.Response(500))))
    yield r
    r.close()


def test_each_provider_declares_what_it_does(reg):
    got = {p.name: p.capabilities for p in reg}
    assert got == {"kuaidi100": {C.SUBSCRIBE, C.POLL, C.PUSH, C.INTERCEPT},
                   "kdniao": {C.SUBSCRIBE, C.POLL, C.PUSH},
                   "douyin": {C.POLL}}
    assert [p.name for p in reg.able(C.INTERCEPT)] == ["kuaidi100"]
    assert [p.name for p in reg.able(C.PUSH)] == ["kuaidi100", "kdniao"]
    assert reg.able(C.REACHABILITY) == ()  # nobody offers it (the pipeline asks the platform)
    assert reg.fallback.name == "douyin" and reg.fallback.account_fields == ()
    with pytest.raises(KeyError):
        reg.get("sto")


def test_account_fields_say_which_are_required_and_secret(reg):
    k100 = {f.name: (f.required, f.secret) for f in reg.get("kuaidi100").account_fields}
    assert k100 == {"customer": (True, False), "key": (True, True), "salt": (True, True),
                    "secret": (False, True), "label_url": (False, False)}
    kdn = {f.name: (f.required, f.secret) for f in reg.get("kdniao").account_fields}
    assert kdn == {"ebusiness_id": (True, False), "api_key": (True, True)}


def test_status_maps_are_the_tables_in_each_providers_folder(reg):
    k100, kdn, dy = reg.get("kuaidi100"), reg.get("kdniao"), reg.get("douyin")
    assert k100.status_map.table is KUAIDI100 and kdn.status_map.table is KDNIAO
    # the same code means different things to different providers
    assert k100.status("4") == (S.RETURNED, None)
    assert kdn.status("4")[0] is S.EXCEPTION
    assert dy.status("签收") == (S.DELIVERED, None)


def test_a_capability_not_declared_is_refused_not_faked(reg):
    with pytest.raises(Unsupported, match="Kdniao does not offer intercept"):
        reg.get("kdniao").intercept_route([ACCOUNT_KDN], "zhongtong")
    with pytest.raises(Unsupported, match="Douyin does not offer push"):
        reg.get("douyin").read_push("{}")


def test_clients_are_built_from_the_account_on_the_registrys_http(reg):
    c = reg.get("kuaidi100").client(ACCOUNT_K100, clock=lambda: 0.0)
    assert isinstance(c, Kuaidi100Client)
    assert (c.settings.customer, c.settings.key, c.query_url) == (
        "CUST", "KEY", "https://poll.k100.test/poll/query.do")
    assert c.http is reg._client()


def test_kuaidi100_push_checked_by_its_salt_and_read_back(reg):
    k100 = reg.get("kuaidi100")
    param = json.dumps({"status": "shutdown", "lastResult": {
        "nu": "YT1", "com": "yuantong", "state": "3", "status": "200",
        "data": [{"time": "2026-03-01 10:00:00", "context": "已签收", "status": "签收"}]}},
        ensure_ascii=False)
    sign = hashlib.md5((param + "SALT").encode()).hexdigest().upper()
    ok = k100.check_push(ACCOUNT_K100, {"param": param, "sign": sign})
    assert (ok.status, ok.body, ok.rejected) == (200, param, None)
    assert json.loads(ok.reply)["result"] is True
    forged = k100.check_push(ACCOUNT_K100, {"param": param, "sign": "0" * 32})
    assert (forged.status, forged.body, forged.rejected) == (401, None, "bad sign")
    missing = k100.check_push(ACCOUNT_K100, {"sign": sign})
    assert (missing.status, missing.body, missing.rejected) == (400, None, None)
    ((no, events, stopped),) = k100.read_push(param)
    assert (no, stopped) == ("YT1", True)  # shutdown: the provider stops tracking
    assert [e.state for e in events] == [S.DELIVERED]


def test_kdniao_push_checked_by_its_data_sign_and_each_parcel_read(reg):
    kdn = reg.get("kdniao")
    data = json.dumps({"EBusinessID": "1237100", "Count": 2, "Data": [
        {"LogisticCode": "ZT1", "ShipperCode": "ZTO", "State": "3", "StateEx": "301",
         "Traces": [{"AcceptTime": "2026-03-01 10:00:00", "AcceptStation": "签收",
                     "Action": "301"}]},
        {"LogisticCode": "ZT2", "ShipperCode": "ZTO", "State": "2", "Traces": []},
        "not a parcel"]}, ensure_ascii=False)
    form = {"RequestData": data, "RequestType": "101", "DataSign": data_sign(data, "APPKEY")}
    ok = kdn.check_push(ACCOUNT_KDN, form)
    assert (ok.status, ok.body) == (200, data)
    bad = kdn.check_push(ACCOUNT_KDN, {**form, "DataSign": data_sign(data, "other")})
    assert (bad.status, bad.body, bad.rejected) == (401, None, "kdniao push DataSign mismatch")
    read = kdn.read_push(data)
    assert [(no, [e.state for e in evs], stopped) for no, evs, stopped in read] == [
        ("ZT1", [S.DELIVERED], False), ("ZT2", [], False)]
    with pytest.raises(InvalidPush, match="not a JSON object"):
        kdn.read_push("not json")


def test_kuaidi100_interception_route_names_what_is_missing(reg):
    k100 = reg.get("kuaidi100")
    assert k100.intercept_route([], "zhongtong")[0] is None
    no_secret = k100.intercept_route([ACCOUNT_K100], "zhongtong")
    assert no_secret[0] is None and "has no secret" in no_secret[1]
    signed = {**ACCOUNT_K100, "credentials": {**ACCOUNT_K100["credentials"], "secret": "S",
                                              "intercept_partners": {"zhongtong": {
                                                  "partnerId": "P1"}}}}
    assert k100.intercept_route([signed], "ZhongTong") == (signed, {"partnerId": "P1"})
    other = k100.intercept_route([signed], "yuantong")
    assert other[0] is None and "no yuantong e-waybill account" in other[1]
