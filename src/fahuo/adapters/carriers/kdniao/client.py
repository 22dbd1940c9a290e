"""Kdniao calls (§2.1 – §2.4): query 8001 / 8002 and subscribe 1008, signed as documented.

Every call is ``POST {endpoint}`` with ``Content-Type:
application/x-www-form-urlencoded;charset=utf-8`` and the fields, in this order::

    RequestData = <compact UTF-8 JSON>          (URL-encoded by the form encoding)
    EBusinessID = <用户ID>
    RequestType = 8001 | 8002 | 1008
    DataSign    = Base64(lowercase_hex(MD5(RequestData + AppKey)))   (URL-encoded likewise)
    DataType    = 2

i.e. on the wire ``DataSign = URLEncode(Base64(...))`` exactly once, as KDN-GO's
``url.Values`` encoding does - not double-encoded.

* ``query(no, courier)`` -> 8001 (or 1002 by setting); ``query(no, None)`` -> 8002 (courier
  auto-identified, ``ShipperCode`` omitted).
* ``CustomerName`` = last 4 phone digits; required for SF, ZTO and 跨越 (:class:`PhoneRequired`).
* ``Success=false`` -> :class:`ProviderError` with ``ResultCode`` (when the response carries one;
  the field name is UNCONFIRMED - the doc lists the codes, not where they appear) and ``Reason``.
  A no-trace answer (``Success=true``, ``State=0``, "暂无轨迹信息") is a normal result.
* Kdniao has no documented per-number query lock (8001 bills one unit per number per 40 days),
  so no query guard here; callers may still want to throttle (8001/8002: ≤ 20 req/s).
* ``subscribe`` (1008): the push URL is configured in the Kdniao console (UNCONFIRMED whether
  it can be per request), so ``callback_url`` / ``salt`` are refused; ``callback=`` is the
  echo value Kdniao returns in every push (``CallBack``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx

from ..base import (
    PhoneRequired,
    ProviderError,
    SubscribeAck,
    TrackingResult,
    as_bool,
    as_str,
    phone_tail as _phone_tail, json_body)
from .codes import PHONE_REQUIRED, kdniao_codes
from .push import data_sign, parse_trace
from .settings import KdniaoSettings

__all__ = ["KdniaoClient", "RESULT_CODES", "build_form", "encode_form", "dump_request_data"]

PROVIDER = "kdniao"
CONTENT_TYPE = "application/x-www-form-urlencoded;charset=utf-8"

#: §2.5 返回编码列表
RESULT_CODES: dict[str, str] = {
    "100": "成功",
    "101": "缺少必要参数",
    "102": "校验问题",
    "103": "格式问题",
    "104": "用户问题",
    "105": "其他错误",
    "106": "该订单号已下单成功",
    "401": "RequestData 格式有误",
    "402": "缺少快递单号",
    "403": "快递单号有特殊字符",
    "404": "快递单号长度不符",
    "405": "超出查询次数限制",
}


def dump_request_data(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def build_form(request_type: str, request_data: str, ebusiness_id: str, api_key: str) -> dict[str, str]:
    return {
        "RequestData": request_data,
        "EBusinessID": ebusiness_id,
        "RequestType": request_type,
        "DataSign": data_sign(request_data, api_key),
        "DataType": "2",
    }


def encode_form(form: dict[str, str]) -> bytes:
    """UTF-8 form encoding (each value URL-encoded once)."""
    return urlencode(form, encoding="utf-8").encode("ascii")


class KdniaoClient:
    name = PROVIDER
    can_subscribe = True
    can_query = True
    can_push = True
    callback_in_request = False

    def __init__(self, settings: KdniaoSettings, *, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.http = http if http is not None else httpx.Client(timeout=settings.timeout)
        self.codes = kdniao_codes(settings.courier_overrides)

    # -- request builders ---------------------------------------------------------------
    def _number(self, track_no: str) -> str:
        num = (track_no or "").strip()
        if not num or len(num) > 30:
            raise ValueError(f"快递鸟运单号须为 1–30 个字符：{num!r}（kdniao LogisticCode length）")
        return num

    def _tail(self, shipper: str | None, phone: str | None, what: str) -> str | None:
        tail = _phone_tail(phone)
        if shipper in PHONE_REQUIRED and not tail:
            raise PhoneRequired(f"快递鸟查询 {shipper} 需要寄件人或收件人电话后 4 位（kdniao needs the phone to {what}）")
        return tail

    def build_query(self, track_no: str, courier: str | None, phone: str | None = None,
                    *, order_code: str | None = None) -> dict[str, str]:
        num = self._number(track_no)
        shipper = self.codes.to_provider(courier) if courier else None
        tail = self._tail(shipper, phone, "query")
        data: dict[str, Any] = {}
        if order_code:
            data["OrderCode"] = order_code
        if shipper:
            data["ShipperCode"] = shipper
        data["LogisticCode"] = num
        if tail:
            data["CustomerName"] = tail
        request_type = self.settings.query_request_type if shipper else "8002"
        return build_form(request_type, dump_request_data(data), self.settings.ebusiness_id,
                          self.settings.api_key)

    def build_subscribe(self, track_no: str, courier: str, phone_tail: str | None = None,
                        *, callback: str | None = None, order_code: str | None = None) -> dict[str, str]:
        num = self._number(track_no)
        shipper = self.codes.to_provider(courier)
        tail = self._tail(shipper, phone_tail, "subscribe")
        data: dict[str, Any] = {}
        if order_code:
            data["OrderCode"] = order_code
        data["ShipperCode"] = shipper
        data["LogisticCode"] = num
        if tail:
            data["CustomerName"] = tail
        if callback:
            data["Callback"] = callback
        return build_form("1008", dump_request_data(data), self.settings.ebusiness_id, self.settings.api_key)

    # -- calls --------------------------------------------------------------------------
    def query(self, track_no: str, courier: str | None, phone: str | None = None,
              *, order_code: str | None = None) -> TrackingResult:
        body = self._post(self.build_query(track_no, courier, phone, order_code=order_code))
        self._raise_unless_success(body, "查询失败")
        return parse_trace(body)

    def subscribe(self, track_no: str, courier: str, callback_url: str | None = None,
                  salt: str | None = None, phone_tail: str | None = None, *,
                  callback: str | None = None, order_code: str | None = None) -> SubscribeAck:
        if callback_url or salt:
            raise ValueError("kdniao's push URL is set in the Kdniao console and pushes are signed with "
                             "the AppKey; pass callback= for a per-subscription echo value instead")
        body = self._post(self.build_subscribe(track_no, courier, phone_tail, callback=callback,
                                               order_code=order_code))
        self._raise_unless_success(body, "订阅失败")
        return SubscribeAck(PROVIDER, track_no.strip(), True, as_str(body.get("ResultCode")) or "100",
                            str(body.get("Reason") or ""), raw=body)

    def _raise_unless_success(self, body: dict[str, Any], default: str) -> None:
        if as_bool(body.get("Success")):
            return
        code = as_str(body.get("ResultCode")) or "failed"
        reason = str(body.get("Reason") or "")
        meaning = RESULT_CODES.get(code)
        if meaning and meaning not in reason:
            reason = f"{reason} ({meaning})" if reason else meaning
        raise ProviderError(PROVIDER, code, reason or default, payload=body)

    def _post(self, form: dict[str, str]) -> dict[str, Any]:
        try:
            resp = self.http.post(self.settings.endpoint, content=encode_form(form),
                                  headers={"Content-Type": CONTENT_TYPE})
        except httpx.HTTPError as exc:
            raise ProviderError(PROVIDER, "transport", str(exc) or type(exc).__name__,
                                retryable=True) from exc
        return json_body(PROVIDER, resp)
