"""Kuaidi100 快递拦截 (labelV2 interceptOrder) over httpx.MockTransport: the exact form, the
signature, what is sent and what is not, and every way the answer can go wrong."""

import hashlib
import json
from urllib.parse import parse_qs

import httpx
import pytest

from fahuo.adapters.carriers.base import ProviderError, UnknownCourier
from fahuo.adapters.carriers.kuaidi100 import (
    InterceptRequest,
    Kuaidi100Interceptor,
    Kuaidi100Settings,
    check_partner,
    label_sign,
)

KEY, SECRET = "kEyAbC123", "sEcReT456"
NOW_MS = 1_700_000_000_123
PARTNER = {"partnerId": "ZT-10001", "partnerKey": "pk", "partnerSecret": "ps", "net": "douyin"}


def make(handler, *, secret=SECRET, label_url="https://api.example.test/label/order"):
    seen = []

    def wrapped(request: httpx.Request):
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(wrapped))
    settings = Kuaidi100Settings(customer="CUST", key=KEY, secret=secret, label_url=label_url)
    return Kuaidi100Interceptor(settings, http=http, clock=lambda: NOW_MS / 1000), seen


def form_of(request: httpx.Request) -> dict:
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


def req(**kw) -> InterceptRequest:
    base = dict(order_id="7200000000000000001-78000000009702", courier="zhongtong",
                track_no="78000000009702", partner=PARTNER, reason="买家已申请退款")
    return InterceptRequest(**(base | kw))


def ok(data=None):
    return lambda r: httpx.Response(200, json={"code": 200, "message": "success", "data": data,
                                               "time": NOW_MS})


def test_label_sign_formula_is_param_t_key_secret_upper_md5():
    param, t = '{"kuaidinum":"78000000009702"}', "1700000000123"
    expected = hashlib.md5((param + t + KEY + SECRET).encode()).hexdigest().upper()
    assert label_sign(param, t, KEY, SECRET) == expected
    # pinned literal: a change of order or case cannot go unnoticed
    assert label_sign("p", "1", "k", "s") == "26A680A75539348AAAF76AD6C0E7E333"  # MD5("p1ks")


def test_the_exact_form_posted_to_the_label_url():
    client, seen = make(ok({"anything": ["kept", 1]}))
    ack = client.intercept(req())
    (r,) = seen
    assert r.method == "POST" and str(r.url) == "https://api.example.test/label/order"
    assert r.headers["content-type"] == "application/x-www-form-urlencoded"
    form = form_of(r)
    assert set(form) == {"method", "key", "t", "param", "sign"}
    assert (form["method"], form["key"], form["t"]) == ("interceptOrder", KEY, str(NOW_MS))
    assert form["sign"] == hashlib.md5(
        (form["param"] + form["t"] + KEY + SECRET).encode()).hexdigest().upper()
    # only what is set is sent: no salt, callbackUrl, interceptPayType, recManInfo
    assert json.loads(form["param"]) == {
        "orderId": "7200000000000000001-78000000009702", "kuaidicom": "zhongtong",
        "kuaidinum": "78000000009702", "partnerId": "ZT-10001", "partnerKey": "pk",
        "partnerSecret": "ps", "net": "douyin", "interceptType": "RETURN_SEND_ADDR",
        "reason": "买家已申请退款", "orderRole": "1"}
    assert "买家" in form["param"]  # UTF-8 as is, not \\u escapes (it is what was signed)
    assert (ack.code, ack.message, ack.track_no) == (200, "success", "78000000009702")
    assert ack.data == {"anything": ["kept", 1]}  # raw, uninterpreted


