"""Doudian (抖店) open-platform adapter: signing, gateway client, tokens, typed APIs, push.

Reference: docs/doudian-open-platform.md.
"""

from .api import Address, AddressPage, Courier, DoudianShopApi, SearchPage
from .client import (
    PRODUCTION_GATEWAY,
    SANDBOX_GATEWAY,
    AppCredentials,
    DoudianClient,
    RetryPolicy,
)
from .errors import (
    AuthorizationRequired,
    BusinessError,
    DoudianError,
    InvalidRequest,
    PartialFailure,
    PermissionDenied,
    RefreshTokenDead,
    ServiceUnavailable,
    Throttled,
    TokenExpired,
    TransportError,
    UnexpectedResponse,
    error_from_envelope,
)
from .push import PUSH_ACK, PUSH_NACK, MalformedPush, PushMessage, parse_push_body
from .ratelimit import RateBudget
from .signing import canonical_json, push_signature, sign_request, verify_push
from .tokens import InMemoryTokenStore, ShopSession, TokenSet, TokenStore

__all__ = [
    "Address",
    "AddressPage",
    "AppCredentials",
    "AuthorizationRequired",
    "BusinessError",
    "Courier",
    "DoudianClient",
    "DoudianError",
    "DoudianShopApi",
    "InMemoryTokenStore",
    "InvalidRequest",
    "MalformedPush",
    "PRODUCTION_GATEWAY",
    "PUSH_ACK",
    "PUSH_NACK",
    "PartialFailure",
    "PermissionDenied",
    "PushMessage",
    "RateBudget",
    "RefreshTokenDead",
    "RetryPolicy",
    "SANDBOX_GATEWAY",
    "SearchPage",
    "ServiceUnavailable",
    "ShopSession",
    "Throttled",
    "TokenExpired",
    "TokenSet",
    "TokenStore",
    "TransportError",
    "UnexpectedResponse",
    "canonical_json",
    "error_from_envelope",
    "parse_push_body",
    "push_signature",
    "sign_request",
    "verify_push",
]
