"""Sandbox signing, push sign, timestamps and canonicalisation tolerance (doc §2, §3, §10.2)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from fahuo.sandbox import signing

APP_KEY = "3409409348479354011"
SECRET = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
BUSINESS = {"size": 100, "page": 0, "create_time_start": 1699900000, "create_time_end": 1700000000,
            "order_by": "create_time", "combine_status": [{"order_status": "2"}]}
PJ = ('{"combine_status":[{"order_status":"2"}],"create_time_end":1700000000,"create_time_start":1699900000,'
      '"order_by":"create_time","page":0,"size":100}')


def test_canonical_param_json_matches_doc_example():
    assert signing.canonical_json(BUSINESS) == PJ


def test_wrapped_string_matches_doc_example():
    assert signing.sign_string(APP_KEY, SECRET, "order.searchList", PJ, "1700000000") == (
        SECRET + "app_key" + APP_KEY + "methodorder.searchListparam_json" + PJ + "timestamp1700000000v2" + SECRET)


def test_hmac_sha256_worked_example():
    assert signing.sign(APP_KEY, SECRET, "order.searchList", PJ, "1700000000", "hmac-sha256") == \
        "a64bd0f5567a547392cdca86c62a594f300ba854114ed66800cd34a497dee92b"


def test_md5_worked_example():
    assert signing.sign(APP_KEY, SECRET, "order.searchList", PJ, "1700000000", "md5") == \
        "d1514d89ab2607541bf5f6d0cec82fec"


def test_push_sign_worked_example():
    body = ('[{"tag":"100","msg_id":"7000000000000000000:100:1700000000",'
            '"data":"{\\"p_id\\":6900000000000000000,\\"shop_id\\":12345}"}]')
    assert signing.push_sign(APP_KEY, body.encode(), SECRET) == "85f3530de2942fa4eff0af1ced3c9121"


def test_verify_accepts_exact_and_rejects_wrong():
    good = signing.sign(APP_KEY, SECRET, "order.searchList", PJ, "1700000000")
    assert signing.verify_request_sign(APP_KEY, SECRET, "order.searchList", PJ, "1700000000", "hmac-sha256", good)
    assert signing.verify_request_sign(APP_KEY, SECRET, "order.searchList", PJ, "1700000000", "hmac-sha256",
                                       good.upper())
    assert not signing.verify_request_sign(APP_KEY, SECRET, "order.searchList", PJ, "1700000001", "hmac-sha256", good)
    assert not signing.verify_request_sign(APP_KEY, SECRET, "order.searchList", PJ, "1700000000", "md5", good)
    assert not signing.verify_request_sign(APP_KEY, "other-secret", "order.searchList", PJ, "1700000000",
                                           "hmac-sha256", good)


def test_java_sdk_style_body_verifies_against_canonical_sign():
    """Body unsorted + Gson HTML escaping; sign over the sorted raw form (what the Java SDK does)."""
    params = {"z": "a&b<c>d", "a": "中文", "n": {"y": 1, "b": [{"d": 1, "c": 2}]}}
    canonical = signing.canonical_json(params)
    sign = signing.sign(APP_KEY, SECRET, "order.searchList", canonical, "1700000000", "md5")
    body = json.dumps(params, ensure_ascii=True, separators=(",", ":")).replace("&", "\\u0026") \
        .replace("<", "\\u003c").replace(">", "\\u003e")
    assert body != canonical
    assert signing.verify_request_sign(APP_KEY, SECRET, "order.searchList", body, "1700000000", "md5", sign)


def test_escaped_sign_over_raw_body_also_verifies():
    params = {"q": "<&>", "name": "张三"}
    escaped = signing.canonical_json(params, ensure_ascii=True, escape_html=True)
    sign = signing.sign(APP_KEY, SECRET, "m.x", escaped, "1700000000")
    raw_body = json.dumps(params, ensure_ascii=False)  # with whitespace, unsorted
    assert signing.verify_request_sign(APP_KEY, SECRET, "m.x", raw_body, "1700000000", "hmac-sha256", sign)


def test_tolerance_does_not_accept_different_content():
    sign = signing.sign(APP_KEY, SECRET, "m.x", '{"a":1}', "1700000000")
    assert not signing.verify_request_sign(APP_KEY, SECRET, "m.x", '{"a":2}', "1700000000", "hmac-sha256", sign)
    assert not signing.verify_request_sign(APP_KEY, SECRET, "m.x", "not json", "1700000000", "hmac-sha256", sign)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=5),
                       st.one_of(st.integers(-10**12, 10**12), st.text(max_size=8), st.booleans()), max_size=5))
def test_any_serialisation_of_same_object_verifies(d):
    canonical = signing.canonical_json(d)
    sign = signing.sign(APP_KEY, SECRET, "m.x", canonical, "1700000000")
    for body in (json.dumps(d), json.dumps(d, ensure_ascii=False, indent=1)):
        assert signing.verify_request_sign(APP_KEY, SECRET, "m.x", body, "1700000000", "hmac-sha256", sign)


def test_parse_timestamp_formats():
    assert signing.parse_timestamp("1700000000") == 1700000000
    assert signing.parse_timestamp("1700000000123") == pytest.approx(1700000000.123)
    gmt8 = datetime(2023, 11, 15, 6, 13, 20, tzinfo=timezone(timedelta(hours=8)))
    assert signing.parse_timestamp("2023-11-15 06:13:20") == gmt8.timestamp() == 1700000000


@pytest.mark.parametrize("bad", ["", "abc", "17000000001234", "2023-11-15T06:13:20", "2023-13-45 06:13:20",
                                 "1700000000.5", "-1700000000", "１７００００００００"])
def test_parse_timestamp_rejects(bad):
    with pytest.raises(signing.TimestampFormatError):
        signing.parse_timestamp(bad)
