"""Masking of buyer data for logs and screens."""

from __future__ import annotations

import dataclasses
import re

_CIPHER = re.compile(r"^(##|\$\$|#).*")


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_detail(detail: str) -> str:
    if not detail:
        return ""
    keep = min(4, len(detail) // 3)
    return detail[:keep] + "****"


def is_platform_cipher(value: str) -> bool:
    return bool(value) and bool(_CIPHER.match(value)) and len(value) > 8


# -- plain receiver text in platform payloads ------------------------------------------------

REMOVED = "[removed]"
# Keys whose value is the receiver (or part of it) wherever they appear in a payload.
_RECEIVER_ANYWHERE = frozenset({
    "post_receiver", "post_tel", "post_mobile", "receiver_name", "receiver_tel",
    "receiver_phone", "receiver_mobile", "receiver_detail", "receiver_address", "detail_address",
    "detail", "addr", "tel", "mobile", "phone", "telephone",
})
# Objects that hold a receiver: inside them `name` is the buyer's name too.
_RECEIVER_HOLDERS = frozenset({
    "receiver_msg", "post_receiver_msg", "receiver_info", "receiver", "contact", "post_addr",
    "address", "mask_post_addr",
})


def _is_plain(value: object) -> bool:
    """Plain receiver text: not empty, not masked (``*``), not the platform's ciphertext."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, str):
        return False
    return bool(value.strip()) and "*" not in value and not is_platform_cipher(value)


def strip_plain_receiver(payload: object) -> object:
    """The payload without plain receiver text at any depth (lists of dicts of dicts…).

    Masked values and ciphertexts stay (screens and e-waybill calls use them); plain values
    become ``[removed]`` (fahuo keeps the top-level plain receiver only encrypted). Returns
    the very same object when there was nothing to strip, so the sync's hot path copies
    nothing for the usual payload."""
    return _strip(payload, False)


def _strip(node: object, holder: bool) -> object:
    if isinstance(node, dict):
        out = None
        for k, v in node.items():
            key = k.lower() if isinstance(k, str) else k
            pii = key in _RECEIVER_ANYWHERE or (holder and key == "name")
            if isinstance(v, (dict, list)):
                # under a receiver key, a structure is a receiver holder itself
                new = _strip(v, pii or key in _RECEIVER_HOLDERS)
            elif pii and _is_plain(v):
                new = REMOVED
            else:
                continue
            if new is not v:
                if out is None:
                    out = dict(node)
                out[k] = new
        return node if out is None else out
    if isinstance(node, list):
        items = None
        for i, v in enumerate(node):
            new = _strip(v, holder) if isinstance(v, (dict, list)) else v
            if new is not v:
                if items is None:
                    items = list(node)
                items[i] = new
        return node if items is None else items
    return node


# -- logs -------------------------------------------------------------------------------------

REDACTED = "[redacted]"
# A key is sensitive when one of its words (snake_case, kebab-case or camelCase) is one of
# these: receivers, contacts, secrets and tokens, plain and encrypted PII.
_SENSITIVE_WORDS = frozenset({
    "receiver", "tel", "phone", "mobile", "telephone", "addr", "address", "contact",
    "password", "passwd", "pwd", "secret", "token", "authorization", "cookie", "credentials",
    "credential", "plain", "encrypt", "salt",
})
_SENSITIVE_KEYS = frozenset({
    "buyer_words", "seller_words", "remark", "api_key", "apikey", "partner_key", "partnerkey",
    "private_key", "auth_code", "oauth_code", "sign", "detail_address",
})
_WORDS = re.compile(r"[_\-\s.]+|(?<=[a-z0-9])(?=[A-Z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d{9})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
_QUERY_SECRET = re.compile(
    r"(?i)\b(access_token|refresh_token|token|app_secret|secret|password|sign|code)=([^&\s'\"]+)")


def sensitive_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    if key.lower() in _SENSITIVE_KEYS:
        return True
    return any(w.lower() in _SENSITIVE_WORDS for w in _WORDS.split(key) if w)


def redact_text(text: str) -> str:
    """Phone numbers masked, secrets in query strings replaced."""
    if not any(c.isdigit() for c in text) and "=" not in text:
        return text
    text = _MOBILE.sub(lambda m: mask_phone(m.group(1)), text)
    text = _LANDLINE.sub(REDACTED, text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def redact(value: object, _depth: int = 0) -> object:
    """A log value with sensitive keys redacted at any depth and phones masked in text."""
    if _depth > 20:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return _redact_dict(value, _depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(v, _depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **_redact_dict(fields, _depth + 1)}
    return redact_text(repr(value))


def _redact_dict(value: dict[str, object], _depth: int) -> dict[str, object]:
    return {k: REDACTED if sensitive_key(k) and value[k] not in (None, "")
            else redact(v, _depth + 1) for k, v in value.items()}
