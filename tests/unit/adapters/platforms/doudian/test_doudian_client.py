import json

import httpx
import pytest
import structlog

from fahuo.adapters.platforms.doudian import (
    AppCredentials,
    BusinessError,
    InvalidRequest,
    RetryPolicy,
    ServiceUnavailable,
    Throttled,
    TokenExpired,
    TransportError,
)
from fahuo.adapters.platforms.doudian.signing import canonical_json

PARAMS = {
    "size": 100,
    "page": 0,
    "create_time_start": 1699900000,
    "create_time_end": 1700000000,
    "order_by": "create_time",
    "combine_status": [{"order_status": "2"}],
}
PARAM_JSON = (
    '{"combine_status":[{"order_status":"2"}],"create_time_end":1700000000,'
    '"create_time_start":1699900000,"order_by":"create_time","page":0,"size":100}'
)


def test_request_shape_matches_worked_example(client, gateway, h):
    gateway.script("order.searchList", h.ok({"total": 0, "shop_order_list": []}))
    data = client.call("order.searchList", PARAMS, "TOKEN-1")
    assert data == {"total": 0, "shop_order_list": []}
    (seen,) = gateway.seen
    assert seen.path == "/order/searchList"
    assert seen.query_keys == ["app_key", "method", "access_token", "timestamp", "v", "sign_method", "sign"]
    assert seen.query == {
        "app_key": h.APP_KEY,
        "method": "order.searchList",
        "access_token": "TOKEN-1",
        "timestamp": "1700000000",
        "v": "2",
        "sign_method": "hmac-sha256",
        "sign": "a64bd0f5567a547392cdca86c62a594f300ba854114ed66800cd34a497dee92b",
    }
    assert seen.body == PARAM_JSON.encode()
    assert seen.headers["content-type"] == "application/json"
    assert not gateway.bad_signs


def test_full_url_uses_gateway(client, gateway):
    client.call("logistics.newCreateOrder", {}, "T")
    assert gateway.seen[0].url == "https://openapi-fxg.jinritemai.com/logistics/newCreateOrder"


def test_md5_sign_method(make_client, gateway, h):
    client = make_client(creds=AppCredentials(h.APP_KEY, h.APP_SECRET, sign_method="md5"))
    client.call("order.searchList", PARAMS, "T")
    (seen,) = gateway.seen
    assert seen.query["sign_method"] == "md5"
    assert seen.query["sign"] == "d1514d89ab2607541bf5f6d0cec82fec"


@pytest.mark.parametrize(
    "fmt,expected", [("milliseconds", "1700000000123"), ("datetime", "2023-11-15 06:13:20")]
)
def test_timestamp_formats(make_client, gateway, clock, h, fmt, expected):
    clock.now = 1700000000.123
    client = make_client(creds=AppCredentials(h.APP_KEY, h.APP_SECRET, timestamp_format=fmt))
    client.call("order.searchList", {}, "T")
    assert gateway.seen[0].query["timestamp"] == expected
    assert not gateway.bad_signs  # signed exactly as sent


def test_unicode_body_is_utf8_and_signed_as_sent(client, gateway):
    client.call("order.addOrderRemark", {"remark": "加急 & <发货>/", "order_id": "1"}, "T")
    (seen,) = gateway.seen
    assert seen.body == canonical_json({"order_id": "1", "remark": "加急 & <发货>/"}).encode("utf-8")
    assert "加急 & <发货>/".encode() in seen.body
    assert not gateway.bad_signs


def test_empty_params_sends_empty_object(client, gateway):
    client.call("order.logisticsCompanyList", None, "T")
    assert gateway.seen[0].body == b"{}"


def test_token_calls_omit_access_token(client, gateway):
    client.call("token.create", {"grant_type": "authorization_self", "code": "", "shop_id": "1"}, None)
    assert "access_token" not in gateway.seen[0].query


def test_missing_access_token_rejected_client_side(client, gateway):
    with pytest.raises(ValueError, match="access_token"):
        client.call("order.searchList", {}, None)
    assert gateway.seen == []


@pytest.mark.parametrize("bad", ["", "order", "order/searchList", ".x", "a..b"])
def test_bad_method_names_rejected(client, bad):
    with pytest.raises(ValueError, match="method"):
        client.call(bad, {}, "T")


