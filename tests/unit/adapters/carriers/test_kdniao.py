import base64
import hashlib
import json
from urllib.parse import parse_qs, quote, urlencode

import httpx
import pytest

from fahuo.adapters.carriers.base import InvalidPush, PhoneRequired, ProviderError, TrackingProvider
from fahuo.adapters.carriers.kdniao import (
    KdniaoClient,
    KdniaoSettings,
    data_sign,
    parse_form,
    parse_push,
    reply,
    verify_data_sign,
)

EBID = "1237100"
APPKEY = "56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17"
ENDPOINT = "https://api.kdniao.example/api/dist"


def make(handler):
    seen = []

    def wrapped(request: httpx.Request):
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(wrapped))
    return KdniaoClient(KdniaoSettings(EBID, APPKEY, endpoint=ENDPOINT), http=http), seen


def form_of(request):
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


def expected_sign(request_data: str) -> str:
    return base64.b64encode(hashlib.md5((request_data + APPKEY).encode("utf-8")).hexdigest().encode()).decode()


# -- signature ------------------------------------------------------------------------------

def test_data_sign_formula():
    rd = '{"OrderCode":"","ShipperCode":"YTO","LogisticCode":"YT9693083639795"}'
    assert data_sign(rd, APPKEY) == expected_sign(rd)
    assert data_sign(rd, APPKEY) == "ZDI1OGU5YTZmMGQzNzRiMzFjNGYyMWUzMzNiMWVkMDk="  # pinned
    # Base64 of the 32-char lower-case hex string, not of the raw 16-byte digest
    raw = base64.b64encode(hashlib.md5((rd + APPKEY).encode()).digest()).decode()
    assert data_sign(rd, APPKEY) != raw
    assert base64.b64decode(data_sign(rd, APPKEY)).decode() == hashlib.md5((rd + APPKEY).encode()).hexdigest()
    # UTF-8 bytes of non-ASCII JSON
    rd_cn = '{"Reason":"暂无轨迹信息"}'
    assert data_sign(rd_cn, APPKEY) == expected_sign(rd_cn)


# -- query ----------------------------------------------------------------------------------

TRACE_OK = {
    "EBusinessID": EBID, "ShipperCode": "ZTO", "LogisticCode": "78474409893076", "Success": True,
    "Reason": None, "State": "2", "StateEx": "202", "Location": "杭州市",
    "Traces": [
        {"AcceptTime": "Thu Mar 30 05:37:57 CST 2023", "AcceptStation": "【杭州】已揽收", "Location": "杭州市",
         "Action": "1"},
        {"AcceptTime": "2023-03-31 09:00:00", "AcceptStation": "【杭州】派件中", "Location": "杭州市",
         "Action": "202", "Remark": ""},
    ],
}


def test_query_8001_request_exact_and_parsed():
    client, seen = make(lambda r: httpx.Response(200, json=TRACE_OK))
    result = client.query("78474409893076", "zhongtong", phone="13800001234")
    (req,) = seen
    assert req.method == "POST" and str(req.url) == ENDPOINT
    assert req.headers["content-type"] == "application/x-www-form-urlencoded;charset=utf-8"
    rd = '{"ShipperCode":"ZTO","LogisticCode":"78474409893076","CustomerName":"1234"}'
    assert req.content.decode() == urlencode([
        ("RequestData", rd), ("EBusinessID", EBID), ("RequestType", "8001"),
        ("DataSign", expected_sign(rd)), ("DataType", "2"),
    ])
    # DataSign is URL-encoded exactly once on the wire
    wire_sign = req.content.decode().split("DataSign=")[1].split("&")[0]
    assert wire_sign == quote(expected_sign(rd), safe="") and "%25" not in wire_sign

    assert isinstance(client, TrackingProvider) and not client.callback_in_request
    assert result.provider == "kdniao" and result.courier == "ZTO" and result.track_no == "78474409893076"
    assert (result.raw_state, result.raw_sub_state) == ("2", "202")
    assert result.is_check is None
    assert [e.raw_sub_state for e in result.events] == ["1", "202"]
    assert result.events[0].at == 1680125877  # 2023-03-29 21:37:57 UTC
    assert result.events[1].at == 1680224400  # 2023-03-31 01:00:00 UTC


