"""Request signing, ``param_json`` canonicalisation and push-signature checks.

Reference: docs/doudian-open-platform.md §2 (request signing) and §10.2 (push signature).

``param_json`` rules (§2.2), matching the official Go SDK's output:

* object keys sorted recursively (also inside arrays); array order kept;
* no whitespace, separators ``,`` and ``:``;
* non-ASCII characters as raw UTF-8, ``/`` and ``& < > = '`` not escaped;
* integers print without ``.0``.

Number policy (a decision, documented here because the platform publishes none):

* ``int`` stays ``int``; ``bool`` stays ``true``/``false``.
* A ``float`` with an integral value (``100.0``) is converted to ``int`` (``100``), like the
  Go and Spring clients do ("确保整数输出不带小数点").
* A non-integral ``float`` (``12.5``), NaN and infinities raise :class:`TypeError`. Money on
  this platform is in fen (integers); a fractional float is almost always a unit bug
  (yuan instead of fen). Pass decimal quantities that an API really wants as strings.
* ``Decimal``, ``datetime``, ``bytes``, ``set`` and other non-JSON types raise
  :class:`TypeError`; ``tuple`` is treated as a list. Object keys must be ``str``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from typing import Any

import structlog

__all__ = [
    "SIGN_METHODS",
    "canonical_json",
    "sign_string",
    "sign_request",
    "push_signature",
    "verify_push",
]

_log = structlog.get_logger("fahuo.doudian.signing")

SIGN_METHODS = ("hmac-sha256", "md5")
API_VERSION = "2"


def _normalise(value: Any, path: str) -> Any:
    # bool before int: bool is a subclass of int.
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise TypeError(
            f"param_json: non-integral float {value!r} at {path or '<root>'}; "
            "the platform uses integer fen for money - pass an int, or a string if "
            "the API really takes a decimal"
        )
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"param_json: object key {key!r} at {path or '<root>'} is "
                    f"{type(key).__name__}, keys must be str"
                )
            out[key] = _normalise(item, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, (list, tuple)):
        return [_normalise(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(
        f"param_json: unsupported type {type(value).__name__} at {path or '<root>'}"
    )


def canonical_json(params: dict[str, Any] | None) -> str:
    """Return the canonical ``param_json`` text for ``params`` (``None`` -> ``"{}"``)."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TypeError(f"param_json: params must be a dict, got {type(params).__name__}")
    text = json.dumps(
        _normalise(params, ""),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    # Go's encoding/json always escapes U+2028/U+2029 (even with SetEscapeHTML(false));
    # these characters can only appear inside JSON strings, so a plain replace is safe.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def sign_string(
    app_key: str, app_secret: str, method: str, param_json: str, timestamp: str | int
) -> str:
    """The string that is hashed: ``app_secret + "app_key…method…param_json…timestamp…v2" + app_secret``."""
    core = (
        f"app_key{app_key}"
        f"method{method}"
        f"param_json{param_json}"
        f"timestamp{timestamp}"
        f"v{API_VERSION}"
    )
    return f"{app_secret}{core}{app_secret}"


def sign_request(
    app_key: str,
    app_secret: str,
    method: str,
    param_json: str,
    timestamp: str | int,
    sign_method: str | None = "hmac-sha256",
) -> str:
    """Lower-case hex ``sign`` for a gateway call (§2.1).

    ``sign_method`` ``None`` or ``""`` means MD5, as the server assumes when the query has no
    ``sign_method``. ``timestamp`` must be exactly the value sent in the query.
    """
    wrapped = sign_string(app_key, app_secret, method, param_json, timestamp).encode("utf-8")
    sm = (sign_method or "md5").lower()
    if sm == "hmac-sha256":
        return hmac.new(app_secret.encode("utf-8"), wrapped, hashlib.sha256).hexdigest()
    if sm == "md5":
        return hashlib.md5(wrapped).hexdigest()
    raise ValueError(f"unknown sign_method {sign_method!r}; expected one of {SIGN_METHODS}")


def push_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """``event-sign`` of a push request: ``hex(MD5(app_key + raw_body + app_secret))`` (§10.2)."""
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    return hashlib.md5(app_key.encode("utf-8") + bytes(raw_body) + app_secret.encode("utf-8")).hexdigest()


_WHITESPACE = b" \t\n\r\x0b\x0c"


def verify_push(app_key: str, app_secret: str, raw_body: bytes, event_sign: str | None) -> bool:
    """Check a push request's ``event-sign`` header against the raw body bytes.

    Constant-time and case-insensitive. The primary check hashes the body exactly as
    received. Only if that fails, the PHP SDK's variant (all ASCII whitespace removed from
    the body) is tried as a fallback, and a match is logged as a warning.
    """
    if not event_sign or not isinstance(event_sign, str):
        return False
    given = event_sign.strip().lower().encode("ascii", "replace")
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    raw_body = bytes(raw_body)
    expected = push_signature(app_key, app_secret, raw_body).encode("ascii")
    if hmac.compare_digest(given, expected):
        return True
    stripped = raw_body.translate(None, _WHITESPACE)
    if stripped != raw_body:
        fallback = push_signature(app_key, app_secret, stripped).encode("ascii")
        if hmac.compare_digest(given, fallback):
            _log.warning("doudian.push.sign_whitespace_fallback", body_len=len(raw_body))
            return True
    return False
