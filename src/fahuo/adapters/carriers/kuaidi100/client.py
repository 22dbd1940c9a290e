"""Kuaidi100 query and subscribe calls (§1.2, §1.3), built exactly as documented.

Query — ``POST {base}/poll/query.do``, form ``customer``, ``sign``, ``param``::

    sign = UPPERCASE(MD5(param + key + customer))   # param = the exact JSON text sent

``param`` = ``{"com","num"[,"phone"][,"resultv2"]}``. ``phone`` (sent as its last 4 digits) is
required for 顺丰速运, 顺丰快运 and 中通快递 -> :class:`PhoneRequired` without it.

**30-minute guard** (§1.2: the same waybill queried more than once per 30 min gets locked):
every query first asks a :class:`QueryGuard` keyed by the tracking number alone (any courier).
A repeat inside the window raises :class:`QueryTooSoon` (``retry_after`` seconds) *before*
any HTTP call. The slot is taken when the request is sent, so a query that fails after
reaching Kuaidi100 still counts; only a connection that never got out (``httpx.ConnectError``
/ ``ConnectTimeout``) gives the slot back. The default guard is in-process memory; with several
worker processes inject a shared one (e.g. backed by Redis ``SET NX EX``).

Subscribe — ``POST {base}/poll``, form ``schema=json``, ``param`` (no sign; ``key`` inside)::

    {"company","number","key","parameters":{"callbackurl","salt"[,"resultv2"][,"phone"]}}

``returnCode`` 200 -> accepted; 501 重复订阅 -> accepted with ``duplicate=True`` (already being
polled; do not resubscribe); anything else -> :class:`ProviderError` (500 retryable).
A salt is required so that every push can be verified.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any, Callable, Protocol

import httpx

from ..base import (
    PhoneRequired,
    ProviderError,
    QueryTooSoon,
    SubscribeAck,
    TrackingResult,
    as_bool,
    as_str,
    phone_tail as _phone_tail, json_body)
from .codes import PHONE_REQUIRED, kuaidi100_codes
from .push import parse_result
from .settings import Kuaidi100Settings

__all__ = ["Kuaidi100Client", "QueryGuard", "InMemoryQueryGuard", "query_sign", "dump_param",
           "SUBSCRIBE_RETURN_CODES"]

PROVIDER = "kuaidi100"

#: §1.3 [K100-SUB-RC]
SUBSCRIBE_RETURN_CODES: dict[str, str] = {
    "200": "提交成功",
    "501": "重复订阅",
    "600": "key无效",
    "601": "key已过期",
    "700": "数据不合法（快递公司不支持、单号为空或过长、回调地址错误）",
    "701": "快递公司拒绝",
    "702": "无法识别快递公司",
    "500": "服务器错误",
}
_RETRYABLE_CODES = frozenset({"500", "503"})


def dump_param(obj: Any) -> str:
    """Compact UTF-8 JSON - the exact ``param`` text that is signed and sent."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def query_sign(param: str, key: str, customer: str) -> str:
    """§1.2 / §7: ``UPPERCASE(MD5(param + key + customer))``."""
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


class QueryGuard(Protocol):
    def acquire(self, key: str, now: float, interval: float) -> float:
        """Take the slot for ``key``: return 0 when allowed (and remember ``now``), else the
        seconds left until the next query is allowed (nothing recorded)."""

    def release(self, key: str) -> None:
        """Forget the last slot for ``key`` (the request never left this host)."""


class InMemoryQueryGuard:
    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, now: float, interval: float) -> float:
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < interval:
                return interval - (now - last)
            self._last[key] = now
            return 0.0

    def release(self, key: str) -> None:
        with self._lock:
            self._last.pop(key, None)


