"""The one HTTP POST the robot channels share: JSON in, JSON out, errors as NotifyError."""

from __future__ import annotations

import json
from collections.abc import Iterable

import httpx

from fahuo.adapters.notify.base import NotifyError, redact

DEFAULT_TIMEOUT = 10.0


def post_json(client: httpx.Client, url: str, body: bytes, *, channel: str,
              secrets: Iterable[str | None], headers: dict[str, str] | None = None,
              params: dict[str, str] | None = None,
              timeout: float = DEFAULT_TIMEOUT) -> tuple[int, dict]:
    """POST ``body`` (already-serialised JSON) and return (status, parsed JSON object).

    Transport failures and 5xx are retryable NotifyErrors; other non-2xx and non-JSON answers
    are final. The URL (which carries tokens) never reaches the error text.
    """
    secrets = list(secrets)
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    try:
        resp = client.post(url, content=body, headers=h, params=params, timeout=timeout)
    except httpx.HTTPError as exc:
        raise NotifyError(channel, redact(f"{type(exc).__name__}: {exc}", secrets),
                          retryable=True) from None
    text = resp.text
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = None
    if resp.status_code >= 300:
        words = _words(data) or text[:300] or resp.reason_phrase
        raise NotifyError(channel, redact(f"HTTP {resp.status_code}: {words}", secrets),
                          code=resp.status_code, retryable=resp.status_code >= 500)
    if not isinstance(data, dict):
        raise NotifyError(channel, redact(f"answer is not a JSON object: {text[:300]!r}", secrets),
                          code=resp.status_code)
    return resp.status_code, data


def _words(data: object) -> str:
    if isinstance(data, dict):
        for k in ("errmsg", "msg", "StatusMessage", "message", "error"):
            if isinstance(data.get(k), str):
                return data[k]
    return ""


def dumps(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