def test_error_envelope_raised_with_all_fields(client, gateway, h):
    gateway.script("order.logisticsAdd", h.err(50002, "isv.business-failed:2", msg="业务失败", sub_msg="订单已发货", log_id="LID9"))
    with pytest.raises(BusinessError) as info:
        client.call("order.logisticsAdd", {"order_id": "1"}, "T")
    e = info.value
    assert (e.method, e.code, e.msg, e.sub_code, e.sub_msg, e.log_id) == (
        "order.logisticsAdd", 50002, "业务失败", "isv.business-failed:2", "订单已发货", "LID9"
    )
    for part in ("order.logisticsAdd", "50002", "业务失败", "isv.business-failed:2", "订单已发货", "LID9"):
        assert part in str(e)
    assert len(gateway.seen) == 1  # not retried


@pytest.mark.parametrize(
    "envelope,cls",
    [
        ({"code": 40003, "sub_code": "isv.access-token-expired"}, TokenExpired),
        ({"code": 40002, "sub_code": "isv.parameter-missing:x"}, InvalidRequest),
    ],
)
def test_non_retryable_errors_raise_at_once(client, gateway, envelope, cls):
    gateway.script("order.searchList", {"msg": "x", "log_id": "L", **envelope}, {"code": 10000, "data": 1})
    with pytest.raises(cls):
        client.call("order.searchList", {}, "T")
    assert len(gateway.seen) == 1


@pytest.mark.parametrize("code,cls", [(60000, Throttled), (20000, ServiceUnavailable), (20001, ServiceUnavailable)])
def test_retryable_codes_retried_then_succeed(client, gateway, clock, h, code, cls):
    def tick(_seen):
        clock.now += 1
        return h.err(code, "isv.traffic-limited" if code == 60000 else "dop.service-error")

    gateway.script("order.searchList", tick, tick, h.ok({"n": 1}))
    assert client.call("order.searchList", {"page": 0}, "T") == {"n": 1}
    assert len(gateway.seen) == 3
    # every retry was re-signed with a fresh timestamp
    timestamps = [s.query["timestamp"] for s in gateway.seen]
    assert len(set(timestamps)) == 3
    assert len({s.query["sign"] for s in gateway.seen}) == 3
    assert not gateway.bad_signs


def test_retries_are_bounded_and_last_error_raised(client, gateway, h):
    gateway.script(
        "order.searchList",
        h.err(60000, "isv.traffic-limited", log_id="L1"),
        h.err(20000, "dop.service-error", log_id="L2"),
        h.err(60000, "isv.traffic-limited", log_id="L3"),
        h.err(60000, "isv.traffic-limited", log_id="L4"),
        h.ok({"never": True}),
    )
    with pytest.raises(Throttled) as info:
        client.call("order.searchList", {}, "T")
    assert info.value.log_id == "L4"
    assert len(gateway.seen) == h.FAST_RETRY.max_attempts == 4


def test_http_502_and_non_json_are_transport_errors_and_retried(client, gateway, h):
    gateway.script(
        "order.searchList",
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(200, text="<html>oops</html>"),
        httpx.ConnectError("refused"),
        h.ok({"fine": 1}),
    )
    assert client.call("order.searchList", {}, "T") == {"fine": 1}
    assert len(gateway.seen) == 4


def test_transport_error_gives_up_with_details(make_client, gateway):
    client = make_client(retry=RetryPolicy(max_attempts=2, initial_wait=0.001, max_wait=0.002))
    gateway.script(
        "order.searchList",
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(503, text="Service Unavailable", headers={"x-tt-logid": "TT1"}),
    )
    with pytest.raises(TransportError) as info:
        client.call("order.searchList", {}, "T")
    assert info.value.http_status == 503 and info.value.log_id == "TT1"
    assert "503" in str(info.value) and "order.searchList" in str(info.value)
    assert len(gateway.seen) == 2


def test_timeout_is_transport_error(make_client, gateway):
    client = make_client(retry=RetryPolicy(max_attempts=1))
    gateway.script("order.searchList", httpx.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="ReadTimeout"):
        client.call("order.searchList", {}, "T")


def test_backoff_waits_grow_and_are_capped(make_client, gateway, h):
    sleeps = []
    client = make_client(retry=RetryPolicy(max_attempts=6, initial_wait=0.2, max_wait=1.0), sleep=sleeps.append)
    gateway.script("order.searchList", *[h.err(60000, "isv.traffic-limited")] * 6)
    with pytest.raises(Throttled):
        client.call("order.searchList", {}, "T")
    assert len(sleeps) == 5
    assert 0.2 <= sleeps[0] <= 0.4
    assert 0.4 <= sleeps[1] <= 0.6
    assert all(s <= 1.0 for s in sleeps) and sleeps[-1] == 1.0


