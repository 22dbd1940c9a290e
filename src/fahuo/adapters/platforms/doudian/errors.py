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

Refusals fahuo acts on
----------------------

An :class:`InvalidRequest` or :class:`BusinessError` is then narrowed to a subclass when the
method and the words say what the refusal means, so callers catch a type instead of matching
text ("the words" are ``sub_msg`` and ``msg``). This list is the one place that says which rule
the platform documents (docs/doudian-open-platform.md) and which is only guessed: a guessed
rule matches the sandbox's words and the document's wording, and needs checking against the
live platform. The sandbox numbers its refusals ``isv.business-failed:<n>`` on its own
(``fahuo.sandbox.logistics``); only the after-sale rule keeps a sandbox number, because the
pipeline matched it before this list existed. First match wins, in this order. "Ship calls"
are ``order.logisticsAdd``, ``order.logisticsAddSinglePack``, ``order.logisticsAddMultiPack``.

- :class:`IdempotentIdExisted` — any method, sub_code ``isv.idempotent-id-existed``.
  Source: documented code (§4.2 under 40003, §11.1: a repeat "treat as duplicate").
- :class:`PartlyShippedOrder` — ship calls, words "部分发货". Source: documented message
  (§8.1, FW199: "该订单当前为“部分发货”状态，无法调用此接口"); its code is not documented.
- :class:`AfterSaleOpen` — ship calls, words "售后申请", "存在售后", "售后中", "退款申请",
  "申请退款" or "退款中", or a sub_code ending in ``:5``. Source: unconfirmed. The doc says a
  pending refund blocks shipping (§8.1, §8.3) with no code or words; ``:5`` is the sandbox's
  number (the pipeline once matched it), its words "订单存在售后申请，无法发货: <ids>".
- :class:`AlreadyShipped` — ship calls, words "已发货" or "重复发货". Source: unconfirmed: a
  repeat of logisticsAdd is UNCONFIRMED in the doc ("expect a business error", §8.1); matches
  the sandbox's "订单已发货，请勿重复发货，已发货运单: …".
