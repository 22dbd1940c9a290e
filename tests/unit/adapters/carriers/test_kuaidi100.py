import hashlib
import json
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from fahuo.adapters.carriers.base import InvalidPush, PhoneRequired, ProviderError, QueryTooSoon, UnknownCourier
from fahuo.adapters.carriers.kuaidi100 import (
    REPLY_OK,
    Kuaidi100Client,
    Kuaidi100Settings,
    parse_push,
    push_sign,
    query_sign,
    reply_failure,
    verify_push_sign,
)
from fahuo.adapters.carriers.kuaidi100.push import parse_form

CUSTOMER = "CUST0001"
KEY = "kEyAbC123"


class Clock:
    def __init__(self, t=1_700_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def make(handler, *, base_url="https://poll.example.test", resultv2="4", clock=None):
    seen = []

    def wrapped(request: httpx.Request):
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(wrapped))
    settings = Kuaidi100Settings(customer=CUSTOMER, key=KEY, base_url=base_url, resultv2=resultv2)
    return Kuaidi100Client(settings, http=http, clock=clock or Clock()), seen


def form_of(request: httpx.Request) -> dict:
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


QUERY_OK = {
    "message": "ok", "nu": "78474409893076", "ischeck": "1", "com": "zhongtong", "status": "200",
    "state": "3", "condition": "F00",
    "data": [
        {"time": "2025-01-10 09:30:00", "ftime": "2025-01-10 09:30:00", "context": "已签收，签收人凭取货码签收",
         "location": "杭州市", "status": "签收", "statusCode": "301"},
        {"time": "2025-01-09 19:22:16", "ftime": "2025-01-09 19:22:16", "context": "【杭州】派件中",
         "areaName": "浙江,杭州市", "status": "派件", "statusCode": "5"},
    ],
}


# -- signatures -----------------------------------------------------------------------------

def test_query_sign_formula():
    param = '{"com":"yuantong","num":"YT9693083639795"}'
    expected = hashlib.md5((param + KEY + CUSTOMER).encode()).hexdigest().upper()
    assert query_sign(param, KEY, CUSTOMER) == expected
    # pinned literals so that a change of the formula (order, case) cannot go unnoticed
    assert expected == "8B7F92B24EA03C33BD21DCED4B41E236"
    assert query_sign("p", "k", "c") == "F03D9E418EE2C11B40BEA3923C12A51D"  # MD5("pkc")


def test_push_sign_formula_and_case_insensitive_compare():
    param, salt = '{"status":"polling"}', "s" * 32
    expected = hashlib.md5((param + salt).encode()).hexdigest()
    assert push_sign(param, salt) == expected.upper()
    assert verify_push_sign(param, expected.lower(), salt)
    assert verify_push_sign(param, expected.upper(), salt)
    forged = expected[:-1] + ("0" if expected[-1] != "0" else "1")
    assert not verify_push_sign(param, forged, salt)
    assert not verify_push_sign(param, None, salt)


# -- query ----------------------------------------------------------------------------------

def test_query_request_exact_and_parsed():
    client, seen = make(lambda r: httpx.Response(200, json=QUERY_OK))
    result = client.query("78474409893076", "zhongtong", phone="138-0000-1234")
    (req,) = seen
    assert req.method == "POST"
    assert str(req.url) == "https://poll.example.test/poll/query.do"
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    param = '{"com":"zhongtong","num":"78474409893076","phone":"1234","resultv2":"4"}'
    sign = hashlib.md5((param + KEY + CUSTOMER).encode()).hexdigest().upper()
    assert req.content.decode() == urlencode({"customer": CUSTOMER, "sign": sign, "param": param})

    assert result.provider == "kuaidi100"
    assert result.track_no == "78474409893076" and result.courier == "zhongtong"
    assert result.raw_state == "3" and result.raw_sub_state == "301"  # newest trace's statusCode
    assert result.is_check is True
    # oldest first, GMT+8 -> epoch
    assert [e.raw_sub_state for e in result.events] == ["5", "301"]
    assert result.events[0].at == 1736421736  # 2025-01-09 11:22:16 UTC
    assert result.events[0].location == "浙江,杭州市" and result.events[1].location == "杭州市"
    assert result.events[1].description.startswith("已签收")


