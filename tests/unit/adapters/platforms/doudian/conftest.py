"""A scripted fake of the Doudian gateway over httpx.MockTransport."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import pytest

from fahuo.adapters.platforms.doudian import AppCredentials, DoudianClient, RetryPolicy

APP_KEY = "3409409348479354011"
APP_SECRET = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
FAST_RETRY = RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.005)


def ok(data: Any = None, log_id: str = "LOG-OK") -> dict:
    return {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "data": data, "log_id": log_id}


def err(code: int, sub_code: str = "", msg: str = "error", sub_msg: str = "detail", log_id: str = "LOG-ERR") -> dict:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "data": None, "log_id": log_id}


def expected_sign(query: dict[str, str], body: str) -> str:
    wrapped = (
        APP_SECRET
        + "app_key" + query["app_key"]
        + "method" + query["method"]
        + "param_json" + body
        + "timestamp" + query["timestamp"]
        + "v" + query["v"]
        + APP_SECRET
    ).encode()
    if query.get("sign_method", "md5") == "hmac-sha256":
        return hmac.new(APP_SECRET.encode(), wrapped, hashlib.sha256).hexdigest()
    return hashlib.md5(wrapped).hexdigest()


@dataclass
class Seen:
    method: str
    url: str  # without the query
    path: str
    query: dict[str, str]
    query_keys: list[str]
    body: bytes
    headers: httpx.Headers

    @property
    def params(self) -> dict:
        return json.loads(self.body)


@dataclass
class FakeGateway:
    """Responses are scripted per API method; unscripted token calls mint tokens."""

    scripts: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    seen: list[Seen] = field(default_factory=list)
    bad_signs: list[Seen] = field(default_factory=list)
    token_counter: int = 0
    expires_in: int = 604800

    def script(self, method: str, *responses: Any) -> None:
        self.scripts[method].extend(responses)

    def calls(self, method: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method]

    def _mint(self, refresh_token: str | None = None) -> dict:
        self.token_counter += 1
        n = self.token_counter
        return ok(
            {
                "access_token": f"access-{n}",
                "refresh_token": f"refresh-{n}",
                "expires_in": self.expires_in,
                "scope": "SCOPE",
                "shop_id": 77001,
                "shop_name": "测试店",
                "authority_id": "",
                "auth_subject_type": "MiniApp",
            }
        )

    def handler(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params.multi_items())
        seen = Seen(
            method=query.get("method", ""),
            url=str(request.url.copy_with(query=None)),
            path=request.url.path,
            query=query,
            query_keys=[k for k, _ in request.url.params.multi_items()],
            body=request.content,
            headers=request.headers,
        )
        self.seen.append(seen)
        if expected_sign(query, request.content.decode()) != query.get("sign"):
            self.bad_signs.append(seen)
            return httpx.Response(200, json=err(40003, "isv.signature-invalid"))
        queue = self.scripts.get(seen.method)
        if queue:
            item = queue.popleft()
            if isinstance(item, Exception):
                raise item
            if isinstance(item, httpx.Response):
                return item
            if callable(item):
                item = item(seen)
            return httpx.Response(200, json=item)
        if seen.method in ("token.create", "token.refresh"):
            return httpx.Response(200, json=self._mint())
        return httpx.Response(200, json=ok({}))


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(gateway: FakeGateway, clock: FakeClock) -> Callable[..., DoudianClient]:
    clients = []

    def factory(**kw: Any) -> DoudianClient:
        creds = kw.pop("creds", None) or AppCredentials(APP_KEY, APP_SECRET)
        kw.setdefault("retry", FAST_RETRY)
        kw.setdefault("clock", clock)
        http = httpx.Client(transport=httpx.MockTransport(gateway.handler))
        client = DoudianClient(creds, http=http, **kw)
        clients.append(http)
        return client

    yield factory
    for http in clients:
        http.close()


@pytest.fixture
def client(make_client) -> DoudianClient:
    return make_client()


@pytest.fixture
def h():
    """Helpers for tests (conftest is not importable under --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(
        ok=ok, err=err, APP_KEY=APP_KEY, APP_SECRET=APP_SECRET, expected_sign=expected_sign,
        FAST_RETRY=FAST_RETRY,
    )
