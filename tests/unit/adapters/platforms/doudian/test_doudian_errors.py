import pickle

import pytest

from fahuo.adapters.platforms.doudian.errors import (
    BusinessError,
    DoudianError,
    InvalidRequest,
    PartialFailure,
    PermissionDenied,
    RefreshTokenDead,
    ServiceUnavailable,
    Throttled,
    TokenExpired,
    TransportError,
    error_from_envelope,
)


def env(code, sub_code="", **kw):
    return {"code": code, "msg": kw.get("msg", "m"), "sub_code": sub_code, "sub_msg": "sm", "log_id": "L1", "data": kw.get("data")}


@pytest.mark.parametrize(
    "code,sub_code,cls",
    [
        (40003, "isv.access-token-expired", TokenExpired),
        (40003, "isv.access-token-no-existed", TokenExpired),
        (40001, "isv.access-token-missing", TokenExpired),
        (50002, "isv.business-failed:31009", RefreshTokenDead),
        (50000, "dop.token-generate-failed:token-expired", RefreshTokenDead),
        (50001, "dop.token-generate-failed:token-invalid", RefreshTokenDead),
        (60000, "isv.traffic-limited", Throttled),
        (60000, "", Throttled),
        (20000, "dop.service-error", ServiceUnavailable),
        (20001, "isp.service-error:x", ServiceUnavailable),
        (30001, "dop.no-permissions", PermissionDenied),
        (30002, "isv.invalid_ip", PermissionDenied),
        (40001, "isv.parameter-missing", InvalidRequest),
        (40002, "isv.parameter-missing:shop_order_id", InvalidRequest),
        (40003, "isv.signature-invalid", InvalidRequest),
        (40003, "isv.access-token-invalid", InvalidRequest),
        (40004, "", InvalidRequest),
        (50000, "isv.business-failed:1234", BusinessError),
        (50001, "", BusinessError),
        (50002, "", BusinessError),
        (50000, "dop.token-generate-failed:code-expired", BusinessError),
        (70000, "isp.api-service-off", BusinessError),
        (90000, "dop.unknown-error", BusinessError),
        (10001, "isv.business-part-failed", PartialFailure),
    ],
)
def test_classification(code, sub_code, cls):
    e = error_from_envelope("order.searchList", env(code, sub_code))
    assert type(e) is cls
    assert isinstance(e, DoudianError)
    assert (e.method, e.code, e.sub_code, e.sub_msg, e.log_id) == ("order.searchList", code, sub_code, "sm", "L1")


def test_success_envelopes():
    assert error_from_envelope("m.x", env(10000)) is None
    assert error_from_envelope("m.x", {"code": "10000", "data": {}}) is None
    assert error_from_envelope("m.x", {"err_no": 0, "message": "success", "data": {}}) is None


def test_code_wins_over_legacy_err_no():
    e = error_from_envelope("m.x", {"code": 60000, "err_no": 0, "msg": "too fast"})
    assert isinstance(e, Throttled)


def test_legacy_only_error():
    e = error_from_envelope("m.x", {"err_no": 20000, "message": "busy", "log_id": "L"})
    assert isinstance(e, ServiceUnavailable) and e.msg == "busy" and e.code == 20000


def test_not_an_envelope():
    assert isinstance(error_from_envelope("m.x", [1, 2]), TransportError)
    assert isinstance(error_from_envelope("m.x", {"data": {}}), TransportError)


def test_partial_failure_keeps_data():
    e = error_from_envelope("m.x", env(10001, "isv.business-part-failed", data={"fails": [1]}))
    assert isinstance(e, BusinessError) and e.data == {"fails": [1]}


def test_str_names_every_field():
    e = error_from_envelope(
        "order.logisticsAdd",
        {"code": 50002, "msg": "业务处理失败", "sub_code": "isv.business-failed:9", "sub_msg": "订单已发货", "log_id": "2021120309"},
    )
    text = str(e)
    for part in ("BusinessError", "order.logisticsAdd", "50002", "业务处理失败", "isv.business-failed:9", "订单已发货", "2021120309"):
        assert part in text


def test_retryable_flags():
    assert Throttled.retryable and ServiceUnavailable.retryable and TransportError.retryable
    for cls in (TokenExpired, RefreshTokenDead, PermissionDenied, InvalidRequest, BusinessError):
        assert not cls.retryable


def test_pickle_round_trip_keeps_fields():
    e = error_from_envelope("m.x", env(60000, "isv.traffic-limited"))
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is Throttled and e2.log_id == "L1" and str(e2) == str(e)