def test_modify_addr_needs_the_new_receiver_and_sends_it():
    client, seen = make(ok())
    with pytest.raises(ValueError, match="recManInfo with mobile, printAddr"):
        client.intercept(req(intercept_type="MODIFY_ADDR", receiver={"name": "王小明"}))
    with pytest.raises(ValueError, match="only for interceptType MODIFY_ADDR"):
        client.intercept(req(receiver={"name": "王", "mobile": "13800000000", "printAddr": "x"}))
    assert seen == []  # refused before any HTTP
    new = {"name": "王小明", "mobile": "13800000000", "printAddr": "浙江省杭州市西湖区文三路1号"}
    client.intercept(req(intercept_type="MODIFY_ADDR", receiver=new, pay_type="SHIPPER",
                         order_role=None, salt="pepper", callback_url="https://fahuo.test/cb"))
    p = json.loads(form_of(seen[0])["param"])
    assert p["recManInfo"] == new and p["interceptType"] == "MODIFY_ADDR"
    assert (p["interceptPayType"], p["salt"], p["callbackUrl"]) == ("SHIPPER", "pepper",
                                                                    "https://fahuo.test/cb")
    assert "orderRole" not in p


def test_bad_requests_name_every_problem_and_send_nothing():
    client, seen = make(ok())
    with pytest.raises(ValueError) as ei:
        client.intercept(req(intercept_type="RETURN_HOME", order_role="9", pay_type="CASH",
                             track_no=" "))
    text = str(ei.value)
    for what in ("interceptType must be one of RETURN_SEND_STATION", "orderRole", "CASH",
                 "kuaidinum"):
        assert what in text
    with pytest.raises(UnknownCourier):
        client.intercept(req(courier="qita"))
    with pytest.raises(ValueError, match="partnerId"):
        client.intercept(req(partner={"partnerKey": "x"}))
    assert seen == []
    with pytest.raises(ValueError, match="secret"):
        make(ok(), secret=None)


def test_partner_fields_are_checked_per_courier():
    assert check_partner("yuantong", {"partnerId": " YT1 ", "net": "douyin", "code": ""}) == {
        "partnerId": "YT1", "net": "douyin"}
    with pytest.raises(ValueError, match="appKey, appSecret only for zhongtong"):
        check_partner("yuantong", {"partnerId": "1", "appKey": "a"})
    assert check_partner("zhongtong", {"partnerId": "1", "appKey": "a", "appSecret": "b"})[
        "appSecret"] == "b"
    with pytest.raises(ValueError, match="unknown partner fields partner_id"):
        check_partner("yunda", {"partner_id": "1"})
    with pytest.raises(ValueError, match="partnerKey must be text"):
        check_partner("yunda", {"partnerId": "1", "partnerKey": 5})


def test_a_refusal_carries_kuaidi100s_code_and_words():
    client, _ = make(lambda r: httpx.Response(200, json={
        "code": 30003, "message": "该单号已签收，无法拦截", "data": None, "time": NOW_MS}))
    with pytest.raises(ProviderError) as ei:
        client.intercept(req())
    assert (ei.value.code, ei.value.message) == ("30003", "该单号已签收，无法拦截")
    assert ei.value.payload["code"] == 30003 and not ei.value.retryable


@pytest.mark.parametrize("reply, code", [
    (httpx.Response(200, text="<html>gateway</html>"), "bad-response"),
    (httpx.Response(200, json=[1, 2]), "bad-response"),
    (httpx.Response(200, json={"message": "no code"}), "bad-response"),
    (httpx.Response(200, json={"code": "ok"}), "bad-response"),
    (httpx.Response(502, text="bad gateway"), "http-502"),
])
def test_answers_that_are_not_a_result_are_errors(reply, code):
    client, _ = make(lambda r: reply)
    with pytest.raises(ProviderError) as ei:
        client.intercept(req())
    assert ei.value.code == code


def test_a_string_200_code_counts_as_accepted():
    client, _ = make(lambda r: httpx.Response(200, json={"code": "200", "message": "成功"}))
    assert client.intercept(req()).code == 200


def test_transport_errors_say_whether_the_request_may_have_arrived():
    def refused(r):
        raise httpx.ConnectError("connection refused", request=r)

    def timed_out(r):
        raise httpx.ReadTimeout("read timed out", request=r)

    client, _ = make(refused)
    with pytest.raises(ProviderError) as ei:
        client.intercept(req())
    assert ei.value.code == "transport-connect" and ei.value.retryable
    client, _ = make(timed_out)
    with pytest.raises(ProviderError) as ei:
        client.intercept(req())
    assert ei.value.code == "transport" and not ei.value.retryable
    assert "可能已受理" in ei.value.message