def test_query_events_sorted_oldest_first():
    body = {**TRACE_OK, "Traces": list(reversed(TRACE_OK["Traces"]))}
    client, _ = make(lambda r: httpx.Response(200, json=body))
    result = client.query("78474409893076", "ZTO", phone="1234")
    assert [e.raw_sub_state for e in result.events] == ["1", "202"]


def test_query_8002_without_courier():
    client, seen = make(lambda r: httpx.Response(200, json=TRACE_OK))
    client.query("78474409893076", None)
    f = form_of(seen[0])
    assert f["RequestType"] == "8002"
    assert f["RequestData"] == '{"LogisticCode":"78474409893076"}'
    assert f["DataSign"] == expected_sign(f["RequestData"])


@pytest.mark.parametrize("courier", ["shunfeng", "zhongtong", "kuayue", "SF"])
def test_query_phone_required(courier):
    client, seen = make(lambda r: httpx.Response(200, json=TRACE_OK))
    with pytest.raises(PhoneRequired):
        client.query("SF1673179789153", courier)
    assert seen == []


def test_query_no_trace_is_a_result():
    body = {"EBusinessID": EBID, "ShipperCode": "YTO", "LogisticCode": "YT9693083639795", "Success": True,
            "Reason": "暂无轨迹信息", "State": 0, "Traces": []}
    client, _ = make(lambda r: httpx.Response(200, json=body))
    r = client.query("YT9693083639795", "yuantong")
    assert r.raw_state == "0" and r.raw_sub_state is None and r.events == () and r.message == "暂无轨迹信息"


def test_query_failure_with_result_code():
    body = {"EBusinessID": EBID, "Success": False, "ResultCode": "405", "Reason": "超出查询次数限制"}
    client, _ = make(lambda r: httpx.Response(200, json=body))
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.provider == "kdniao" and info.value.code == "405"
    assert "超出查询次数限制" in str(info.value)


def test_query_failure_reason_only_and_code_words():
    client, _ = make(lambda r: httpx.Response(200, json={"Success": "false", "Reason": "没有可用套餐"}))
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.code == "failed" and info.value.message == "没有可用套餐"
    client, _ = make(lambda r: httpx.Response(200, json={"Success": False, "ResultCode": 101}))
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.code == "101" and info.value.message == "缺少必要参数"


def test_query_http_and_transport_errors():
    client, _ = make(lambda r: httpx.Response(502, text="bad gateway"))
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.code == "http-502" and info.value.retryable

    def boom(request):
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make(boom)
    with pytest.raises(ProviderError) as info:
        client.query("YT9693083639795", "yuantong")
    assert info.value.code == "transport" and info.value.retryable


def test_number_length_limit():
    client, seen = make(lambda r: httpx.Response(200, json=TRACE_OK))
    with pytest.raises(ValueError):
        client.query("1" * 31, "yuantong")
    assert seen == []


# -- subscribe ------------------------------------------------------------------------------

def test_subscribe_1008_exact():
    resp = {"EBusinessID": EBID, "UpdateTime": "2025-01-09 19:22:16", "Success": True, "Reason": "",
            "EstimatedDeliveryTime": "2025-01-11"}
    client, seen = make(lambda r: httpx.Response(200, json=resp))
    ack = client.subscribe("SF1673179789153", "shunfeng", phone_tail="0755-1234 5678", callback="order-42")
    f = form_of(seen[0])
    rd = '{"ShipperCode":"SF","LogisticCode":"SF1673179789153","CustomerName":"5678","Callback":"order-42"}'
    assert f == {"RequestData": rd, "EBusinessID": EBID, "RequestType": "1008",
                 "DataSign": expected_sign(rd), "DataType": "2"}
    assert ack.accepted and ack.code == "100"


def test_subscribe_refuses_callback_url_and_reports_failure():
    client, seen = make(lambda r: httpx.Response(200, json={"Success": False, "Reason": "订阅失败：单号重复"}))
    with pytest.raises(ValueError):
        client.subscribe("YT9693083639795", "yuantong", "https://x.example/cb")
    assert seen == []
    with pytest.raises(ProviderError) as info:
        client.subscribe("YT9693083639795", "yuantong")
    assert "单号重复" in info.value.message


# -- push -----------------------------------------------------------------------------------

