"""Low-level Doudian gateway client (docs/doudian-open-platform.md §1 – §5).

``DoudianClient.call(method, params, access_token)`` signs and POSTs one API call and
returns the envelope's ``data``:

* URL ``{gateway}/{method with "." -> "/"}``; body = canonical ``param_json`` bytes;
* query: ``app_key, method, access_token (not for token.create/refresh), timestamp, v=2,
  sign_method, sign``; header ``Content-Type: application/json``;
* every attempt first passes the app's :class:`RateBudget`;
* :class:`Throttled`, :class:`ServiceUnavailable` and :class:`TransportError` are retried
  with bounded exponential back-off plus jitter; each retry is re-signed with a fresh
  timestamp. Everything else raises at once.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from urllib.parse import quote
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import orjson
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from fahuo.adapters.retry import RetryPolicy
from fahuo.domain.clock import SHOP_TZ

from .errors import DoudianError, TransportError, error_from_envelope
from .ratelimit import RateBudget
from .signing import SIGN_METHODS, canonical_json, sign_request
from .tokens import TokenSet
from .wire import Wire, WireError, wire_for

__all__ = [
    "PRODUCTION_GATEWAY",
    "SANDBOX_GATEWAY",
    "TOKEN_METHODS",
    "AppCredentials",
    "RetryPolicy",
    "DoudianClient",
]

PRODUCTION_GATEWAY = "https://openapi-fxg.jinritemai.com"
SANDBOX_GATEWAY = "https://openapi-sandbox.jinritemai.com"
TOKEN_METHODS = frozenset({"token.create", "token.refresh"})
TIMESTAMP_FORMATS = ("seconds", "milliseconds", "datetime")
_METHOD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
_CST = SHOP_TZ  # the gateway's timestamp is Beijing time
_USER_AGENT = "fahuo-doudian/0.1"
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json",
            "User-Agent": _USER_AGENT}

_log = structlog.get_logger("fahuo.doudian.client")


@dataclass(frozen=True)
class AppCredentials:
    app_key: str
    app_secret: str = field(repr=False)
    gateway_url: str = PRODUCTION_GATEWAY
    sign_method: str = "hmac-sha256"
    #: "seconds" (Go/PHP SDKs, default), "milliseconds" (Java SDK) or "datetime"
    #: (``yyyy-MM-dd HH:mm:ss`` GMT+8, old guide) — §3
    timestamp_format: str = "seconds"

    def __post_init__(self) -> None:
        if not self.app_key or not self.app_secret:
            raise ValueError("app_key and app_secret are required")
        if self.sign_method not in SIGN_METHODS:
            raise ValueError(f"sign_method must be one of {SIGN_METHODS}, got {self.sign_method!r}")
        if self.timestamp_format not in TIMESTAMP_FORMATS:
            raise ValueError(
                f"timestamp_format must be one of {TIMESTAMP_FORMATS}, got {self.timestamp_format!r}"
            )
        if not self.gateway_url.startswith(("https://", "http://")):
            raise ValueError(f"gateway_url must be an http(s) URL, got {self.gateway_url!r}")
        object.__setattr__(self, "app_key", str(self.app_key).strip())
        object.__setattr__(self, "gateway_url", self.gateway_url.rstrip("/"))


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, DoudianError) and exc.retryable


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class DoudianClient:
    def __init__(
        self,
        creds: AppCredentials,
        *,
        http: httpx.Client | Wire | None = None,
        rate_budget: RateBudget | None = None,
        retry: RetryPolicy = RetryPolicy(),
        clock: Callable[[], float] = time.time,
        timeout: float = 12.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.creds = creds
        self.wire, self._owns_wire = wire_for(http)
        self.rate_budget = rate_budget
        self.retry = retry
        self.clock = clock
        self.timeout = timeout
        self._sleep = sleep

    def close(self) -> None:
        if self._owns_wire:
            self.wire.close()

    def __enter__(self) -> "DoudianClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------------

    def url_for(self, method: str) -> str:
        return f"{self.creds.gateway_url}/{method.replace('.', '/')}"

    def timestamp(self) -> str:
        now = self.clock()
        fmt = self.creds.timestamp_format
        if fmt == "milliseconds":
            return str(int(now * 1000))
        if fmt == "datetime":
            return _dt.datetime.fromtimestamp(int(now), _CST).strftime("%Y-%m-%d %H:%M:%S")
        return str(int(now))

    def signed_url(self, method: str, param_json: str, access_token: str | None) -> str:
        """The URL of one attempt: method path and the signed query (fresh timestamp)."""
        ts = self.timestamp()
        sign = sign_request(
            self.creds.app_key, self.creds.app_secret, method, param_json, ts, self.creds.sign_method
        )
        query: list[tuple[str, str]] = [("app_key", self.creds.app_key), ("method", method)]
        if method not in TOKEN_METHODS:
            query.append(("access_token", access_token or ""))
        query += [
            ("timestamp", ts),
            ("v", "2"),
            ("sign_method", self.creds.sign_method),
            ("sign", sign),
        ]
        # The names are plain ASCII words; only the values need quoting.
        return self.url_for(method) + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query)

    # -- the call ---------------------------------------------------------------------

    def call(
        self, method: str, params: dict[str, Any] | None = None, access_token: str | None = None
    ) -> Any:
        """Call ``method`` and return the envelope's ``data``; raise a :class:`DoudianError`."""
        if not isinstance(method, str) or not _METHOD_RE.match(method):
            raise ValueError(f"invalid API method name {method!r} (expected e.g. 'order.searchList')")
        if method not in TOKEN_METHODS and not access_token:
            raise ValueError(f"{method} needs an access_token")
        param_json = canonical_json(params)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=lambda state: self.retry.wait_before(state.attempt_number),
            sleep=self._sleep,
            retry=retry_if_exception(_is_retryable),
            reraise=True,
            before_sleep=self._log_retry(method),
        )
        for attempt in retrying:
            with attempt:
                return self._attempt(method, param_json, access_token, attempt.retry_state.attempt_number)
        raise AssertionError("unreachable")  # pragma: no cover

    def _log_retry(self, method: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            _log.warning(
                "doudian.call.retry",
                method=method,
                attempt=state.attempt_number,
                wait_s=round(state.next_action.sleep, 3) if state.next_action else None,
                error=type(exc).__name__ if exc else None,
                code=getattr(exc, "code", None),
                sub_code=getattr(exc, "sub_code", None),
                log_id=getattr(exc, "log_id", None),
            )

        return before_sleep

    def _attempt(self, method: str, param_json: str, access_token: str | None, attempt: int) -> Any:
        if self.rate_budget is not None:
            self.rate_budget.acquire(self.creds.app_key)
        url = self.signed_url(method, param_json, access_token)
        started = time.monotonic()
        try:
            response = self.wire.post(url, param_json.encode("utf-8"), _HEADERS, self.timeout)
        except WireError as exc:
            err = TransportError(str(exc), method=method)
            self._log_failure(err, attempt)
            raise err from exc
        elapsed_ms = int((time.monotonic() - started) * 1000)
        body = response.body
        if response.status != 200:
            err = TransportError(
                f"HTTP {response.status}: {_short(body.decode('utf-8', 'replace'))!r}",
                method=method,
                http_status=response.status,
                log_id=response.log_id,
            )
            self._log_failure(err, attempt)
            raise err
        try:
            envelope = orjson.loads(body)  # pages are ~0.5 MB: the C parser pays off
        except ValueError as exc:
            err = TransportError(
                f"response body is not JSON: {_short(body.decode('utf-8', 'replace'))!r}",
                method=method,
                http_status=response.status,
                log_id=response.log_id,
            )
            self._log_failure(err, attempt)
            raise err from exc
        error = error_from_envelope(method, envelope)
        if error is not None:
            self._log_failure(error, attempt)
            raise error
        _log.debug(
            "doudian.call.ok",
            method=method,
            attempt=attempt,
            log_id=envelope.get("log_id", ""),
            elapsed_ms=elapsed_ms,
            param_bytes=len(param_json),
        )
        return envelope.get("data")

    def _log_failure(self, err: DoudianError, attempt: int) -> None:
        (_log.info if err.retryable else _log.warning)(
            "doudian.call.failed",
            method=err.method,
            attempt=attempt,
            error=type(err).__name__,
            code=err.code,
            sub_code=err.sub_code,
            sub_msg=err.sub_msg,
            log_id=err.log_id,
            http_status=err.http_status,
            detail=err.message if isinstance(err, TransportError) else None,
        )

    # -- token calls ------------------------------------------------------------------

    def create_token(
        self, *, shop_id: str | None = None, code: str | None = None, test_shop: bool = False
    ) -> TokenSet:
        """``token.create``: ``authorization_code`` with an OAuth ``code``, otherwise
        ``authorization_self`` (self-built app) with ``code=""`` and ``shop_id``."""
        params: dict[str, Any]
        if code:
            params = {"grant_type": "authorization_code", "code": str(code)}
            if shop_id:
                params["shop_id"] = str(shop_id)
        elif shop_id:
            params = {"grant_type": "authorization_self", "code": "", "shop_id": str(shop_id)}
        else:
            raise ValueError("create_token needs an OAuth code (tool apps) or a shop_id (self-built apps)")
        if test_shop:
            params["test_shop"] = "1"
        issued_at = self.clock()
        data = self.call("token.create", params, None)
        return TokenSet.from_token_data(data, issued_at=issued_at, method="token.create")

    def refresh_token(self, refresh_token: str) -> TokenSet:
        """``token.refresh`` with ``grant_type=refresh_token``."""
        if not refresh_token:
            raise ValueError("refresh_token is empty")
        issued_at = self.clock()
        data = self.call(
            "token.refresh", {"grant_type": "refresh_token", "refresh_token": refresh_token}, None
        )
        return TokenSet.from_token_data(data, issued_at=issued_at, method="token.refresh")
