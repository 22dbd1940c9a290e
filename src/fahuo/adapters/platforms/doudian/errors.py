"""Typed errors for the Doudian gateway (docs/doudian-open-platform.md §4, §5.3).

Classification of a response envelope (first match wins):

=====================================================  =======================
condition                                              error
=====================================================  =======================
``code == 10000`` (or legacy: no ``code``, err_no 0)   success (``None``)
sub_code ``isv.access-token-expired`` /
``isv.access-token-no-existed`` /
``isv.access-token-missing``                           :class:`TokenExpired`
sub_code ``isv.business-failed:31009`` /
``dop.token-generate-failed:token-expired`` /
``dop.token-generate-failed:token-invalid``            :class:`RefreshTokenDead`
code 60000 or sub_code ``isv.traffic-limited``         :class:`Throttled`
code 20000 / 20001                                     :class:`ServiceUnavailable`
code 30001 / 30002                                     :class:`PermissionDenied`
code 40001 – 40004                                     :class:`InvalidRequest`
code 10001 (batch partially failed)                    :class:`PartialFailure`
anything else (50000 – 50002, 70000, 90000, …)         :class:`BusinessError`
=====================================================  =======================

The envelope's ``data`` is kept on the error (``err.data``) so that a caller can inspect
per-item results of a partially failed batch.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DoudianError",
    "TokenExpired",
    "RefreshTokenDead",
    "AuthorizationRequired",
    "Throttled",
    "ServiceUnavailable",
    "PermissionDenied",
    "InvalidRequest",
    "BusinessError",
    "PartialFailure",
    "TransportError",
    "UnexpectedResponse",
    "SUCCESS_CODE",
    "error_from_envelope",
]

SUCCESS_CODE = 10000

_TOKEN_EXPIRED_SUBCODES = frozenset(
    {"isv.access-token-expired", "isv.access-token-no-existed", "isv.access-token-missing"}
)
_REFRESH_DEAD_SUBCODES = frozenset(
    {
        "isv.business-failed:31009",
        "dop.token-generate-failed:token-expired",
        "dop.token-generate-failed:token-invalid",
    }
)


class DoudianError(Exception):
    """An error from (or while talking to) the Doudian open platform gateway."""

    #: whether DoudianClient retries this error with back-off
    retryable: bool = False

    def __init__(
        self,
        message: str = "",
        *,
        method: str = "",
        code: int | None = None,
        msg: str = "",
        sub_code: str = "",
        sub_msg: str = "",
        log_id: str = "",
        data: Any = None,
        http_status: int | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.code = code
        self.msg = msg
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.log_id = log_id
        self.data = data
        self.http_status = http_status
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"{type(self).__name__} calling {self.method or '<unknown method>'}"]
        if self.message:
            parts.append(f": {self.message}")
        parts.append(
            f" (code={self.code}, msg={self.msg!r}, sub_code={self.sub_code!r}, "
            f"sub_msg={self.sub_msg!r}, log_id={self.log_id!r}"
        )
        if self.http_status is not None:
            parts.append(f", http_status={self.http_status}")
        parts.append(")")
        return "".join(parts)

    def __reduce__(self):  # keep the keyword-only fields when pickled (task queues)
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls, message, state):
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class TokenExpired(DoudianError):
    """The access token is expired, unknown or missing: refresh it and retry once."""


class RefreshTokenDead(DoudianError):
    """The refresh token no longer works: create a new token or re-authorise."""


class AuthorizationRequired(DoudianError):
    """No usable token and no way to get one automatically: the merchant must re-authorise."""


class Throttled(DoudianError):
    """Code 60000 (``isv.traffic-limited``): back off and retry."""

    retryable = True


class ServiceUnavailable(DoudianError):
    """Code 20000 / 20001: platform unavailable or timed out internally; retry."""

    retryable = True


class PermissionDenied(DoudianError):
    """Code 30001 / 30002: missing permission package, authorisation closed, IP whitelist."""


class InvalidRequest(DoudianError):
    """Code 40001 – 40004: missing or invalid parameters (including bad signature/timestamp)."""


class BusinessError(DoudianError):
    """Code 50000 – 50002 and every other non-success code."""


class PartialFailure(BusinessError):
    """Code 10001: a batch call partly failed; per-item results are in ``data``."""


class TransportError(DoudianError):
    """Connection error, timeout, non-200 HTTP status or a body that is not a JSON envelope."""

    retryable = True


class UnexpectedResponse(DoudianError):
    """A successful envelope whose ``data`` lacks what the API promises."""


def _as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_str(value: Any) -> str:
    return "" if value is None else str(value)


def error_from_envelope(method: str, envelope: Any) -> DoudianError | None:
    """Return ``None`` for a successful envelope, else the matching :class:`DoudianError`."""
    if not isinstance(envelope, dict):
        return TransportError(
            f"response body is a JSON {type(envelope).__name__}, not an envelope object",
            method=method,
        )

    log_id = _as_str(envelope.get("log_id"))
    data = envelope.get("data")
    raw_code = envelope.get("code")
    if raw_code is None:
        # Legacy-only body: err_no / message.
        err_no = _as_int(envelope.get("err_no"))
        if err_no == 0:
            return None
        if err_no is None:
            return TransportError(
                "response has neither 'code' nor 'err_no'", method=method, log_id=log_id
            )
        code: int | None = err_no
        msg = _as_str(envelope.get("message"))
    else:
        code = _as_int(raw_code)
        if code == SUCCESS_CODE:
            return None
        msg = _as_str(envelope.get("msg") if envelope.get("msg") is not None else envelope.get("message"))
    sub_code = _as_str(envelope.get("sub_code"))
    sub_msg = _as_str(envelope.get("sub_msg"))

    sub = sub_code.strip().lower()
    if sub.split(":", 1)[0] in _TOKEN_EXPIRED_SUBCODES:
        cls: type[DoudianError] = TokenExpired
    elif sub in _REFRESH_DEAD_SUBCODES:
        cls = RefreshTokenDead
    elif code == 60000 or sub == "isv.traffic-limited":
        cls = Throttled
    elif code in (20000, 20001):
        cls = ServiceUnavailable
    elif code in (30001, 30002):
        cls = PermissionDenied
    elif code is not None and 40001 <= code <= 40004:
        cls = InvalidRequest
    elif code == 10001:
        cls = PartialFailure
    else:
        cls = BusinessError
    return cls(
        method=method,
        code=code if code is not None else None,
        msg=msg,
        sub_code=sub_code,
        sub_msg=sub_msg,
        log_id=log_id,
        data=data,
    )
