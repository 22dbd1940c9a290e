"""Sign-in, CSRF and security headers for the console and the API.

Pure ASGI middlewares (webhooks pass straight through, untouched and unslowed), and the
form-token check they leave to the route. Who is signed in is read by ``deps.py``.

* Console sessions: the cookie holds a random id; the database keeps only its SHA-256
  (``sessions``), so logout, a password change or "sign out everywhere" end it at once.
  API clients send ``Authorization: Bearer <token>``. Without users everything is open and
  nobody is signed in — which also means nobody may see plain receivers.
* CSRF: a state-changing request from a browser (it carries the session cookie, or an
  Origin / Referer / Sec-Fetch-Site header) must come from this site's own origin and carry
  the CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``), an HMAC of the
  session id (or of a pre-sign-in cookie) under a key derived from the install's key.
  Bearer-token calls and webhooks are exempt: no browser sends those on its own.
* Every response gets frame, sniffing, referrer and content-security headers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from fahuo.bootstrap import Fahuo
from fahuo.services.users import SESSION_S, User, user_by_session, user_by_token, users_exist

COOKIE = "fahuo_session"
CSRF_COOKIE = "fahuo_csrf"  # binds the token before sign-in (the login form)
CSRF_FIELD, CSRF_HEADER = "csrf_token", b"x-csrf-token"
OPEN_PREFIXES = ("/static/", "/webhooks/", "/login", "/healthz", "/metrics",
                 "/docs", "/openapi.json", "/favicon.ico")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Only this site's own files (the /docs page included: Swagger UI comes from static/vendor);
# the print component listens on this computer's loopback; the "authorise" button's redirect
# goes to the Douyin service market.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self' ws://localhost:* ws://127.0.0.1:* "
       "wss://localhost:* wss://127.0.0.1:*; object-src 'none'; base-uri 'none'; "
       "form-action 'self' https://fuwu.jinritemai.com; frame-ancestors 'none'")
HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin")]


def _cookie(headers: list[tuple[bytes, bytes]], name: str = COOKIE) -> str | None:
    for k, v in headers:
        if k == b"cookie":
            for part in v.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == name:
                    return val
    return None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k == name), None)


def is_https(scope: Mapping[str, Any], trust_proxy: bool) -> bool:
    """Served over https: the request's own scheme, or a trusted proxy's X-Forwarded-Proto."""
    if scope.get("scheme") == "https":
        return True
    if trust_proxy:
        proto = _header(scope["headers"], b"x-forwarded-proto") or ""
        return proto.split(",")[0].strip().lower() == "https"
    return False


def _own_origins(scope: dict, fh: Fahuo) -> set[str]:
    trust = fh.settings.trust_proxy_headers
    host = ((_header(scope["headers"], b"x-forwarded-host") if trust else None)
            or _header(scope["headers"], b"host") or "")
    host = host.split(",")[0].strip().lower()
    scheme = "https" if is_https(scope, trust) else "http"
    out = {f"{scheme}://{host}"}
    if fh.settings.public_url:
        p = urlsplit(fh.settings.public_url)
        out.add(f"{p.scheme}://{p.netloc}".lower())
    return out


def csrf_token(fh: Fahuo, binding: str) -> str:
    return hmac.new(fh.box.derive("csrf"), binding.encode(), hashlib.sha256).hexdigest()


def _refuse_csrf(path: str, why: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    msg = "请求被拒绝：来源不是本站或表单已过期，请刷新页面后重试"
    if path.startswith("/api/"):
        return 403, [(b"content-type", b"application/json")], json.dumps(
            {"message": f"{msg} (CSRF: {why})"}, ensure_ascii=False).encode()
    return 403, [(b"content-type", b"text/html; charset=utf-8")], (
        f'<!doctype html><meta charset="utf-8"><title>403</title>'
        f'<p>{msg}</p><p><a href="/">返回</a></p>').encode()


class Guard:
    """ASGI middleware: security headers on every response, and the CSRF check.

    The Origin/Referer check and a token sent as a header are checked here; a token in a
    form field is checked by :func:`check_form_token` once the route has read its form
    (``scope["state"]["csrf_pending"]``), so file uploads are not buffered twice.
    """

    def __init__(self, app: Any, container: Callable[[], Fahuo]) -> None:
        self.app, self.container = app, container

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if path.startswith("/webhooks/"):  # signed by the platform / provider instead
            return await self.app(scope, receive, self._with_headers(send, path, None))
        fh = self.container()
        headers = scope["headers"]
        session, anon = _cookie(headers, COOKIE), _cookie(headers, CSRF_COOKIE)
        new_anon = None
        if not session and not anon:
            anon = new_anon = secrets.token_urlsafe(24)
        binding = f"s:{session}" if session else f"a:{anon}"
        token = csrf_token(fh, binding)
        state = scope.setdefault("state", {})
        state["csrf"] = token
        cookie = None
        if new_anon:
            cookie = (f"{CSRF_COOKIE}={new_anon}; Path=/; HttpOnly; SameSite=Lax"
                      + ("; Secure" if is_https(scope, fh.settings.trust_proxy_headers)
                         else "")).encode()
        if scope["method"] not in SAFE_METHODS:
            why = self._check(scope, fh, session, token)
            if why:
                status, hdrs, body = _refuse_csrf(path, why)
                out = self._with_headers(send, path, None)
                await out({"type": "http.response.start", "status": status, "headers": hdrs})
                return await out({"type": "http.response.body", "body": body})
        return await self.app(scope, receive, self._with_headers(send, path, cookie))

    @staticmethod
    def _check(scope: dict, fh: Fahuo, session: str | None, token: str) -> str | None:
        """Why the request is refused, or None (maybe leaving a form token to be checked)."""
        headers = scope["headers"]
        if (_header(headers, b"authorization") or "").lower().startswith("bearer "):
            return None  # a browser never adds this header to another site's request
        origin = _header(headers, b"origin")
        referer = _header(headers, b"referer")
        fetch_site = _header(headers, b"sec-fetch-site")
        own = _own_origins(scope, fh)
        if origin is not None:
            if origin.lower() not in own:
                return f"origin {origin} is not this site"
        elif referer:
            p = urlsplit(referer)
            if f"{p.scheme}://{p.netloc}".lower() not in own:
                return "referer is not this site"
        if fetch_site == "cross-site":
            return "cross-site request"
        if not (session or origin is not None or referer or fetch_site):
            return None  # no browser and no cookie: nothing another site could borrow
        sent = _header(headers, CSRF_HEADER)
        if sent is not None:
            return None if hmac.compare_digest(sent, token) else "wrong CSRF token"
        ctype = (_header(headers, b"content-type") or "").split(";")[0].strip().lower()
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            scope["state"]["csrf_pending"] = True  # the route's form holds the token
            return None
        return "CSRF token missing (send the X-CSRF-Token header)"

    @staticmethod
    def _with_headers(send: Callable, path: str, cookie: bytes | None) -> Callable:
        csp = CSP  # one policy for every path, /docs included (no inline code there either)

        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                hdrs = list(message.get("headers", []))
                names = {k.lower() for k, _ in hdrs}
                hdrs += [h for h in HEADERS if h[0] not in names]
                if b"content-security-policy" not in names:
                    hdrs.append((b"content-security-policy", csp.encode()))
                ctype = next((v for k, v in hdrs if k.lower() == b"content-type"), b"")
                if cookie and ctype.startswith(b"text/html"):  # pages that hold a form
                    hdrs.append((b"set-cookie", cookie))
                message = {**message, "headers": hdrs}
            await send(message)
        return wrapped


class CsrfRefused(Exception):
    pass


async def check_form_token(request: Request) -> None:
    """App-wide dependency: the form token, when :class:`Guard` left it to the route."""
    if not request.scope.get("state", {}).get("csrf_pending"):
        return
    form = await request.form()  # cached on the request: the route reads the same form
    sent = str(form.get(CSRF_FIELD, ""))
    if not hmac.compare_digest(sent, request.scope["state"]["csrf"]):
        raise CsrfRefused("CSRF token missing or wrong")


def csrf_refused_response(request: Any, exc: Exception) -> Any:
    from starlette.responses import Response
    status, hdrs, body = _refuse_csrf(request.url.path, str(exc))
    return Response(body, status, headers={k.decode(): v.decode() for k, v in hdrs})


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
        return user_by_session(fh.uow, value) if value else None

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


__all__ = ["COOKIE", "CSRF_COOKIE", "CSRF_FIELD", "CsrfRefused", "Guard", "SESSION_S",
           "SignInRequired", "check_form_token", "csrf_refused_response", "csrf_token",
           "is_https"]
