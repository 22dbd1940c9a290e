"""Independent signing client for sandbox integration tests (does not use fahuo's client)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx


def canon(params: dict[str, Any]) -> str:
    def srt(o):
        if isinstance(o, dict):
            return {k: srt(o[k]) for k in sorted(o)}
        if isinstance(o, list):
            return [srt(x) for x in o]
        return o
    return json.dumps(srt(params), ensure_ascii=False, separators=(",", ":"))


def make_sign(app_key: str, secret: str, method: str, pj: str, ts: str, sign_method: str = "hmac-sha256") -> str:
    wrapped = f"{secret}app_key{app_key}method{method}param_json{pj}timestamp{ts}v2{secret}".encode()
    if sign_method == "md5":
        return hashlib.md5(wrapped).hexdigest()
    return hmac.new(secret.encode(), wrapped, hashlib.sha256).hexdigest()


class Client:
    def __init__(self, base: str, app: dict[str, Any]):
        self.base = base
        self.app = app
        self.key = app["app_key"]
        self.secret = app["app_secret"]
        self.http = httpx.Client(base_url=base, timeout=300, trust_env=False)
        self.token: str | None = None
        self.offset = 0.0  # mirror of the sandbox clock offset (for time-travel tests)

    def travel(self, offset_seconds: float) -> None:
        self.admin("/sandbox/clock", {"offset_seconds": offset_seconds})
        self.offset = offset_seconds

    def close(self) -> None:
        self.http.close()

    def admin(self, path: str, body: Any = None, method: str = "POST") -> Any:
        r = self.http.request(method, path, json=body) if body is not None else self.http.request(method, path)
        assert r.status_code == 200, r.text
        return r.json()

    def raw(self, method: str, params: dict[str, Any] | None = None, *, body: str | None = None,
            ts: str | None = None, sign_method: str | None = "hmac-sha256", sign: str | None = "auto",
            access_token: str | None = "auto", drop: tuple[str, ...] = (), extra: dict[str, str] | None = None,
            path: str | None = None, sign_pj: str | None = None, app_key: str | None = None,
            secret: str | None = None) -> dict[str, Any]:
        pj = body if body is not None else canon(params or {})
        ts = ts if ts is not None else str(int(time.time() + self.offset))
        key = app_key or self.key
        q: dict[str, str] = {"app_key": key, "method": method, "timestamp": ts, "v": "2"}
        if sign_method is not None:
            q["sign_method"] = sign_method
        if sign == "auto":
            sign = make_sign(key, secret or self.secret, method, sign_pj if sign_pj is not None else pj, ts,
                             sign_method or "md5")
        if sign is not None:
            q["sign"] = sign
        if access_token == "auto":
            access_token = None if method.startswith("token.") else self.token
        if access_token is not None:
            q["access_token"] = access_token
        for d in drop:
            q.pop(d, None)
        q.update(extra or {})
        r = self.http.post("/" + (path or method.replace(".", "/")), params=q, content=pj.encode("utf-8"),
                           headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        return r.json()

    def call(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        res = self.raw(method, params, **kw)
        assert res["code"] == 10000, res
        return res["data"]

    def login(self) -> dict[str, Any]:
        data = self.call("token.create", {"grant_type": "authorization_self", "code": "",
                                          "shop_id": self.app["shop_id"]})
        self.token = data["access_token"]
        return data


# ---------------------------------------------------------------------------- fixtures
import http.server  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def sb_url(tmp_path_factory):
    from fahuo.sandbox.testing import run_sandbox
    with run_sandbox(str(tmp_path_factory.mktemp("sandbox") / "sb.db")) as url:
        yield url


@pytest.fixture
def fresh_url(tmp_path):
    """A private sandbox (for tests that move the clock or change global state)."""
    from fahuo.sandbox.testing import run_sandbox
    with run_sandbox(str(tmp_path / "fresh.db")) as url:
        yield url


@pytest.fixture
def h():
    return sys.modules[__name__]


def _client_factory(url):
    made = []

    def make(**app_fields) -> Client:
        r = httpx.post(url + "/sandbox/apps", json=app_fields, trust_env=False)
        assert r.status_code == 200, r.text
        c = Client(url, r.json())
        made.append(c)
        return c

    return make, made


@pytest.fixture
def new_client(sb_url):
    make, made = _client_factory(sb_url)
    yield make
    for c in made:
        c.close()


@pytest.fixture
def fresh_client(fresh_url):
    make, made = _client_factory(fresh_url)
    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(new_client) -> Client:
    c = new_client()
    c.login()
    return c


class Receiver:
    """A tiny push receiver: records raw bodies + headers, fails the first ``fail_first`` posts with 500."""

    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with rec.lock:
                    fail = len(rec.requests) < rec.fail_first
                    status = 500 if fail else 200
                    rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                payload = b'{"code":1,"msg":"fail"}' if fail else b'{"code":0,"msg":"success"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ok_messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for _, b, s in self.requests if s == 200 for m in json.loads(b)]

    def wait_for(self, pred, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self):
                return True
            time.sleep(0.05)
        return pred(self)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(fail_first: int = 0) -> Receiver:
        r = Receiver(fail_first)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()
