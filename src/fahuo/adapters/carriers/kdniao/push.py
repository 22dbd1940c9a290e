"""Kdniao push (RequestType 101, §2.4): verify ``DataSign``, parse ``Data[]``, and reply.

Kdniao POSTs form fields ``RequestData`` (JSON), ``RequestType=101``, ``DataSign``.
Verification (§2.1 / KDN-GO ``Response.Verify``): ``Base64(lowercase_hex(MD5(RequestData +
AppKey)))`` over the form-decoded ``RequestData`` must equal the form-decoded ``DataSign``.
KDN-GO URL-unescapes once more after form binding; to cover a sender that double-encodes, one
extra unquote of either field is also tried (still requires the AppKey to match).

Reply (§2.4 / §8, exact key order)::

    {"EBusinessID":"<id>","UpdateTime":"yyyy-MM-dd HH:mm:ss","Success":true,"Reason":""}

``UpdateTime`` is GMT+8. ``Success=false`` plus a ``Reason`` rejects the push (retry policy
UNCONFIRMED).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote

from ..base import (
    InvalidPush,
    RawEvent,
    TrackingResult,
    as_bool,
    as_str,
    format_cst,
    parse_cst_time,
)

__all__ = [
    "KdniaoPush",
    "PUSH_REQUEST_TYPE",
    "data_sign",
    "parse_form",
    "parse_push",
    "parse_trace",
    "reply",
    "verify_data_sign",
]

PROVIDER = "kdniao"
PUSH_REQUEST_TYPE = "101"
REPLY_CONTENT_TYPE = "application/json;charset=utf-8"


def data_sign(request_data: str, api_key: str) -> str:
    """§2.1 / §7 without the final URLEncode: ``Base64(lowercase_hex(MD5(RequestData + AppKey)))``.

    Base64 is applied to the 32-char hex *string*. The URLEncode in the doc's formula is the
    form encoding of the field (done once, when the body is encoded) - see
    :func:`fahuo.adapters.carriers.kdniao.client.encode_form`.
    """
    hex_digest = hashlib.md5((request_data + api_key).encode("utf-8")).hexdigest()
    return base64.b64encode(hex_digest.encode("ascii")).decode("ascii")


def verify_data_sign(request_data: str, sign: str | None, api_key: str) -> bool:
    if not sign or request_data is None:
        return False
    signs = {sign, unquote(sign), sign.replace(" ", "+")}
    for data in {request_data, unquote(request_data)}:
        expected = data_sign(data, api_key)
        if any(hmac.compare_digest(expected, s) for s in signs):
            return True
    return False


def parse_form(body: bytes | str) -> dict[str, str]:
    """Decode a raw ``x-www-form-urlencoded`` body (UTF-8) into a field -> value dict."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _event(item: Mapping[str, Any]) -> RawEvent:
    return RawEvent(
        at=parse_cst_time(item.get("AcceptTime")),
        description=str(item.get("AcceptStation") or ""),
        location=as_str(item.get("Location")),
        raw_state=None,
        raw_sub_state=as_str(item.get("Action")),  # Action = StateEx of that node (§2.3)
        raw=dict(item),
    )


def parse_trace(obj: Mapping[str, Any]) -> TrackingResult:
    """A query response or one push ``Data[]`` item -> :class:`TrackingResult`.

    ``raw_state`` = ``State`` (sticky 4 once a problem occurred), ``raw_sub_state`` =
    ``StateEx`` (what paying users should rely on, §2.6). Traces are put oldest first (stable
    sort by time when every time parses; Kdniao's default is ascending anyway).
    """
    traces = obj.get("Traces") or []
    items = [t for t in traces if isinstance(t, Mapping)] if isinstance(traces, list) else []
    events = [_event(t) for t in items]
    if events and all(e.at is not None for e in events):
        events.sort(key=lambda e: e.at)  # type: ignore[arg-type,return-value]
    return TrackingResult(
        provider=PROVIDER,
        track_no=str(obj.get("LogisticCode") or ""),
        courier=as_str(obj.get("ShipperCode")),
        raw_state=as_str(obj.get("State")),
        raw_sub_state=as_str(obj.get("StateEx")),
        events=tuple(events),
        is_check=None,  # Kdniao has no 签收 flag; use State/StateEx
        terminal=None,
        message=str(obj.get("Reason") or ""),
        raw=dict(obj),
    )


@dataclass(frozen=True, slots=True)
class KdniaoPush:
    ebusiness_id: str
    push_time: int | None  # epoch s from PushTime (GMT+8)
    count: int | None
    #: one per ``Data[]`` item, including items with ``Success=false`` (see ``.raw["Success"]``)
    results: tuple[TrackingResult, ...]
    request_data: str = field(repr=False)  # raw text, for reconciliation logs


def parse_push(form: Mapping[str, Any], api_key: str, *, ebusiness_id: str | None = None) -> KdniaoPush:
    """Verify and parse a 101 push. ``form`` is the decoded form. Raises :class:`InvalidPush`
    for a missing/forged ``DataSign``, another ``RequestType`` (e.g. 107 COD), a foreign
    ``EBusinessID`` (when ``ebusiness_id`` is given) or unparseable JSON."""

    def field_(name: str) -> str | None:
        v = form.get(name)
        if isinstance(v, (list, tuple)):
            v = v[0] if v else None
        return v

    request_data = field_("RequestData")
    request_type = field_("RequestType")
    sign = field_("DataSign")
    if not request_data:
        raise InvalidPush("kdniao push without RequestData")
    if request_type is not None and str(request_type).strip() != PUSH_REQUEST_TYPE:
        raise InvalidPush(f"kdniao push RequestType {request_type!r} is not supported (only 101)")
    if not verify_data_sign(request_data, sign, api_key):
        raise InvalidPush("kdniao push DataSign mismatch" if sign else "kdniao push without DataSign")
    obj: Any = None
    for candidate in (request_data, unquote(request_data)):
        try:
            obj = json.loads(candidate)
            break
        except ValueError:
            continue
    if not isinstance(obj, Mapping):
        raise InvalidPush("kdniao push RequestData is not a JSON object")
    sender = str(obj.get("EBusinessID") or "")
    if ebusiness_id is not None and sender and sender != str(ebusiness_id):
        raise InvalidPush(f"kdniao push for EBusinessID {sender!r}, expected {ebusiness_id!r}")
    data = obj.get("Data") or []
    results = tuple(parse_trace(d) for d in data if isinstance(d, Mapping)) if isinstance(data, list) else ()
    count = obj.get("Count")
    try:
        count_i = int(count) if count is not None and str(count).strip() != "" else None
    except ValueError:
        count_i = None
    return KdniaoPush(
        ebusiness_id=sender,
        push_time=parse_cst_time(obj.get("PushTime")),
        count=count_i,
        results=results,
        request_data=request_data,
    )


def reply(ebusiness_id: str, *, success: bool = True, reason: str = "", now: float | None = None) -> str:
    """The exact reply body; ``success=False`` with a ``reason`` rejects the push."""
    return json.dumps(
        {
            "EBusinessID": str(ebusiness_id),
            "UpdateTime": format_cst(time.time() if now is None else now),
            "Success": bool(success),
            "Reason": reason,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def success_flag(obj: Mapping[str, Any]) -> bool:
    return as_bool(obj.get("Success"))
