"""Refusals narrowed to types, and per-item results classified (errors.py's list of rules).

Envelopes are written by hand from the wording of docs/doudian-open-platform.md (and, where the
document gives no words, from the sandbox's)."""

import pickle

import pytest

from fahuo.adapters.platforms.doudian.errors import (
    SHIP_METHODS,
    AfterSaleOpen,
    AlreadyShipped,
    BusinessError,
    IdempotentIdExisted,
    InterceptRefusal,
    InvalidRequest,
    PartialFailure,
    PartlyShippedOrder,
    ServiceUnavailable,
    TokenExpired,
    WaybillAlreadyCancelled,
    WaybillItemProblem,
    WaybillPickedUp,
    error_from_envelope,
    intercept_refusal,
    waybill_item_problem,
)

PARTLY = "该订单当前为“部分发货”状态，无法调用此接口"  # doc §8.1, quoted from FW199


def env(code=50002, sub_code="isv.business-failed:1", sub_msg="", msg="业务处理失败"):
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "data": None, "log_id": "L7"}


@pytest.mark.parametrize("method", sorted(SHIP_METHODS))
@pytest.mark.parametrize("sub_code,sub_msg,cls", [
    # the document's own words for a partly shipped order, whatever the code
    ("isv.business-failed:3", PARTLY, PartlyShippedOrder),
    ("", PARTLY, PartlyShippedOrder),
    # open after-sale: the sandbox's words, and the number the pipeline matched (":5")
    ("isv.business-failed:5", "订单存在售后申请，无法发货: 4930000000000000101", AfterSaleOpen),
    ("isv.business-failed:5", "", AfterSaleOpen),
    ("isv.business-failed:77", "该订单有退款申请，请处理后再发货", AfterSaleOpen),
    ("isv.business-failed:77", "订单售后中，无法发货", AfterSaleOpen),
    # shipped already (a repeat of logisticsAdd: UNCONFIRMED in the doc, the sandbox's words)
    ("isv.business-failed:2", "订单已发货，请勿重复发货，已发货运单: zhongtong:78000000000001", AlreadyShipped),
    ("isv.business-failed:99", "请勿重复发货", AlreadyShipped),
    # refusals with no type of their own stay plain business errors
    ("isv.business-failed:7", "子订单已退款，无需发货: 4930000000000000101", BusinessError),
    ("isv.business-failed:4", "订单已取消，无法发货: 6900000000000000001", BusinessError),
    ("isv.business-failed:7", "售后地址不存在", BusinessError),
    ("isv.business-failed:4", "订单未发货，无法修改物流信息", BusinessError),
])
def test_ship_call_refusals(method, sub_code, sub_msg, cls):
    e = error_from_envelope(method, env(sub_code=sub_code, sub_msg=sub_msg))
    assert type(e) is cls
    assert isinstance(e, BusinessError) and not e.retryable
    assert (e.method, e.code, e.sub_code, e.sub_msg, e.log_id) == (method, 50002, sub_code, sub_msg, "L7")


def test_words_in_msg_count_too():
    e = error_from_envelope("order.logisticsAdd", env(sub_code="", msg=PARTLY))
    assert type(e) is PartlyShippedOrder


@pytest.mark.parametrize("sub_msg,cls", [
    ("运单号已取消，请勿重复取消: YT1000000000001", WaybillAlreadyCancelled),
    ("waybill already cancelled", WaybillAlreadyCancelled),
    ("Already Cancelled", WaybillAlreadyCancelled),
    ("运单已揽收，无法取消: YT1000000000001", WaybillPickedUp),
    ("运单号不存在: YT1000000000001", BusinessError),
])
def test_cancel_order_refusals(sub_msg, cls):
    e = error_from_envelope("logistics.cancelOrder", env(sub_code="isv.business-failed:9", sub_msg=sub_msg))
    assert type(e) is cls


@pytest.mark.parametrize("method,sub_msg", [
    # the same words on another method mean nothing special
    ("order.orderDetail", "订单已发货"),
    ("order.logisticsEdit", "订单已发货"),
    ("order.logisticsAdd", "运单号已取消，请勿重复取消"),
    ("logistics.cancelOrder", "订单已发货，请勿重复发货"),
    ("logistics.newCreateOrder", PARTLY),
    ("afterSale.applyLogisticsIntercept", "订单存在售后申请"),
])
def test_words_are_read_only_for_their_methods(method, sub_msg):
    sub = "isv.business-failed:5" if method == "afterSale.applyLogisticsIntercept" else "isv.business-failed:1"
    assert type(error_from_envelope(method, env(sub_code=sub, sub_msg=sub_msg))) is BusinessError


@pytest.mark.parametrize("code,sub_code", [
    (40003, "isv.access-token-expired"),  # token errors stay what they were
    (20000, "isp.service-error:5"),  # a retryable failure ending in ":5" is not a refusal
])
def test_earlier_rows_win(code, sub_code):
    e = error_from_envelope("order.logisticsAdd", env(code=code, sub_code=sub_code, sub_msg="订单存在售后申请"))
    assert type(e) in (TokenExpired, ServiceUnavailable)


