import json

import pytest

from fahuo.adapters.platforms.doudian import PUSH_ACK, MalformedPush, PushMessage, parse_push_body

WORKED = (
    b'[{"tag":"100","msg_id":"7000000000000000000:100:1700000000",'
    b'"data":"{\\"p_id\\":6900000000000000000,\\"shop_id\\":12345}"}]'
)


def test_worked_example_array_with_string_data():
    (m,) = parse_push_body(WORKED)
    assert m == PushMessage(
        tag="100",
        msg_id="7000000000000000000:100:1700000000",
        data={"p_id": "6900000000000000000", "shop_id": "12345"},
        raw_data='{"p_id":6900000000000000000,"shop_id":12345}',
    )


def test_several_messages_kept_in_order():
    body = json.dumps(
        [
            {"tag": "101", "msg_id": "a", "data": json.dumps({"p_id": 1, "s_ids": [2, 3], "shop_id": 4})},
            {"tag": "200", "msg_id": "b", "data": json.dumps({"p_id": "5", "s_id": 6, "aftersale_id": 7})},
        ]
    ).encode()
    a, b = parse_push_body(body)
    assert (a.tag, a.msg_id, a.data) == ("101", "a", {"p_id": "1", "s_ids": ["2", "3"], "shop_id": "4"})
    assert (b.tag, b.msg_id, b.data) == ("200", "b", {"p_id": "5", "s_id": "6", "aftersale_id": "7"})


def test_single_object_int_tag_msgId_and_object_data():
    body = '{"tag": 102, "msgId": "m-1", "data": {"p_id": 6900000000000000001, "s_ids": ["6900000000000000002"], "shop_id": "9", "receiver_msg": {"name": "张"}}}'
    (m,) = parse_push_body(body.encode())
    assert m.tag == "102" and m.msg_id == "m-1"
    assert m.data == {"p_id": "6900000000000000001", "s_ids": ["6900000000000000002"], "shop_id": "9", "receiver_msg": {"name": "张"}}
    assert json.loads(m.raw_data)["p_id"] == 6900000000000000001
    assert "张" in m.raw_data


def test_big_ids_keep_precision():
    body = b'[{"tag":"110","msg_id":"x","data":"{\\"p_id\\":6987654321098765432,\\"s_ids\\":[6987654321098765433]}"}]'
    (m,) = parse_push_body(body)
    assert m.data["p_id"] == "6987654321098765432" and m.data["s_ids"] == ["6987654321098765433"]


def test_int_msg_id_and_str_input():
    (m,) = parse_push_body('[{"tag":"100","msg_id":123,"data":"{}"}]')
    assert m.msg_id == "123" and m.data == {}


def test_empty_array():
    assert parse_push_body(b"[]") == []


def test_verification_ping_is_lenient():
    (m,) = parse_push_body(b'[{"tag":"0","msg_id":"","data":""}]')
    assert m.is_verification and m.data == {} and m.msg_id == ""
    (m,) = parse_push_body(b'{"tag":0}')
    assert m.is_verification
    assert PUSH_ACK == {"code": 0, "msg": "success"}


def test_utf8_bom_tolerated():
    (m,) = parse_push_body(b"\xef\xbb\xbf" + WORKED)
    assert m.tag == "100"


@pytest.mark.parametrize(
    "body,match",
    [
        (b"", "empty"),
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b'"just a string"', "array or object"),
        (b"[1]", r"message\[0\]: expected an object"),
        (b'[{"msg_id":"a","data":"{}"}]', "tag"),
        (b'[{"tag":true,"msg_id":"a","data":"{}"}]', "tag"),
        (b'[{"tag":"100","data":"{}"}]', "msg_id"),
        (b'[{"tag":"100","msg_id":"","data":"{}"}]', "msg_id"),
        (b'[{"tag":"100","msg_id":"a","data":"{broken"}]', "not valid JSON"),
        (b'[{"tag":"100","msg_id":"a","data":"[1,2]"}]', "expected an object"),
        (b'[{"tag":"100","msg_id":"a","data":5}]', "JSON string or an object"),
        (b'[{"tag":"100","msg_id":"a"}]', "missing"),
        (b'[{"tag":"100","msg_id":"a","data":{"p_id":{"x":1}}}]', "p_id"),
        (b'[{"tag":"100","msg_id":"ok","data":"{}"},{"tag":"101","data":"{}"}]', r"message\[1\]"),
    ],
)
def test_malformed(body, match):
    with pytest.raises(MalformedPush, match=match):
        parse_push_body(body)


def test_malformed_is_value_error():
    assert issubclass(MalformedPush, ValueError)