class Kuaidi100Client:
    name = PROVIDER
    can_subscribe = True
    can_query = True
    can_push = True
    callback_in_request = True

    def __init__(self, settings: Kuaidi100Settings, *, http: httpx.Client | None = None,
                 clock: Callable[[], float] = time.time, guard: QueryGuard | None = None) -> None:
        self.settings = settings
        self.http = http if http is not None else httpx.Client(timeout=settings.timeout)
        self.clock = clock
        self.guard: QueryGuard = guard if guard is not None else InMemoryQueryGuard()
        self.codes = kuaidi100_codes(settings.courier_overrides)

    # -- URLs ---------------------------------------------------------------------------
    @property
    def query_url(self) -> str:
        return f"{self.settings.base_url}/poll/query.do"

    @property
    def subscribe_url(self) -> str:
        return f"{self.settings.base_url}/poll"

    # -- request builders (pure; used by the calls and by tests) -------------------------
    def build_query_form(self, track_no: str, courier: str, phone: str | None = None) -> dict[str, str]:
        num = (track_no or "").strip()
        if not 6 <= len(num) <= 32:
            raise ValueError(f"快递100运单号须为 6–32 个字符：{num!r}（kuaidi100 num length）")
        com = self.codes.to_provider(courier)
        tail = _phone_tail(phone)
        if com in PHONE_REQUIRED and not tail:
            raise PhoneRequired(f"快递100查询 {com} 需要寄件人或收件人电话后 4 位（kuaidi100 needs the phone）")
        param: dict[str, Any] = {"com": com, "num": num}
        if tail:
            param["phone"] = tail
        if self.settings.resultv2:
            param["resultv2"] = self.settings.resultv2
        text = dump_param(param)
        return {
            "customer": self.settings.customer,
            "sign": query_sign(text, self.settings.key, self.settings.customer),
            "param": text,
        }

    def build_subscribe_form(self, track_no: str, courier: str, callback_url: str | None,
                             salt: str | None, phone_tail: str | None = None) -> dict[str, str]:
        number = (track_no or "").strip()
        if not number or len(number) > 32:
            raise ValueError(f"快递100运单号须为 1–32 个字符：{number!r}（kuaidi100 number length）")
        if not callback_url or not callback_url.startswith(("https://", "http://")):
            raise ValueError(f"kuaidi100 subscribe needs an http(s) callback_url, got {callback_url!r}")
        if not salt:
            raise ValueError("kuaidi100 subscribe needs a salt so pushes can be verified")
        company = self.codes.to_provider(courier)
        tail = _phone_tail(phone_tail)
        if company in PHONE_REQUIRED and not tail:
            raise PhoneRequired(f"快递100订阅 {company} 需要电话后 4 位（kuaidi100 needs the phone to subscribe）")
        parameters: dict[str, Any] = {"callbackurl": callback_url, "salt": salt}
        if self.settings.resultv2:
            parameters["resultv2"] = self.settings.resultv2
        if tail:
            parameters["phone"] = tail
        param = {"company": company, "number": number, "key": self.settings.key, "parameters": parameters}
        return {"schema": "json", "param": dump_param(param)}

    # -- calls --------------------------------------------------------------------------
    def query(self, track_no: str, courier: str | None, phone: str | None = None) -> TrackingResult:
        if not courier:
            raise ValueError("快递100查询需要快递公司编码（kuaidi100 query needs a courier code）")
        form = self.build_query_form(track_no, courier, phone)
        key = track_no.strip().upper()
        wait = self.guard.acquire(key, self.clock(), self.settings.min_query_interval)
        if wait > 0:
            raise QueryTooSoon(PROVIDER, track_no.strip(), wait)
        try:
            body = self._post(self.query_url, form)
        except ProviderError as exc:
            if exc.code == "transport-connect":
                self.guard.release(key)
            raise
        if body.get("result") is not None and not as_bool(body.get("result")):
            code = as_str(body.get("returnCode")) or "unknown"
            raise ProviderError(PROVIDER, code, str(body.get("message") or "查询失败"),
                                retryable=code in _RETRYABLE_CODES, payload=body)
        status = as_str(body.get("status"))
        if status != "200":
            raise ProviderError(PROVIDER, status or "unknown", str(body.get("message") or "查询失败"),
                                retryable=status in _RETRYABLE_CODES, payload=body)
        return parse_result(body)

    def subscribe(self, track_no: str, courier: str, callback_url: str | None = None,
                  salt: str | None = None, phone_tail: str | None = None) -> SubscribeAck:
        form = self.build_subscribe_form(track_no, courier, callback_url, salt, phone_tail)
        body = self._post(self.subscribe_url, form)
        code = as_str(body.get("returnCode")) or ""
        message = str(body.get("message") or SUBSCRIBE_RETURN_CODES.get(code, ""))
        if code == "200" and as_bool(body.get("result", True)):
            return SubscribeAck(PROVIDER, track_no.strip(), True, code, message, raw=body)
        if code == "501":
            return SubscribeAck(PROVIDER, track_no.strip(), True, code, message, duplicate=True, raw=body)
        meaning = SUBSCRIBE_RETURN_CODES.get(code)
        if meaning and meaning not in message:
            message = f"{message} ({meaning})" if message else meaning
        raise ProviderError(PROVIDER, code or "unknown", message or "订阅失败",
                            retryable=code in _RETRYABLE_CODES, payload=body)

    def _post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            resp = self.http.post(url, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ProviderError(PROVIDER, "transport-connect", str(exc) or type(exc).__name__,
                                retryable=True) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(PROVIDER, "transport", str(exc) or type(exc).__name__,
                                retryable=True) from exc
        return json_body(PROVIDER, resp)