def test_partial_failure_is_never_narrowed():
    e = error_from_envelope("order.logisticsAddMultiPack",
                            env(code=10001, sub_code="isv.business-part-failed", sub_msg="订单已发货"))
    assert type(e) is PartialFailure


def test_idempotent_id_existed_is_its_own_invalid_request():
    # doc §4.2: code 40003, sub_code isv.idempotent-id-existed ("treat as duplicate")
    e = error_from_envelope("sku.syncStock", env(code=40003, sub_code="isv.idempotent-id-existed", sub_msg="幂等"))
    assert type(e) is IdempotentIdExisted and isinstance(e, InvalidRequest)
    assert type(error_from_envelope("sku.syncStock", env(code=40003, sub_code="isv.parameter-invalid"))) \
        is InvalidRequest


def test_a_refusal_reads_as_the_error_it_narrows():
    """Words already stored (hold details, a pack's last error) must not change with the type."""
    fields = dict(method="order.logisticsAdd", code=50002, msg="业务处理失败", sub_code="isv.business-failed:2",
                  sub_msg="订单已发货，请勿重复发货", log_id="L7")
    e = error_from_envelope("order.logisticsAdd", env(sub_code="isv.business-failed:2",
                                                      sub_msg="订单已发货，请勿重复发货"))
    assert type(e) is AlreadyShipped
    assert str(e) == str(BusinessError(**fields))
    assert str(e).startswith("BusinessError calling order.logisticsAdd")
    dup = error_from_envelope("sku.syncStock", env(code=40003, sub_code="isv.idempotent-id-existed"))
    assert str(dup).startswith("InvalidRequest calling sku.syncStock")


def test_pickle_keeps_the_refusal_type():
    e = error_from_envelope("logistics.cancelOrder", env(sub_msg="运单号已取消，请勿重复取消"))
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is WaybillAlreadyCancelled and str(e2) == str(e) and e2.sub_msg == e.sub_msg


@pytest.mark.parametrize("method,code,msg,kind", [
    # doc §9.2: err_code "10701" "电子面单库存不足" (a NET sample)
    ("logistics.newCreateOrder", "10701", "电子面单库存不足", WaybillItemProblem.BALANCE_EXHAUSTED),
    ("logistics.newCreateOrder", 10701, "", WaybillItemProblem.BALANCE_EXHAUSTED),
    ("logistics.newCreateOrder", "19999", "网点电子面单余额不足", WaybillItemProblem.BALANCE_EXHAUSTED),
    ("logistics.newCreateOrder", "10704", "收件地址超出快递公司派送范围: 中通快递 不派送 西藏自治区",
     WaybillItemProblem.OUT_OF_RANGE),
    ("logistics.newCreateOrder", "10702", "订单不存在或不属于当前店铺: 1", WaybillItemProblem.ORDER_NOT_TAKEABLE),
    # the sandbox's 10703 names the status, 已取消 among them: still the order, not a number
    ("logistics.newCreateOrder", "10703", "订单状态不允许取号: 1（已取消）", WaybillItemProblem.ORDER_NOT_TAKEABLE),
    ("logistics.newCreateOrder", "10999", "系统繁忙", WaybillItemProblem.OTHER),
    ("logistics.waybillApply", "10802", "运单号已取消: YT1", WaybillItemProblem.NUMBER_CANCELLED),
    ("logistics.waybillApply", "10801", "运单号不存在: YT1", WaybillItemProblem.OTHER),
    # codes are read per method: 10701 means nothing to waybillApply
    ("logistics.waybillApply", "10701", "", WaybillItemProblem.OTHER),
])
def test_waybill_item_problem(method, code, msg, kind):
    assert waybill_item_problem(method, code, msg) is kind


def test_item_error_kind():
    from fahuo.adapters.platforms.doudian.shipping import ItemError
    assert ItemError("1", "", "10701", "电子面单库存不足").kind is WaybillItemProblem.BALANCE_EXHAUSTED
    assert ItemError("1", "", "10704", "超区").kind is WaybillItemProblem.OUT_OF_RANGE
    assert ItemError("1", "", "", "").kind is WaybillItemProblem.OTHER


@pytest.mark.parametrize("result,want", [
    ({"is_success": True, "unavailable_reason_code": 0}, None),
    ({"is_success": False, "unavailable_reason_code": 3, "unavailable_reason": ""},
     InterceptRefusal.ALREADY_REQUESTED),
    ({"is_success": False, "unavailable_reason_code": "3"}, InterceptRefusal.ALREADY_REQUESTED),
    ({"is_success": False, "unavailable_reason_code": 0, "unavailable_reason": "该包裹已申请拦截，请勿重复申请"},
     InterceptRefusal.ALREADY_REQUESTED),
    ({"is_success": False, "unavailable_reason_code": 4, "unavailable_reason": "包裹已签收，无法拦截"},
     InterceptRefusal.OTHER),
    ({"is_success": False, "unavailable_reason_code": "x"}, InterceptRefusal.OTHER),
])
def test_intercept_refusal(result, want):
    assert intercept_refusal(result) is want