def test_rate_budget_consulted_on_every_attempt(make_client, gateway, h):
    class CountingBudget:
        def __init__(self):
            self.keys = []

        def acquire(self, app_key):
            self.keys.append(app_key)

    budget = CountingBudget()
    client = make_client(rate_budget=budget)
    gateway.script("order.searchList", h.err(60000, "isv.traffic-limited"), h.ok({}))
    client.call("order.searchList", {}, "T")
    assert budget.keys == [h.APP_KEY, h.APP_KEY]


def test_logs_never_contain_tokens_or_param_json(client, gateway, h):
    secret_value = "SECRET-RECEIVER-名字"
    gateway.script("order.searchList", h.err(60000, "isv.traffic-limited", log_id="LOGX"), h.err(40004, "bad", log_id="LOGY"))
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(InvalidRequest):
            client.call("order.searchList", {"q": secret_value}, "ACCESS-TOKEN-XYZ")
    dump = json.dumps(logs, default=str, ensure_ascii=False)
    assert "ACCESS-TOKEN-XYZ" not in dump and secret_value not in dump
    assert h.APP_SECRET not in dump
    retry_events = [e for e in logs if e["event"] == "doudian.call.retry"]
    assert retry_events and retry_events[0]["log_id"] == "LOGX" and retry_events[0]["attempt"] == 1
    failed = [e for e in logs if e["event"] == "doudian.call.failed"]
    assert [e["log_id"] for e in failed] == ["LOGX", "LOGY"]
    assert failed[1]["code"] == 40004 and failed[1]["sub_code"] == "bad" and failed[1]["attempt"] == 2


def test_credentials_repr_hides_secret(h):
    creds = AppCredentials(h.APP_KEY, h.APP_SECRET)
    assert h.APP_SECRET not in repr(creds)


@pytest.mark.parametrize(
    "kw", [{"sign_method": "sha1"}, {"timestamp_format": "minutes"}, {"gateway_url": "openapi.example"}]
)
def test_credentials_validated(h, kw):
    with pytest.raises(ValueError):
        AppCredentials(h.APP_KEY, h.APP_SECRET, **kw)


def test_sandbox_gateway_trailing_slash(make_client, gateway, h):
    client = make_client(creds=AppCredentials(h.APP_KEY, h.APP_SECRET, gateway_url="https://openapi-sandbox.jinritemai.com/"))
    client.call("order.searchList", {}, "T")
    assert gateway.seen[0].url == "https://openapi-sandbox.jinritemai.com/order/searchList"


# -- token helpers -------------------------------------------------------------------


def test_create_token_self_built(client, gateway, clock):
    tokens = client.create_token(shop_id="77001")
    (seen,) = gateway.seen
    assert seen.path == "/token/create" and "access_token" not in seen.query
    assert seen.body == b'{"code":"","grant_type":"authorization_self","shop_id":"77001"}'
    assert tokens.access_token == "access-1" and tokens.refresh_token == "refresh-1"
    assert tokens.expires_at == int(clock.now) + 604800
    assert tokens.refresh_expires_at == int(clock.now) + 14 * 86400
    assert tokens.shop_id == "77001" and tokens.shop_name == "测试店" and tokens.scope == "SCOPE"
    assert "access-1" not in repr(tokens) and "refresh-1" not in repr(tokens)


def test_create_token_oauth_code_and_test_shop(client, gateway):
    client.create_token(code="OAUTHCODE", test_shop=True)
    assert gateway.seen[0].params == {"grant_type": "authorization_code", "code": "OAUTHCODE", "test_shop": "1"}


def test_create_token_needs_shop_or_code(client):
    with pytest.raises(ValueError):
        client.create_token()


def test_refresh_token(client, gateway):
    tokens = client.refresh_token("refresh-0")
    (seen,) = gateway.seen
    assert seen.path == "/token/refresh" and "access_token" not in seen.query
    assert seen.params == {"grant_type": "refresh_token", "refresh_token": "refresh-0"}
    assert tokens.access_token == "access-1"


def test_non_200_is_transport_error_even_with_json_body(make_client, gateway, h):
    client = make_client(retry=RetryPolicy(max_attempts=2, initial_wait=0.001, max_wait=0.002))
    gateway.script("order.searchList", httpx.Response(500, json=h.ok({"x": 1})), httpx.Response(200, json=h.ok({"x": 2})))
    assert client.call("order.searchList", {}, "T") == {"x": 2}
    gateway.script("order.searchList", httpx.Response(504, json=h.ok({"x": 1})), httpx.Response(504, json=h.ok({"x": 1})))
    with pytest.raises(TransportError) as info:
        client.call("order.searchList", {}, "T")
    assert info.value.http_status == 504
