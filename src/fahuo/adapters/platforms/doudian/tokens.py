"""Access-token lifecycle (docs/doudian-open-platform.md §5).

* :class:`TokenSet` — one shop's token pair with absolute expiry times.
* :class:`TokenStore` — where token sets live (the app provides a DB-backed one).
* :class:`ShopSession` — makes calls for one shop, creating / refreshing tokens as needed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

import structlog

from .errors import AuthorizationRequired, RefreshTokenDead, TokenExpired, UnexpectedResponse

if TYPE_CHECKING:
    from .client import DoudianClient

__all__ = [
    "ACCESS_TOKEN_TTL_S",
    "REFRESH_TOKEN_TTL_S",
    "TokenSet",
    "TokenStore",
    "InMemoryTokenStore",
    "ShopSession",
]

_log = structlog.get_logger("fahuo.doudian.tokens")

ACCESS_TOKEN_TTL_S = 7 * 86400
REFRESH_TOKEN_TTL_S = 14 * 86400
#: an ``expires_in`` above this many seconds (10 years) is taken as an absolute timestamp
_ABSOLUTE_THRESHOLD_S = 10 * 365 * 86400


def _mask(secret: str) -> str:
    if not secret:
        return "''"
    return f"'{secret[:4]}…({len(secret)})'"


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: int  # epoch seconds
    refresh_expires_at: int  # epoch seconds (issued_at + 14 d)
    shop_id: str = ""
    shop_name: str = ""
    scope: str = ""
    authority_id: str = ""

    def __repr__(self) -> str:  # never print tokens in full
        return (
            f"TokenSet(access_token={_mask(self.access_token)}, "
            f"refresh_token={_mask(self.refresh_token)}, expires_at={self.expires_at}, "
            f"refresh_expires_at={self.refresh_expires_at}, shop_id={self.shop_id!r}, "
            f"shop_name={self.shop_name!r})"
        )

    def seconds_left(self, now: float) -> float:
        return self.expires_at - now

    @classmethod
    def from_token_data(cls, data: Any, *, issued_at: float, method: str = "token") -> "TokenSet":
        """Build a TokenSet from the ``data`` of ``token.create`` / ``token.refresh``.

        ``expires_in`` is a time-to-live in seconds. A value above 10 years of seconds is
        taken as an absolute epoch timestamp (with a warning); if that timestamp is already
        in the past, or ``expires_in`` is missing / non-positive, the documented 7-day
        lifetime is assumed (with a warning) and a 40003 later triggers a refresh anyway.
        """
        if not isinstance(data, dict):
            raise UnexpectedResponse(f"token data is {type(data).__name__}, not an object", method=method)
        access = data.get("access_token")
        refresh = data.get("refresh_token")
        if not access or not refresh:
            raise UnexpectedResponse("token data lacks access_token or refresh_token", method=method)
        now = int(issued_at)
        try:
            expires_in = int(data.get("expires_in"))  # type: ignore[arg-type]  # None → TypeError below
        except (TypeError, ValueError):
            expires_in = 0
        if expires_in > _ABSOLUTE_THRESHOLD_S:
            if expires_in > now:
                _log.warning("doudian.token.expires_in_absolute", expires_in=expires_in)
                expires_at = expires_in
            else:
                _log.warning("doudian.token.expires_in_implausible", expires_in=expires_in)
                expires_at = now + ACCESS_TOKEN_TTL_S
        elif expires_in <= 0:
            _log.warning("doudian.token.expires_in_missing", expires_in=data.get("expires_in"))
            expires_at = now + ACCESS_TOKEN_TTL_S
        else:
            expires_at = now + expires_in

        def s(key: str) -> str:
            value = data.get(key)
            return "" if value is None else str(value)

        return cls(
            access_token=str(access),
            refresh_token=str(refresh),
            expires_at=expires_at,
            refresh_expires_at=now + REFRESH_TOKEN_TTL_S,
            shop_id=s("shop_id"),
            shop_name=s("shop_name"),
            scope=s("scope"),
            authority_id=s("authority_id"),
        )


@runtime_checkable
class TokenStore(Protocol):
    def load(self, shop_ref: str) -> TokenSet | None: ...

    def save(self, shop_ref: str, tokens: TokenSet) -> None: ...


class InMemoryTokenStore:
    """A thread-safe dict-backed :class:`TokenStore` (tests, one-off scripts)."""

    def __init__(self, initial: dict[str, TokenSet] | None = None) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, TokenSet] = dict(initial or {})
        #: every (shop_ref, tokens) passed to save(), in order
        self.saved: list[tuple[str, TokenSet]] = []

    def load(self, shop_ref: str) -> TokenSet | None:
        with self._lock:
            return self._tokens.get(shop_ref)

    def save(self, shop_ref: str, tokens: TokenSet) -> None:
        with self._lock:
            self._tokens[shop_ref] = tokens
            self.saved.append((shop_ref, tokens))


class ShopSession:
    """Calls the platform on behalf of one shop, keeping its token alive.

    * No stored token: self-built apps (``self_built_shop_id`` given) call ``token.create``;
      others raise :class:`AuthorizationRequired`.
    * Less than ``refresh_margin_s`` of life left: ``token.refresh`` first. (Refreshing more
      than 1 h before expiry returns the same token, §5.2, so the default 3000 s is right.)
    * Every new token set is saved, so the latest refresh token is always persisted.
    * :class:`TokenExpired` from a call: refresh, then retry the call exactly once. If the
      refresh hands back the very access token the platform just rejected, a self-built
      app creates a fresh token instead.
    * :class:`RefreshTokenDead` (or refresh token past its 14 days): self-built apps call
      ``token.create`` again; others raise :class:`AuthorizationRequired`.

    Token acquisition is serialised with a lock; API calls themselves run concurrently.
    """

    def __init__(
        self,
        client: "DoudianClient",
        token_store: TokenStore,
        shop_ref: str,
        *,
        self_built_shop_id: str | None = None,
        refresh_margin_s: float = 3000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.token_store = token_store
        self.shop_ref = shop_ref
        self.self_built_shop_id = str(self_built_shop_id) if self_built_shop_id else None
        self.refresh_margin_s = refresh_margin_s
        self.clock = clock
        self._lock = threading.RLock()

    # -- public -----------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        tokens = self.tokens()
        try:
            return self.client.call(method, params, tokens.access_token)
        except TokenExpired as err:
            _log.info(
                "doudian.token.rejected",
                method=method,
                shop_ref=self.shop_ref,
                sub_code=err.sub_code,
                log_id=err.log_id,
            )
            fresh = self._renew_after_rejection(tokens.access_token)
            return self.client.call(method, params, fresh.access_token)

    def tokens(self) -> TokenSet:
        """A token set with at least ``refresh_margin_s`` of life, if the platform allows."""
        with self._lock:
            tokens = self.token_store.load(self.shop_ref)
            if tokens is None:
                if self.self_built_shop_id is None:
                    raise AuthorizationRequired(
                        f"no token stored for shop {self.shop_ref!r}: the merchant must "
                        "authorise the app (OAuth) first",
                        method="token.create",
                    )
                return self._create()
            if tokens.seconds_left(self.clock()) < self.refresh_margin_s:
                return self._refresh(tokens)
            return tokens

    # -- internals --------------------------------------------------------------------

    def _renew_after_rejection(self, rejected_access_token: str) -> TokenSet:
        with self._lock:
            current = self.token_store.load(self.shop_ref)
            if current is not None and current.access_token != rejected_access_token:
                return current  # another thread/worker already renewed it
            if current is None:
                return self.tokens()
            fresh = self._refresh(current)
            if fresh.access_token == rejected_access_token and self.self_built_shop_id:
                _log.warning("doudian.token.refresh_returned_rejected_token", shop_ref=self.shop_ref)
                fresh = self._create()
            return fresh

    def _create(self) -> TokenSet:
        assert self.self_built_shop_id is not None
        tokens = self.client.create_token(shop_id=self.self_built_shop_id)
        self.token_store.save(self.shop_ref, tokens)
        _log.info("doudian.token.created", shop_ref=self.shop_ref, expires_at=tokens.expires_at)
        return tokens

    def _reauthorise(self, reason: str, cause: Exception | None = None) -> TokenSet:
        if self.self_built_shop_id:
            _log.warning("doudian.token.recreate", shop_ref=self.shop_ref, reason=reason)
            return self._create()
        err = AuthorizationRequired(
            f"{reason}; the merchant must re-authorise the app for shop {self.shop_ref!r}",
            method="token.refresh",
        )
        if cause is not None:
            raise err from cause
        raise err

    def _refresh(self, old: TokenSet) -> TokenSet:
        if self.clock() >= old.refresh_expires_at:
            return self._reauthorise("the refresh token is past its 14-day lifetime")
        try:
            new = self.client.refresh_token(old.refresh_token)
        except RefreshTokenDead as err:
            return self._reauthorise(f"the refresh token was rejected ({err.sub_code})", err)
        if new.refresh_token == old.refresh_token:
            # Same pair handed back (refresh > 1 h before expiry): its lifetime did not restart.
            new = replace(new, refresh_expires_at=min(new.refresh_expires_at, old.refresh_expires_at))
        new = replace(
            new,
            shop_id=new.shop_id or old.shop_id,
            shop_name=new.shop_name or old.shop_name,
            scope=new.scope or old.scope,
            authority_id=new.authority_id or old.authority_id,
        )
        self.token_store.save(self.shop_ref, new)
        _log.info(
            "doudian.token.refreshed",
            shop_ref=self.shop_ref,
            expires_at=new.expires_at,
            changed=new.access_token != old.access_token,
        )
        return new