- :class:`WaybillAlreadyCancelled` — ``logistics.cancelOrder``, words "已取消" or "already
  cancel". Source: unconfirmed: the doc is silent (§9.4); matches the sandbox's
  "运单号已取消，请勿重复取消" (and the pipeline's test before this list).
- :class:`WaybillPickedUp` — ``logistics.cancelOrder``, words "已揽收". Source: unconfirmed:
  UNCONFIRMED, "physically likely" in the doc (§9.4); matches the sandbox's
  "运单已揽收，无法取消".

A refusal prints (``str``) exactly as the :class:`BusinessError` / :class:`InvalidRequest` it
narrows, so words already stored (hold details, a pack's last error) read the same;
``type(err).__name__`` names it in logs.

Per-item results (``err_infos`` inside a ``code == 10000`` answer) are not envelope errors:
:func:`waybill_item_problem` and :func:`intercept_refusal` classify them.

- ``WaybillItemProblem.BALANCE_EXHAUSTED`` — err_code ``10701``, or words "库存不足" /
  "余额不足". Source: documented code and message (§9.2, a NET sample: "电子面单库存不足").
- ``WaybillItemProblem.OUT_OF_RANGE`` — ``10704``, or "派送范围" / "不派送" / "超区".
  Source: unconfirmed: the sandbox's code and words.
- ``WaybillItemProblem.ORDER_NOT_TAKEABLE`` — ``10702``, ``10703``, or "订单不存在" /
  "不允许取号". Source: unconfirmed: the sandbox's codes and words.
- ``WaybillItemProblem.NUMBER_CANCELLED`` (waybillApply) — ``10802``, or "已取消".
  Source: unconfirmed: the sandbox's code and words.
- ``InterceptRefusal.ALREADY_REQUESTED`` (afterSale.applyLogisticsIntercept results) —
  ``unavailable_reason_code`` 3, or "已申请拦截" in ``unavailable_reason``. Source:
  unconfirmed: §12.4 lists the fields, not their values; the sandbox's 3, "该包裹已申请拦截，
  请勿重复申请" (and the after-sales service's test before this list).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

__all__ = [
    "DoudianError", "TokenExpired", "RefreshTokenDead", "AuthorizationRequired", "Throttled",
    "ServiceUnavailable", "PermissionDenied", "InvalidRequest", "BusinessError", "PartialFailure",
    "TransportError", "UnexpectedResponse", "IdempotentIdExisted", "PartlyShippedOrder",
    "AfterSaleOpen", "AlreadyShipped", "WaybillAlreadyCancelled", "WaybillPickedUp",
    "WaybillItemProblem", "InterceptRefusal", "SHIP_METHODS", "SUCCESS_CODE",
    "BALANCE_EXHAUSTED_CODE", "IDEMPOTENT_EXISTED",
    "error_from_envelope", "waybill_item_problem", "intercept_refusal",
]

SUCCESS_CODE = 10000

_TOKEN_EXPIRED_SUBCODES = frozenset(
    {"isv.access-token-expired", "isv.access-token-no-existed", "isv.access-token-missing"}
)
_REFRESH_DEAD_SUBCODES = frozenset({"isv.business-failed:31009",
                                    "dop.token-generate-failed:token-expired",
                                    "dop.token-generate-failed:token-invalid"})


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

    #: the name ``str()`` shows; a refusal keeps the name of the class it narrows
    shown_as: ClassVar[str | None] = None

    def __str__(self) -> str:
        parts = [f"{self.shown_as or type(self).__name__} calling {self.method or '<unknown method>'}"]
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


# ---- refusals fahuo acts on (rules and their sources: the module docstring) ----------------

class IdempotentIdExisted(InvalidRequest):
    """``isv.idempotent-id-existed``: this idempotent id was applied before; a duplicate."""

    shown_as = "InvalidRequest"


class PartlyShippedOrder(BusinessError):
    """logisticsAdd on a 部分发货 order: the rest must go with the pack calls."""

    shown_as = "BusinessError"


class AfterSaleOpen(BusinessError):
    """Shipping refused: a line has an open after-sale (refund) and ``is_reject_refund`` was
    not set. The platform names the sku order ids in its words (the sandbox does)."""

    shown_as = "BusinessError"


class AlreadyShipped(BusinessError):
    """Shipping refused: the order has shipped already (with this number or another one:
    read the order's packages to know)."""

    shown_as = "BusinessError"


class WaybillAlreadyCancelled(BusinessError):
    """cancelOrder on a number that is cancelled already: the number is back, as wanted."""

    shown_as = "BusinessError"


class WaybillPickedUp(BusinessError):
    """cancelOrder refused: the courier has picked the parcel up; the number stays live."""

    shown_as = "BusinessError"


SHIP_METHODS = frozenset(
    {"order.logisticsAdd", "order.logisticsAddSinglePack", "order.logisticsAddMultiPack"}
)
_CANCEL = frozenset({"logistics.cancelOrder"})
# (type, methods (empty: any), words, sub_code test): the docstring's list, in its order.
_REFUSALS: tuple[tuple[type[DoudianError], frozenset[str], tuple[str, ...], Any], ...] = (
    (PartlyShippedOrder, SHIP_METHODS, ("部分发货",), None),
    (AfterSaleOpen, SHIP_METHODS,
     ("售后申请", "存在售后", "售后中", "退款申请", "申请退款", "退款中"),
     lambda sub: sub.endswith(":5")),
    (AlreadyShipped, SHIP_METHODS, ("已发货", "重复发货"), None),
    (WaybillAlreadyCancelled, _CANCEL, ("已取消", "already cancel"), None),
    (WaybillPickedUp, _CANCEL, ("已揽收",), None),
)
IDEMPOTENT_EXISTED = "isv.idempotent-id-existed"


def _refusal(method: str, sub: str, words: str) -> type[DoudianError] | None:
    for cls, methods, phrases, sub_test in _REFUSALS:
        if methods and method not in methods:
            continue
        if any(p in words for p in phrases) or (sub_test is not None and sub_test(sub)):
            return cls
    return None


class WaybillItemProblem(Enum):
    """What one ``err_infos`` item of newCreateOrder / waybillApply means."""

    BALANCE_EXHAUSTED = "balance_exhausted"  # 电子面单余额不足: top up the netsite
    OUT_OF_RANGE = "out_of_range"  # the courier does not deliver there
    ORDER_NOT_TAKEABLE = "order_not_takeable"  # unknown order, or its status refuses a number
    NUMBER_CANCELLED = "number_cancelled"  # waybillApply: the number was given back
    OTHER = "other"


BALANCE_EXHAUSTED_CODE = "10701"
_ITEM_RULES: dict[str, tuple[tuple[WaybillItemProblem, frozenset[str], tuple[str, ...]], ...]] = {
    "logistics.newCreateOrder": (
        (WaybillItemProblem.BALANCE_EXHAUSTED, frozenset({BALANCE_EXHAUSTED_CODE}),
         ("库存不足", "余额不足")),
        (WaybillItemProblem.OUT_OF_RANGE, frozenset({"10704"}), ("派送范围", "不派送", "超区")),
        (WaybillItemProblem.ORDER_NOT_TAKEABLE, frozenset({"10702", "10703"}),
         ("订单不存在", "不允许取号")),
    ),
    "logistics.waybillApply": (
        (WaybillItemProblem.NUMBER_CANCELLED, frozenset({"10802"}), ("已取消",)),
    ),
}


def waybill_item_problem(method: str, err_code: Any, err_msg: Any) -> WaybillItemProblem:
    """Classify one ``err_infos`` item (``{err_code, err_msg}``) of ``method``."""
    code, msg = _as_str(err_code).strip(), _as_str(err_msg)
    for kind, codes, phrases in _ITEM_RULES.get(method, ()):
        if code in codes or any(p in msg for p in phrases):
            return kind
    return WaybillItemProblem.OTHER


class InterceptRefusal(Enum):
    """Why afterSale.applyLogisticsIntercept did not take one parcel (a result, not an error)."""

    ALREADY_REQUESTED = "already_requested"  # asked before, here or at the courier: paid once
    OTHER = "other"


def intercept_refusal(result: dict[str, Any]) -> InterceptRefusal | None:
    """``None`` when the parcel's interception went through (``is_success``)."""
    if result.get("is_success"):
        return None
    if (_as_int(result.get("unavailable_reason_code")) == 3
            or "已申请拦截" in _as_str(result.get("unavailable_reason"))):
        return InterceptRefusal.ALREADY_REQUESTED
    return InterceptRefusal.OTHER


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
    if cls in (InvalidRequest, BusinessError):
        if sub.startswith(IDEMPOTENT_EXISTED):
            cls = IdempotentIdExisted
        elif cls is BusinessError:
            cls = _refusal(method, sub, f"{sub_msg} {msg}".lower()) or cls
    return cls(
        method=method,
        code=code if code is not None else None,
        msg=msg,
        sub_code=sub_code,
        sub_msg=sub_msg,
        log_id=log_id,
        data=data,
    )
