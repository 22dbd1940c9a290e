"""Kuaidi100 (快递100) tracking adapter — docs/tracking-and-couriers.md §1."""

from .client import Kuaidi100Client, InMemoryQueryGuard, QueryGuard, query_sign
from .codes import DOUYIN_TO_KUAIDI100, PHONE_REQUIRED, kuaidi100_codes
from .intercept import (
    INTERCEPT_TYPES,
    InterceptAck,
    InterceptRequest,
    Kuaidi100Interceptor,
    check_partner,
    label_sign,
)
from .push import (
    Kuaidi100Push,
    REPLY_FAILURE,
    REPLY_OK,
    parse_push,
    parse_result,
    push_sign,
    reply_failure,
    verify_push_sign,
)
from .settings import Kuaidi100Settings

__all__ = [
    "Kuaidi100Client",
    "Kuaidi100Settings",
    "Kuaidi100Push",
    "Kuaidi100Interceptor",
    "InterceptAck",
    "InterceptRequest",
    "INTERCEPT_TYPES",
    "check_partner",
    "label_sign",
    "InMemoryQueryGuard",
    "QueryGuard",
    "DOUYIN_TO_KUAIDI100",
    "PHONE_REQUIRED",
    "REPLY_OK",
    "REPLY_FAILURE",
    "kuaidi100_codes",
    "parse_push",
    "parse_result",
    "push_sign",
    "query_sign",
    "reply_failure",
    "verify_push_sign",
]
