"""Kuaidi100 subscription push (§1.4): verify, parse, and the reply Kuaidi100 requires.

A push is an ``application/x-www-form-urlencoded`` POST with fields ``param`` (JSON text) and
``sign``. ``sign = MD5(param + salt)`` over the exact received ``param`` text (UTF-8); the
official Java SDK upper-cases its MD5, so the comparison is case-insensitive.

Reply with :data:`REPLY_OK` (HTTP 200, ``application/json;charset=utf-8``) once the push is
stored; anything else is a failure and Kuaidi100 retries 3 times, 35 minutes apart. Use
:func:`reply_failure` when the push is rejected (bad sign, unparseable) - log the raw
``param`` + ``sign`` either way (SDK advice).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qs

from ..base import InvalidPush, RawEvent, TrackingResult, as_str, parse_cst_time

__all__ = [
    "Kuaidi100Push",
    "REPLY_OK",
    "REPLY_FAILURE",
    "parse_form",
    "parse_push",
    "parse_result",
    "push_sign",
    "reply_failure",
    "verify_push_sign",
]

PROVIDER = "kuaidi100"
#: §1.4 / §8 - the exact body that acknowledges a push
REPLY_OK = '{"result":true,"returnCode":"200","message":"成功"}'
#: §8: any other response counts as failure (Kuaidi100 retries 3x, 35 min apart)
REPLY_FAILURE = '{"result":false,"returnCode":"500","message":"失败"}'
REPLY_CONTENT_TYPE = "application/json;charset=utf-8"
#: push ``status`` values after which Kuaidi100 stops polling (§1.4)
STOPPED_STATUSES = frozenset({"shutdown", "abort"})


def reply_failure(message: str = "失败") -> str:
    return json.dumps({"result": False, "returnCode": "500", "message": message},
                      ensure_ascii=False, separators=(",", ":"))


def push_sign(param: str, salt: str) -> str:
    """``MD5(param + salt)`` as upper-case hex (what the Java SDK compares)."""
    return hashlib.md5((param + salt).encode("utf-8")).hexdigest().upper()


def verify_push_sign(param: str, sign: str | None, salt: str) -> bool:
    if not sign:
        return False
    return hmac.compare_digest(push_sign(param, salt), sign.strip().upper())


def parse_form(body: bytes | str) -> dict[str, str]:
    """Decode a raw ``x-www-form-urlencoded`` body (UTF-8) into a field -> value dict."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _event(item: Mapping[str, Any]) -> RawEvent:
    return RawEvent(
        at=parse_cst_time(item.get("ftime") or item.get("time")),
        description=str(item.get("context") or ""),
        location=as_str(item.get("location")) or as_str(item.get("areaName")),
        raw_state=None,  # traces carry no base state; only the advanced code below
        raw_sub_state=as_str(item.get("statusCode")),
        raw=dict(item),
    )


def parse_result(obj: Mapping[str, Any], *, terminal: bool | None = None) -> TrackingResult:
    """A query response or a push's ``lastResult`` -> :class:`TrackingResult`.

    ``data[]`` arrives newest first (query default ``order=desc``; push "newest first") and is
    reversed to oldest first. ``raw_sub_state`` is the newest trace's ``statusCode`` (only with
    ``resultv2`` 4/8) - §1.5 says to parse both ``state`` and ``data[0].statusCode``.
    """
    data = obj.get("data") or []
    if not isinstance(data, list):
        data = []
    items = [d for d in data if isinstance(d, Mapping)]
    newest_sub = as_str(items[0].get("statusCode")) if items else None
    ischeck = as_str(obj.get("ischeck"))
    return TrackingResult(
        provider=PROVIDER,
        track_no=str(obj.get("nu") or ""),
        courier=as_str(obj.get("com")),
        raw_state=as_str(obj.get("state")),
        raw_sub_state=newest_sub,
        events=tuple(_event(d) for d in reversed(items)),
        is_check=None if ischeck is None else ischeck == "1",
        terminal=terminal,
        message=str(obj.get("message") or ""),
        raw=dict(obj),
    )


@dataclass(frozen=True, slots=True)
class Kuaidi100Push:
    status: str  # polling / shutdown / abort / updateall
    message: str  # e.g. "3天查询无记录", "60天无变化"
    auto_check: str | None  # "0" / "1" (courier code corrected by Kuaidi100)
    com_old: str | None
    com_new: str | None
    result: TrackingResult | None  # from lastResult
    dest_result: TrackingResult | None  # interCom=1 only
    param: str = field(repr=False)  # raw text, for reconciliation logs
    sign: str | None = field(default=None, repr=False)

    @property
    def stopped(self) -> bool:
        """Kuaidi100 has stopped polling this number (shutdown: ended; abort: gave up -
        resubscribe ~30 min later if still wanted, §1.4)."""
        return self.status in STOPPED_STATUSES


def parse_push(form: Mapping[str, Any], salt: str | None, *, allow_unsigned: bool = False) -> Kuaidi100Push:
    """Verify and parse a push. ``form`` is the decoded form (``param``, ``sign``).

    ``salt`` is the one sent with the subscription. Without a salt there is nothing to verify:
    that is refused unless ``allow_unsigned=True`` (§1.4: no salt -> ``sign`` may be absent).
    Raises :class:`InvalidPush` on a missing/forged sign or unparseable ``param``.
    """
    param = form.get("param")
    if isinstance(param, (list, tuple)):
        param = param[0] if param else None
    sign = form.get("sign")
    if isinstance(sign, (list, tuple)):
        sign = sign[0] if sign else None
    if not param:
        raise InvalidPush("kuaidi100 push without param")
    if salt:
        if not verify_push_sign(param, sign, salt):
            raise InvalidPush("kuaidi100 push sign mismatch" if sign else "kuaidi100 push without sign")
    elif not allow_unsigned:
        raise InvalidPush("no salt to verify the kuaidi100 push (pass allow_unsigned=True to accept)")
    try:
        obj = json.loads(param)
    except ValueError as exc:
        raise InvalidPush(f"kuaidi100 push param is not JSON: {exc}") from exc
    if not isinstance(obj, Mapping):
        raise InvalidPush("kuaidi100 push param is not a JSON object")
    status = str(obj.get("status") or "")
    terminal = status in STOPPED_STATUSES
    last = obj.get("lastResult")
    dest = obj.get("destResult")
    return Kuaidi100Push(
        status=status,
        message=str(obj.get("message") or ""),
        auto_check=as_str(obj.get("autoCheck")),
        com_old=as_str(obj.get("comOld")),
        com_new=as_str(obj.get("comNew")),
        result=parse_result(last, terminal=terminal) if isinstance(last, Mapping) else None,
        dest_result=parse_result(dest, terminal=terminal) if isinstance(dest, Mapping) else None,
        param=param,
        sign=sign,
    )