def test_query_without_resultv2_and_douyin_code_mapping():
    client, seen = make(lambda r: httpx.Response(200, json={**QUERY_OK, "data": []}), resultv2="")
    client.query("YT9693083639795", "yuantong")
    assert form_of(seen[0])["param"] == '{"com":"yuantong","num":"YT9693083639795"}'


@pytest.mark.parametrize("courier", ["shunfeng", "shunfengkuaiyun", "zhongtong"])
def test_query_phone_required(courier):
    client, seen = make(lambda r: httpx.Response(200, json=QUERY_OK))
    with pytest.raises(PhoneRequired):
        client.query("SF1673179789153", courier)
    assert seen == []
    # the failed attempt did not use the 30-min slot
    client.query("SF1673179789153", courier, phone="13800001234")
    assert len(seen) == 1


def test_query_unknown_courier_and_bad_number():
    client, seen = make(lambda r: httpx.Response(200, json=QUERY_OK))
    with pytest.raises(UnknownCourier):
        client.query("YT9693083639795", "qita")
    with pytest.raises(ValueError):
        client.query("12345", "yuantong")
    assert seen == []


def test_query_guard_30_minutes():
    clock = Clock()
    client, seen = make(lambda r: httpx.Response(200, json=QUERY_OK), clock=clock)
    client.query("YT9693083639795", "yuantong")
    clock.t += 29 * 60 + 59
    with pytest.raises(QueryTooSoon) as info:
        client.query(" YT9693083639795 ", "yuantong")
    assert info.value.code == "too-soon" and info.value.retryable
    assert 0 < info.value.retry_after <= 1
    assert len(seen) == 1
    # other numbers are not blocked
    client.query("YT4841733297234", "yuantong")
    clock.t += 1
    client.query("YT9693083639795", "yuantong")
    assert len(seen) == 3


def test_query_guard_counts_failed_calls_but_not_connect_errors():
    clock = Clock()
    client, seen = make(lambda r: httpx.Response(200, json={"result": False, "returnCode": "500",
                                                            "message": "服务器错误"}), clock=clock)
    with pytest.raises(ProviderError):
        client.query("YT9693083639795", "yuantong")
    with pytest.raises(QueryTooSoon):
        client.query("YT9693083639795", "yuantong")

    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    client2, _ = make(refuse, clock=clock)
    with pytest.raises(ProviderError) as info:
        client2.query("YT9693083639795", "yuantong")
    assert info.value.retryable
    with pytest.raises(ProviderError) as again:
        client2.query("YT9693083639795", "yuantong")
    assert not isinstance(again.value, QueryTooSoon)


def test_query_error_body_raises_with_words():
    client, _ = make(lambda r: httpx.Response(200, json={"result": False, "returnCode": "400",
                                                         "message": "找不到对应公司"}))
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.code == "400" and "找不到对应公司" in str(info.value)
    assert not info.value.retryable


def test_query_http_400_and_non_json():
    client, _ = make(lambda r: httpx.Response(400, text="找不到对应公司"))
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.code == "http-400" and "找不到对应公司" in info.value.message
    client, _ = make(lambda r: httpx.Response(200, text="<html>"))
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.code == "bad-response"


# -- subscribe ------------------------------------------------------------------------------

def test_subscribe_request_exact():
    client, seen = make(lambda r: httpx.Response(200, json={"result": True, "returnCode": "200",
                                                            "message": "提交成功"}))
    ack = client.subscribe("SF1673179789153", "shunfeng", "https://fahuo.example/hooks/k100?shop=7",
                           "saltsaltsalt", phone_tail="13800005678")
    (req,) = seen
    assert str(req.url) == "https://poll.example.test/poll"
    param = ('{"company":"shunfeng","number":"SF1673179789153","key":"kEyAbC123","parameters":'
             '{"callbackurl":"https://fahuo.example/hooks/k100?shop=7","salt":"saltsaltsalt",'
             '"resultv2":"4","phone":"5678"}}')
    assert req.content.decode() == urlencode({"schema": "json", "param": param})
    assert "sign" not in form_of(req)
    assert ack.accepted and not ack.duplicate and ack.code == "200" and ack.message == "提交成功"


