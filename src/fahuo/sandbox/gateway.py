"""Open-platform gateway: common-parameter checks, signature, auth, method registry (§1–§5).

Error choices (documented in README-like docstring of :mod:`fahuo.sandbox`):

* unknown method → 40003 ``isv.parameter-invalid:method`` (sub_msg names the method);
* ``method`` query param differs from the path → 40003 ``isv.parameter-invalid:method``;
* ``app_key`` not 19 digits or not registered → 40003 ``isv.app-id-invalid``.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Callable

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .core import WINDOW_90D, ApiError, Sandbox
from .signing import TimestampFormatError, parse_timestamp, verify_request_sign

TIMESTAMP_SKEW = 600  # seconds, per the old guide (§3)


class Raw(str):
    """Already-serialised JSON for ``data`` (avoids re-encoding stored order blobs)."""


@dataclass
class Ctx:
    sb: Sandbox
    app: dict[str, Any]
    method: str
    shop_id: int | None
    now: float

    @property
    def shop(self) -> int:
        """The token's shop: every method that needs a token has one."""
        if self.shop_id is None:
            raise RuntimeError(f"{self.method} ran without a shop token")
        return self.shop_id


@dataclass
class MethodSpec:
    name: str
    handler: Callable[[Ctx, dict[str, Any]], Any]
    needs_token: bool = True


REGISTRY: dict[str, MethodSpec] = {}


def api_method(name: str, *, needs_token: bool = True):
    """Register a gateway method handler: ``handler(ctx, params) -> data | Raw``."""

    def deco(fn):
        REGISTRY[name] = MethodSpec(name, fn, needs_token)
        return fn

    return deco


def _dumps(data: Any) -> str:
    """Compact UTF-8 JSON; orjson first (every answer passes here), the stdlib for what orjson
    refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _envelope(code: int, msg: str, sub_code: str, sub_msg: str, data_json: str, log_id: str) -> bytes:
    head = orjson.dumps({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg,
                         "err_no": 0 if code == 10000 else code,
                         "message": msg if code != 10000 else "success", "log_id": log_id})
    return head[:-1] + b',"data":' + data_json.encode("utf-8") + b"}"


def _json_response(body: bytes) -> Response:
    return Response(body, status_code=200, media_type="application/json; charset=utf-8")


def _error_response(sb: Sandbox, method: str, err: ApiError) -> Response:
    sb.record_call(method, err.code)
    return _json_response(_envelope(err.code, err.msg, err.sub_code, err.sub_msg, "{}", sb.next_log_id()))


def _check_common(sb: Sandbox, path_method: str, q: Any, param_json: str) -> tuple[dict[str, Any], MethodSpec, int | None]:
    app_key = q.get("app_key")
    if not app_key:
        raise ApiError(40001, "isv.app-id-missing", "缺少app_key参数")
    if not (len(app_key) == 19 and app_key.isdigit() and app_key.isascii()):
        raise ApiError(40003, "isv.app-id-invalid", "app_key非法，应为19位纯数字")
    app = sb.apps.get(app_key)
    if app is None:
        raise ApiError(40003, "isv.app-id-invalid", "app_key不存在")
    method = q.get("method")
    if not method:
        raise ApiError(40001, "isv.parameter-missing:method", "缺少method参数")
    if method != path_method:
        raise ApiError(40003, "isv.parameter-invalid:method", f"method参数[{method}]与请求路径不一致")
    spec = REGISTRY.get(method)
    if spec is None:
        raise ApiError(40003, "isv.parameter-invalid:method", f"不存在的方法名: {method}")
    v = q.get("v")
    if v is None or v == "":
        raise ApiError(40001, "isv.parameter-missing:v", "缺少v参数")
    if v != "2":
        raise ApiError(40003, "isv.parameter-invalid:v", "v参数非法，应为2")
    ts = q.get("timestamp")
    if not ts:
        raise ApiError(40001, "isv.parameter-missing:timestamp", "缺少timestamp参数")
    try:
        ts_value = parse_timestamp(ts)
    except TimestampFormatError:
        raise ApiError(40003, "isv.timestamp-format-error", "timestamp格式错误") from None
    sign_method = q.get("sign_method") or "md5"
    if sign_method not in ("md5", "hmac-sha256"):
        raise ApiError(40003, "isv.parameter-invalid:sign_method", "sign_method非法，仅支持md5和hmac-sha256")
    given = q.get("sign")
    if not given:
        raise ApiError(40001, "isv.signature-missing", "缺少sign参数")
    if not sb.limiter.allow(app_key, app["qps"]):
        raise ApiError(60000, "isv.traffic-limited", "请求太频繁，请稍后重试", msg="请求太频繁，请稍后重试")
    if not verify_request_sign(app_key, app["app_secret"], method, param_json, ts, sign_method, given):
        raise ApiError(40003, "isv.signature-invalid", "签名错误")
    if abs(ts_value - sb.now()) > TIMESTAMP_SKEW:
        raise ApiError(40003, "isv.timestamp-invalid", "timestamp与服务器时间相差超过10分钟")
    shop_id = None
    if spec.needs_token:
        token = q.get("access_token")
        if not token:
            raise ApiError(40001, "isv.access-token-missing", "缺少access_token参数")
        shop_id = sb.check_token(app_key, token)
    return app, spec, shop_id


async def gateway(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    path_method = request.path_params["path"].strip("/").replace("/", ".")
    try:
        body = await request.body()
    except ClientDisconnect:  # the caller went away (killed, timed out): nothing to answer
        return Response(status_code=499)
    q = request.query_params
    if body.strip():
        try:
            param_json = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error_response(sb, path_method, ApiError(40003, "isv.parameter-format-invalid", "请求体不是UTF-8"))
    else:
        param_json = q.get("param_json", "")
    try:
        app, spec, shop_id = _check_common(sb, path_method, q, param_json)
        latency, fault = sb.fault_for(app["app_key"])
        if latency:
            await asyncio.sleep(latency)
        if fault:
            raise fault
        try:
            params = json.loads(param_json) if param_json.strip() else {}
        except ValueError:
            raise ApiError(40003, "isv.parameter-format-invalid", "param_json不是合法的JSON") from None
        if not isinstance(params, dict):
            raise ApiError(40003, "isv.parameter-format-invalid", "param_json必须是JSON对象")
        ctx = Ctx(sb, app, spec.name, shop_id, sb.now())
        data = spec.handler(ctx, params)
    except ApiError as err:
        return _error_response(sb, path_method, err)
    sb.record_call(path_method, 10000)
    data_json = data if isinstance(data, Raw) else _dumps(data)
    return _json_response(_envelope(10000, "success", "", "", data_json, sb.next_log_id()))


def window_floor(ctx: Ctx) -> int:
    return int(ctx.now) - WINDOW_90D
