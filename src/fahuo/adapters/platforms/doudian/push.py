"""Parsing of message-push (webhook) bodies (docs/doudian-open-platform.md §10).

Verify the ``event-sign`` header over the raw bytes first (``signing.verify_push``), then
parse. Accepted variants (§10.3, §16 #3):

* a JSON array of messages, or a single message object;
* ``msg_id`` or ``msgId``; ``tag`` as a string or an int (normalised to a string, e.g. ``"100"``);
* ``data`` as a JSON-encoded string (the usual form) or as an object;
* ids inside ``data`` (``p_id``, ``s_ids``, ``s_id``, ``shop_id``, ``aftersale_id``) as
  numbers or strings — normalised to strings.

The verification ping (``tag "0"``) is accepted with missing / empty ``data`` or ``msg_id``.
Reply ``PUSH_ACK`` (HTTP 200) within 5 s; delivery is at-least-once, deduplicate on
``msg_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PUSH_ACK",
    "PUSH_NACK",
    "VERIFICATION_TAG",
    "MalformedPush",
    "PushMessage",
    "parse_push_body",
]

PUSH_ACK = {"code": 0, "msg": "success"}
PUSH_NACK = {"code": 1, "msg": "fail"}
VERIFICATION_TAG = "0"
_ID_FIELDS = ("p_id", "s_id", "shop_id", "aftersale_id")
_ID_LIST_FIELDS = ("s_ids",)


class MalformedPush(ValueError):
    """The push body is not valid JSON or not shaped like push messages."""


@dataclass(frozen=True)
class PushMessage:
    tag: str
    msg_id: str
    data: dict[str, Any]
    raw_data: str  # ``data`` as received when it was a string; else its compact JSON

    @property
    def is_verification(self) -> bool:
        return self.tag == VERIFICATION_TAG


def _id_str(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, bool):
        raise MalformedPush(f"{where}: id is a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise MalformedPush(f"{where}: id {value!r} is neither a number nor a string")


def _normalise_ids(data: dict[str, Any], where: str) -> dict[str, Any]:
    out = dict(data)
    for key in _ID_FIELDS:
        if key in out:
            out[key] = _id_str(out[key], f"{where}.data.{key}")
    for key in _ID_LIST_FIELDS:
        if key in out and out[key] is not None:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key] = [_id_str(v, f"{where}.data.{key}[{i}]") for i, v in enumerate(out[key])]
    return out


def _tag(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None:
        raise MalformedPush(f"{where}: 'tag' is missing or not a string/int")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise MalformedPush(f"{where}: 'tag' is missing or not a string/int (got {value!r})")


def _message(item: Any, where: str) -> PushMessage:
    if not isinstance(item, dict):
        raise MalformedPush(f"{where}: expected an object, got {type(item).__name__}")
    tag = _tag(item.get("tag"), where)
    verification = tag == VERIFICATION_TAG

    raw_id = item.get("msg_id", item.get("msgId"))
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
        if not verification:
            raise MalformedPush(f"{where}: 'msg_id' / 'msgId' is missing or empty (tag {tag})")
        msg_id = "" if raw_id is None or isinstance(raw_id, bool) else str(raw_id).strip()
    else:
        msg_id = str(raw_id).strip()

    raw = item.get("data")
    if isinstance(raw, str):
        raw_data = raw
        if raw.strip():
            try:
                data = json.loads(raw)
            except ValueError as exc:
                if not verification:
                    raise MalformedPush(f"{where}: 'data' is a string but not valid JSON: {exc}") from exc
                data = {}
        else:
            data = {}
    elif isinstance(raw, dict):
        data = raw
        raw_data = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    elif raw is None:
        data, raw_data = {}, ""
    else:
        raise MalformedPush(f"{where}: 'data' must be a JSON string or an object, got {type(raw).__name__}")
    if not isinstance(data, dict):
        if not verification:
            raise MalformedPush(f"{where}: 'data' decodes to {type(data).__name__}, expected an object")
        data = {}
    if not data and raw is None and not verification:
        raise MalformedPush(f"{where}: 'data' is missing (tag {tag})")
    return PushMessage(tag=tag, msg_id=msg_id, data=_normalise_ids(data, where), raw_data=raw_data)


def parse_push_body(raw: bytes | str) -> list[PushMessage]:
    """Parse a push request body into messages (the array may be empty)."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MalformedPush(f"push body is not UTF-8: {exc}") from exc
    elif isinstance(raw, str):
        text = raw
    else:
        raise MalformedPush(f"push body must be bytes or str, got {type(raw).__name__}")
    if not text.strip():
        raise MalformedPush("push body is empty")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise MalformedPush(f"push body is not valid JSON: {exc}") from exc
    if isinstance(doc, dict):
        return [_message(doc, "message")]
    if isinstance(doc, list):
        return [_message(item, f"message[{i}]") for i, item in enumerate(doc)]
    raise MalformedPush(f"push body must be a JSON array or object, got {type(doc).__name__}")
