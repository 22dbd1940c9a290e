import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fahuo.adapters.platforms.doudian.signing import (
    canonical_json,
    push_signature,
    sign_request,
    sign_string,
    verify_push,
)

APP_KEY = "3409409348479354011"
APP_SECRET = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
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
WRAPPED = (
    "2ad2355c-01d0-11f8-91dc-05a8cd1054b1app_key3409409348479354011methodorder.searchList"
    'param_json{"combine_status":[{"order_status":"2"}],"create_time_end":1700000000,'
    '"create_time_start":1699900000,"order_by":"create_time","page":0,"size":100}'
    "timestamp1700000000v22ad2355c-01d0-11f8-91dc-05a8cd1054b1"
)
PUSH_BODY = (
    b'[{"tag":"100","msg_id":"7000000000000000000:100:1700000000",'
    b'"data":"{\\"p_id\\":6900000000000000000,\\"shop_id\\":12345}"}]'
)
PUSH_SIGN = "85f3530de2942fa4eff0af1ced3c9121"


# -- §2.3 worked example ------------------------------------------------------------


def test_param_json_of_worked_example():
    assert canonical_json(PARAMS) == PARAM_JSON


def test_wrapped_string_of_worked_example():
    assert sign_string(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, "1700000000") == WRAPPED
    assert sign_string(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, 1700000000) == WRAPPED


def test_hmac_sha256_sign_of_worked_example():
    assert (
        sign_request(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, "1700000000", "hmac-sha256")
        == "a64bd0f5567a547392cdca86c62a594f300ba854114ed66800cd34a497dee92b"
    )


def test_md5_sign_of_worked_example():
    assert (
        sign_request(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, "1700000000", "md5")
        == "d1514d89ab2607541bf5f6d0cec82fec"
    )


def test_absent_sign_method_means_md5():
    md5 = "d1514d89ab2607541bf5f6d0cec82fec"
    assert sign_request(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, "1700000000", None) == md5
    assert sign_request(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, "1700000000", "") == md5


def test_unknown_sign_method_rejected():
    with pytest.raises(ValueError, match="sign_method"):
        sign_request(APP_KEY, APP_SECRET, "m.x", "{}", "1", "sha1")


def test_sign_depends_on_every_signed_field():
    base = sign_request(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, "1700000000")
    assert sign_request(APP_KEY, APP_SECRET, "order.searchList", PARAM_JSON, "1700000001") != base
    assert sign_request(APP_KEY, APP_SECRET, "order.orderDetail", PARAM_JSON, "1700000000") != base
    assert sign_request(APP_KEY, APP_SECRET, "order.searchList", "{}", "1700000000") != base
    assert sign_request(APP_KEY, APP_SECRET + "x", "order.searchList", PARAM_JSON, "1700000000") != base


# -- canonical_json rules ------------------------------------------------------------


def test_empty_params():
    assert canonical_json({}) == "{}"
    assert canonical_json(None) == "{}"


def test_nested_and_array_objects_sorted_array_order_kept():
    params = {"b": [{"z": 1, "a": {"y": 2, "x": 3}}, 5, "s"], "a": {"d": None, "c": True}}
    assert canonical_json(params) == '{"a":{"c":true,"d":null},"b":[{"a":{"x":3,"y":2},"z":1},5,"s"]}'


def test_no_escaping_of_unicode_slash_html_chars():
    params = {"name": "张三 😀", "url": "a/b", "q": "x&y<z>w='v'"}
    assert canonical_json(params) == '{"name":"张三 😀","q":"x&y<z>w=\'v\'","url":"a/b"}'


def test_quotes_backslash_and_control_chars_escaped_as_json():
    assert canonical_json({"s": 'a"b\\c\nd\te'}) == '{"s":"a\\"b\\\\c\\nd\\te"}'


def test_line_separators_escaped_like_go():
    assert canonical_json({"s": "a\u2028b\u2029c"}) == '{"s":"a\\u2028b\\u2029c"}'


