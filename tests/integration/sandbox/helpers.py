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
        self.http = httpx.Client(base_url=base, timeout=30, trust_env=False)
        self.token: str | None = None

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
        ts = ts if ts is not None else str(int(time.time()))
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
