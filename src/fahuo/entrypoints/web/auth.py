"""Sign-in for the console and the API, once the install has users.

A pure ASGI middleware (webhooks pass straight through, untouched and unslowed). Console
sessions are a signed cookie (user id, issue time, HMAC-SHA256 under a key derived from
FAHUO_SECRET_KEY; HttpOnly, SameSite=Lax so other sites cannot post forms with it); API
clients send ``Authorization: Bearer <token>``. Without users everything is open and nobody
is signed in — which also means nobody may see plain receivers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fahuo.bootstrap import Fahuo
from fahuo.services.users import User, user_by_id, user_by_token, users_exist

COOKIE = "fahuo_session"
SESSION_S = 12 * 3600
OPEN_PREFIXES = ("/static/", "/webhooks/", "/oauth/", "/login", "/healthz", "/metrics",
                 "/docs", "/openapi.json", "/redoc", "/favicon.ico")


def _key(fh: Fahuo) -> bytes:
    # From the key the install really uses (FAHUO_SECRET_KEY or data_dir/secret.key).
    return fh.box.derive("session")


def make_session(fh: Fahuo, user: User, now: float | None = None) -> str:
    body = f"{user.id}.{int(now if now is not None else time.time())}"
    sig = hmac.new(_key(fh), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{sig}"


def read_session(fh: Fahuo, value: str, now: float | None = None) -> int | None:
    """The user id in a valid, unexpired session cookie, else None."""
    try:
        uid, issued, sig = value.split(".")
        good = hmac.new(_key(fh), f"{uid}.{issued}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, sig):
            return None
        if (now if now is not None else time.time()) - int(issued) > SESSION_S:
            return None
        return int(uid)
    except (ValueError, AttributeError):
        return None


def _cookie(headers: list[tuple[bytes, bytes]]) -> str | None:
    for k, v in headers:
        if k == b"cookie":
            for part in v.decode("latin-1").split(";"):
                name, _, val = part.strip().partition("=")
                if name == COOKIE:
                    return val
    return None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k == name), None)


class SignInRequired:
    """ASGI middleware: sets ``scope["state"]["user"]`` and turns strangers away."""

    def __init__(self, app: Any, container: Callable[[], Fahuo]) -> None:
        self.app, self.container = app, container
        self._exist = (0.0, False)

    def _users_exist(self, fh: Fahuo) -> bool:
        at, exist = self._exist
        if exist:
            return True  # users are never all deleted from under a running server
        if time.monotonic() - at > 2:
            exist = users_exist(fh.uow)
            self._exist = (time.monotonic(), exist)
        return exist

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        scope.setdefault("state", {})["user"] = None
        if path == "/" or not path.startswith(OPEN_PREFIXES):
            fh = self.container()
            user = self._who(fh, scope["headers"])
            scope["state"]["user"] = user
            if user is None and self._users_exist(fh):
                return await self._refuse(path, scope, send)
        return await self.app(scope, receive, send)

    @staticmethod
    def _who(fh: Fahuo, headers: list[tuple[bytes, bytes]]) -> User | None:
        auth = _header(headers, b"authorization") or ""
        if auth.lower().startswith("bearer "):
            return user_by_token(fh.uow, auth[7:].strip())
        value = _cookie(headers)
        uid = read_session(fh, value) if value else None
        return user_by_id(fh.uow, uid) if uid is not None else None

    @staticmethod
    async def _refuse(path: str, scope: dict, send: Callable) -> None:
        if path.startswith("/api/"):
            body = json.dumps({"message": "请先登录 (sign in, or send Authorization: Bearer "
                                          "<token> from `fahuo user token`)"},
                              ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"www-authenticate", b"Bearer")]})
        else:
            target = path + (("?" + scope["query_string"].decode("latin-1"))
                             if scope.get("query_string") else "")
            body = b""
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", ("/login?next=" + quote(target)).encode())]})
        await send({"type": "http.response.body", "body": body})


def current_user(request: Any) -> User | None:
    return getattr(request.state, "user", None)


def may_see_receiver(request: Any) -> bool:
    user = current_user(request)
    return bool(user and user.may_see_receiver)


__all__ = ["COOKIE", "SESSION_S", "SignInRequired", "current_user", "make_session",
           "may_see_receiver", "read_session"]