def test_subscribe_duplicate_is_not_an_error():
    client, _ = make(lambda r: httpx.Response(200, json={"result": False, "returnCode": "501",
                                                         "message": "重复订阅"}))
    ack = client.subscribe("YT9693083639795", "yuantong", "https://x.example/cb", "s")
    assert ack.accepted and ack.duplicate and ack.code == "501"


@pytest.mark.parametrize("code,msg,retryable", [("600", "您不是合法的订阅者", False),
                                                 ("700", "", False), ("500", "服务器错误", True)])
def test_subscribe_errors(code, msg, retryable):
    client, _ = make(lambda r: httpx.Response(200, json={"result": False, "returnCode": code, "message": msg}))
    with pytest.raises(ProviderError) as info:
        client.subscribe("YT9693083639795", "yuantong", "https://x.example/cb", "s")
    assert info.value.code == code and info.value.retryable is retryable
    if msg:
        assert msg in info.value.message
    else:
        assert "数据不合法" in info.value.message


def test_subscribe_input_rules():
    client, seen = make(lambda r: httpx.Response(200, json={"result": True, "returnCode": "200"}))
    with pytest.raises(PhoneRequired):
        client.subscribe("SF1673179789153", "shunfeng", "https://x.example/cb", "s")
    with pytest.raises(ValueError):
        client.subscribe("YT9693083639795", "yuantong", None, "s")
    with pytest.raises(ValueError):
        client.subscribe("YT9693083639795", "yuantong", "https://x.example/cb", "")
    assert seen == []


# -- push -----------------------------------------------------------------------------------

SALT = "0123456789abcdef0123456789abcdef"


def push_param(status="polling", **extra):
    return json.dumps({
        "status": status, "billstatus": "sending", "message": extra.pop("message", ""),
        "autoCheck": "0", "comOld": "", "comNew": "",
        "lastResult": {"message": "ok", "state": "0", "status": "200", "condition": "F00", "ischeck": "0",
                       "com": "yuantong", "nu": "YT9693083639795",
                       "data": [
                           {"time": "2025-01-09 08:00:00", "ftime": "2025-01-09 08:00:00",
                            "context": "快件已到达【杭州转运中心】", "statusCode": "1002"},
                           {"context": "已揽收", "time": "2025-01-08 18:05:00", "ftime": "2025-01-08 18:05:00",
                            "statusCode": "103"},
                       ]},
        **extra,
    }, ensure_ascii=False)


def test_push_verified_and_parsed():
    param = push_param()
    sign = hashlib.md5((param + SALT).encode()).hexdigest().upper()
    body = urlencode({"param": param, "sign": sign}).encode()
    push = parse_push(parse_form(body), SALT)
    assert push.status == "polling" and not push.stopped
    r = push.result
    assert r.track_no == "YT9693083639795" and r.raw_state == "0" and r.raw_sub_state == "1002"
    assert r.is_check is False and r.terminal is False
    assert [e.description for e in r.events] == ["已揽收", "快件已到达【杭州转运中心】"]
    assert r.events[0].at == 1736330700  # 2025-01-08 10:05:00 UTC
    # lower-case sign is accepted too
    assert parse_push({"param": param, "sign": sign.lower()}, SALT).result is not None


def test_push_abort_is_stopped():
    param = push_param("abort", message="3天查询无记录")
    push = parse_push({"param": param, "sign": push_sign(param, SALT)}, SALT)
    assert push.stopped and push.message == "3天查询无记录" and push.result.terminal is True


def test_forged_push_rejected():
    param = push_param()
    with pytest.raises(InvalidPush):
        parse_push({"param": param, "sign": push_sign(param, "another-salt")}, SALT)
    tampered = param.replace('"state": "0"', '"state": "3"')
    assert tampered != param
    with pytest.raises(InvalidPush):
        parse_push({"param": tampered, "sign": push_sign(param, SALT)}, SALT)
    with pytest.raises(InvalidPush):
        parse_push({"param": param}, SALT)
    with pytest.raises(InvalidPush):
        parse_push({"param": param, "sign": "x"}, None)  # nothing to verify with
    assert parse_push({"param": param}, None, allow_unsigned=True).status == "polling"


def test_push_replies_exact():
    assert REPLY_OK == '{"result":true,"returnCode":"200","message":"成功"}'
    assert json.loads(reply_failure("sign错误")) == {"result": False, "returnCode": "500", "message": "sign错误"}
