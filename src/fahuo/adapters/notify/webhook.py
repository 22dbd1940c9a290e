"""Generic signed webhook: one JSON POST per alert, retried on server and network failures.

Body: ``Alert.to_dict()`` as compact UTF-8 JSON::

    {"kind": "stalled", "title": …, "lines": […], "count": 37, "more": 7, "link": …}

Headers::

    X-Fahuo-Timestamp: <unix seconds>
    X-Fahuo-Signature: sha256=<hex HMAC-SHA256(key=secret, msg=f"{timestamp}.{body}")>
    X-Fahuo-Delivery:  <uuid, the same on every retry of one alert — receivers may dedupe on it>

``body`` is the exact bytes sent. Receivers should recompute the HMAC (constant-time compare)
and refuse timestamps far from their clock; :func:`verify_signature` does both.

Any 2xx is success. 5xx and transport errors are retried with bounded exponential back-off
(``RetryPolicy``); every retry is re-signed with a fresh timestamp. 4xx (including 429) is the
receiver saying no: it is raised at once, never retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable

import httpx
import structlog
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from fahuo.adapters.notify._http import DEFAULT_TIMEOUT, dumps
from fahuo.adapters.notify.base import Alert, NotifyError, redact
from fahuo.adapters.retry import RetryPolicy

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Fahuo-Signature"
TIMESTAMP_HEADER = "X-Fahuo-Timestamp"
DELIVERY_HEADER = "X-Fahuo-Delivery"


def webhook_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *,
                     now: float | None = None, tolerance_s: int = 300) -> bool:
    """Receiver side: signature matches and the timestamp is within ``tolerance_s``."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(webhook_signature(secret, ts, body), signature or "")


# 5 attempts, waits 1, 2, 4, 8 s (exact: a receiver's outage is not a crowd to spread)
WEBHOOK_RETRY = RetryPolicy(max_attempts=5, initial_wait=1.0, max_wait=30.0, jitter=0.0)


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, secret: str, *, retry: RetryPolicy = WEBHOOK_RETRY,
                 client: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not url:
            raise ValueError("Webhook：缺少地址 url（webhook url is required）")
        if not secret:
            raise ValueError("Webhook：缺少签名密钥 secret，推送总是签名的（webhook secret is required）")
        self.url = url
        self._secret = secret
        self.retry = retry
        self._client = client or httpx.Client()
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"WebhookChannel(url={self.url!r})"

    def send(self, alert: Alert) -> None:
        body = dumps(alert.to_dict())
        delivery = str(uuid.uuid4())
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=lambda st: self.retry.wait_before(st.attempt_number),
            retry=retry_if_exception(lambda e: isinstance(e, NotifyError) and e.retryable),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda st: log.info(
                "notify.retry", channel=self.name, kind=alert.kind,
                attempt=st.attempt_number,
                error=str(st.outcome.exception() if st.outcome else None)),
        )
        for attempt in retrying:
            with attempt:
                self._attempt(body, delivery)
        log.info("notify.sent", channel=self.name, kind=alert.kind, count=alert.count)

    def _attempt(self, body: bytes, delivery: str) -> None:
        ts = int(self._clock())
        headers = {"Content-Type": "application/json; charset=utf-8",
                   TIMESTAMP_HEADER: str(ts),
                   SIGNATURE_HEADER: webhook_signature(self._secret, ts, body),
                   DELIVERY_HEADER: delivery}
        secrets = [self._secret]
        try:
            resp = self._client.post(self.url, content=body, headers=headers,
                                     timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise NotifyError(self.name, redact(f"{type(exc).__name__}: {exc}", secrets),
                              retryable=True) from None
        if 200 <= resp.status_code < 300:
            return
        words = resp.text[:300]
        try:
            data = json.loads(words) if words else None
            if isinstance(data, dict):
                words = str(data.get("error") or data.get("message") or data.get("detail") or words)
        except ValueError:
            pass
        raise NotifyError(self.name,
                          redact(f"HTTP {resp.status_code}: {words or resp.reason_phrase}", secrets),
                          code=resp.status_code, retryable=resp.status_code >= 500)
