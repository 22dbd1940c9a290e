"""Signing, canonicalisation and timestamp parsing (doc §2, §3, §10.2).

Independent from fahuo's own client code on purpose.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

GMT8 = timezone(timedelta(hours=8))


def sign_string(app_key: str, app_secret: str, method: str, param_json: str, timestamp: str, v: str = "2") -> str:
    """The ``wrapped`` string of §2.1."""
    return (
        f"{app_secret}app_key{app_key}method{method}param_json{param_json}"
        f"timestamp{timestamp}v{v}{app_secret}"
    )


def sign(app_key: str, app_secret: str, method: str, param_json: str, timestamp: str,
         sign_method: str = "hmac-sha256", v: str = "2") -> str:
    wrapped = sign_string(app_key, app_secret, method, param_json, timestamp, v).encode("utf-8")
    if sign_method == "hmac-sha256":
        return hmac.new(app_secret.encode("utf-8"), wrapped, hashlib.sha256).hexdigest()
    if sign_method == "md5":
        return hashlib.md5(wrapped).hexdigest()
    raise ValueError(f"unknown sign_method {sign_method!r}")


def push_sign(app_key: str, raw_body: bytes | str, app_secret: str) -> str:
    """§10.2: hex_lower(md5(app_key + raw_body + app_secret))."""
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    return hashlib.md5(app_key.encode("utf-8") + raw_body + app_secret.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- canonical JSON

def _sort(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sort(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sort(x) for x in obj]
    return obj


def canonical_json(obj: Any, *, ensure_ascii: bool = False, escape_html: bool = False,
                   escape_gson: bool = False) -> str:
    """Recursively key-sorted JSON without whitespace (§2.2)."""
    s = json.dumps(_sort(obj), ensure_ascii=ensure_ascii, separators=(",", ":"))
    if escape_html or escape_gson:
        s = s.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    if escape_gson:
        s = s.replace("=", "\\u003d").replace("'", "\\u0027")
    return s


def canonical_variants(param_json: str) -> Iterator[str]:
    """Re-serialisations the server tolerates when the raw string does not verify.

    Raw UTF-8 vs ``\\uXXXX`` escaped non-ASCII, with and without HTML escaping of ``& < >``
    (Gson default also escapes ``= '``).
    """
    text = param_json.strip()
    if text == "":
        obj: Any = {}
    else:
        try:
            obj = json.loads(text)
        except ValueError:
            return
    seen = {param_json}
    for ea in (False, True):
        for html, gson in ((False, False), (True, False), (True, True)):
            s = canonical_json(obj, ensure_ascii=ea, escape_html=html, escape_gson=gson)
            if s not in seen:
                seen.add(s)
                yield s


def verify_request_sign(app_key: str, app_secret: str, method: str, param_json: str, timestamp: str,
                        sign_method: str, given: str, v: str = "2") -> bool:
    given = given.lower()
    if hmac.compare_digest(sign(app_key, app_secret, method, param_json, timestamp, sign_method, v), given):
        return True
    for variant in canonical_variants(param_json):
        if hmac.compare_digest(sign(app_key, app_secret, method, variant, timestamp, sign_method, v), given):
            return True
    return False


# --------------------------------------------------------------------------- timestamps

_DT_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class TimestampFormatError(ValueError):
    pass


def parse_timestamp(ts: str) -> float:
    """Unix seconds, Unix milliseconds (13 digits) or ``yyyy-MM-dd HH:mm:ss`` GMT+8 → epoch seconds."""
    ts = ts.strip()
    if ts.isdigit() and ts.isascii():
        if len(ts) == 13:
            return int(ts) / 1000.0
        if 9 <= len(ts) <= 11:
            return float(int(ts))
        raise TimestampFormatError(ts)
    if _DT_RE.match(ts):
        try:
            return datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=GMT8).timestamp()
        except ValueError as exc:
            raise TimestampFormatError(ts) from exc
    raise TimestampFormatError(ts)