def test_integers_and_integral_floats_print_without_decimal_point():
    assert canonical_json({"a": 100, "b": 100.0, "c": -0.0, "d": 6900000000000000000}) == (
        '{"a":100,"b":100,"c":0,"d":6900000000000000000}'
    )


def test_bool_stays_bool():
    assert canonical_json({"t": True, "f": False}) == '{"f":false,"t":true}'


@pytest.mark.parametrize("value", [12.5, float("nan"), float("inf")])
def test_non_integral_floats_rejected(value):
    with pytest.raises(TypeError, match=r"float .* at x\.y\[1\]"):
        canonical_json({"x": {"y": [1, value]}})


@pytest.mark.parametrize("value", [{1, 2}, b"x", object()])
def test_unsupported_types_rejected(value):
    with pytest.raises(TypeError, match="unsupported type"):
        canonical_json({"v": value})


def test_non_string_keys_rejected():
    with pytest.raises(TypeError, match="keys must be str"):
        canonical_json({1: "a"})


def test_tuples_become_arrays():
    assert canonical_json({"a": (1, 2)}) == '{"a":[1,2]}'


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_canonical_json_round_trips_and_is_order_independent(params):
    import json

    text = canonical_json(params)
    assert json.loads(text) == params
    reordered = dict(reversed(list(params.items())))
    assert canonical_json(reordered) == text
    assert canonical_json(params) == json.dumps(
        params, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# -- push signature §10.2 --------------------------------------------------------------


def test_push_signature_of_worked_example():
    assert push_signature(APP_KEY, APP_SECRET, PUSH_BODY) == PUSH_SIGN


def test_verify_push_accepts_correct_sign_case_insensitively():
    assert verify_push(APP_KEY, APP_SECRET, PUSH_BODY, PUSH_SIGN)
    assert verify_push(APP_KEY, APP_SECRET, PUSH_BODY, PUSH_SIGN.upper())
    assert verify_push(APP_KEY, APP_SECRET, PUSH_BODY, f" {PUSH_SIGN} ")


def test_verify_push_rejects_wrong_sign_body_or_key():
    assert not verify_push(APP_KEY, APP_SECRET, PUSH_BODY, "0" * 32)
    assert not verify_push(APP_KEY, APP_SECRET, PUSH_BODY + b"x", PUSH_SIGN)
    assert not verify_push(APP_KEY, APP_SECRET, PUSH_BODY.replace(b"12345", b"12346"), PUSH_SIGN)
    assert not verify_push("1" + APP_KEY[1:], APP_SECRET, PUSH_BODY, PUSH_SIGN)
    assert not verify_push(APP_KEY, APP_SECRET, PUSH_BODY, "")
    assert not verify_push(APP_KEY, APP_SECRET, PUSH_BODY, None)
    assert not verify_push(APP_KEY, APP_SECRET, PUSH_BODY, "签名")


def test_verify_push_hashes_raw_bytes_not_reserialised_json():
    pretty = b'[ {"tag": "100", "msg_id": "1", "data": "{}"} ]'
    sign = hashlib.md5(APP_KEY.encode() + pretty + APP_SECRET.encode()).hexdigest()
    assert verify_push(APP_KEY, APP_SECRET, pretty, sign)


def test_verify_push_whitespace_stripped_fallback():
    pretty = b'[\n  {"tag": "100", "msg_id": "1", "data": "{}"}\n]'
    stripped = b'[{"tag":"100","msg_id":"1","data":"{}"}]'
    php_sign = hashlib.md5(APP_KEY.encode() + stripped + APP_SECRET.encode()).hexdigest()
    assert verify_push(APP_KEY, APP_SECRET, pretty, php_sign)
    assert not verify_push(APP_KEY, APP_SECRET, pretty, hashlib.md5(b"other").hexdigest())