PUSH_DATA = json.dumps({
    "EBusinessID": EBID, "PushTime": "2025-01-09 19:22:16", "Count": "2",
    "Data": [
        {"EBusinessID": EBID, "ShipperCode": "YTO", "LogisticCode": "YT9693083639795", "Success": True,
         "State": "3", "StateEx": "301", "CallBack": "order-42", "Location": "上海市",
         "Traces": [{"AcceptTime": "2025-01-08 10:00:00", "AcceptStation": "已揽收", "Action": "1"},
                    {"AcceptTime": "2025-01-09 19:00:00", "AcceptStation": "已签收 本人", "Action": "301"}]},
        {"EBusinessID": EBID, "ShipperCode": "ZTO", "LogisticCode": "78474409893076", "Success": False,
         "Reason": "暂无轨迹信息", "State": "0", "Traces": []},
    ],
}, ensure_ascii=False)


def wire_body(request_data, sign, request_type="101"):
    return urlencode([("RequestData", request_data), ("DataSign", sign), ("RequestType", request_type)])


def test_push_verified_and_parsed():
    form = parse_form(wire_body(PUSH_DATA, data_sign(PUSH_DATA, APPKEY)).encode())
    push = parse_push(form, APPKEY, ebusiness_id=EBID)
    assert push.ebusiness_id == EBID and push.count == 2
    assert push.push_time == 1736421736
    first, second = push.results
    assert (first.track_no, first.courier, first.raw_state, first.raw_sub_state) == ("YT9693083639795", "YTO", "3", "301")
    assert first.raw["CallBack"] == "order-42"
    assert [e.description for e in first.events] == ["已揽收", "已签收 本人"]
    assert second.raw["Success"] is False and second.message == "暂无轨迹信息"


def test_push_double_encoded_sign_accepted():
    doubly = quote(data_sign(PUSH_DATA, APPKEY), safe="")
    assert verify_data_sign(PUSH_DATA, doubly, APPKEY)


def test_forged_push_rejected():
    with pytest.raises(InvalidPush):
        parse_push({"RequestData": PUSH_DATA, "RequestType": "101", "DataSign": data_sign(PUSH_DATA, "wrong-key")},
                   APPKEY)
    tampered = PUSH_DATA.replace('"StateEx": "301"', '"StateEx": "406"')
    assert tampered != PUSH_DATA
    with pytest.raises(InvalidPush):
        parse_push({"RequestData": tampered, "RequestType": "101", "DataSign": data_sign(PUSH_DATA, APPKEY)}, APPKEY)
    with pytest.raises(InvalidPush):
        parse_push({"RequestData": PUSH_DATA, "RequestType": "101"}, APPKEY)


def test_push_other_type_or_account_rejected():
    sign = data_sign(PUSH_DATA, APPKEY)
    with pytest.raises(InvalidPush):
        parse_push({"RequestData": PUSH_DATA, "RequestType": "107", "DataSign": sign}, APPKEY)
    with pytest.raises(InvalidPush):
        parse_push({"RequestData": PUSH_DATA, "RequestType": "101", "DataSign": sign}, APPKEY, ebusiness_id="999")


def test_push_reply_exact():
    now = 1736421736  # 2025-01-09 19:22:16 GMT+8
    assert reply(EBID, now=now) == ('{"EBusinessID":"1237100","UpdateTime":"2025-01-09 19:22:16",'
                                    '"Success":true,"Reason":""}')
    assert reply(EBID, success=False, reason="签名错误", now=now) == (
        '{"EBusinessID":"1237100","UpdateTime":"2025-01-09 19:22:16","Success":false,"Reason":"签名错误"}')


def test_fahuo_subscribes_a_tracker_without_a_push_url_so_it_is_pushed_not_polled():
    # Kdniao takes its push address from its own console: the provider must not pass
    # fahuo's callback URL (the client refuses one, and the tracker fell back to polling).
    from fahuo.adapters.carriers.kdniao.provider import Kdniao
    resp = {"EBusinessID": EBID, "Success": True, "Reason": ""}
    client, seen = make(lambda r: httpx.Response(200, json=resp))
    Kdniao(lambda: None).subscribe(client, {}, {"id": 7, "track_no": "YT9693083639795",
                                    "courier_code": "yuantong", "phone_tail": ""},
                       "https://shop.example/webhooks/kdniao/1")
    data = json.loads(form_of(seen[0])["RequestData"])
    assert form_of(seen[0])["RequestType"] == "1008"
    assert data["LogisticCode"] == "YT9693083639795" and data["Callback"] == "7"
    assert "shop.example" not in seen[0].content.decode()
