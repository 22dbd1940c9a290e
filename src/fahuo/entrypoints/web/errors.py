"""Bad URL parameters and missing pages, said in Chinese and naming the field.

Console pages get the console's error page; the API keeps FastAPI's answer (status 422, the
``detail`` list its OpenAPI schema declares) and adds ``message`` in Chinese and ``fields``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.exception_handlers import http_exception_handler

from fahuo.entrypoints.web.console.render import error_page

# Paths that answer machines: JSON, never the console's page.
MACHINE_PREFIXES = ("/api/", "/api", "/webhooks/", "/healthz", "/metrics", "/openapi.json",
                    "/static/")
WHERE = {"query": "网址参数", "path": "网址路径", "body": "提交内容", "header": "请求头",
         "cookie": "Cookie"}


def for_machines(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PREFIXES)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in WHERE else [str(p) for p in loc]
    return ".".join(parts) or "?"


def _why(err: dict[str, Any]) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return "缺少此项"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "应为整数"
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return "应为数字"
    if kind in ("bool_parsing", "bool_type"):
        return "应为是/否（true/false）"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤",
                "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"应{sign} {limit}"
    if kind in ("string_too_long", "too_long"):
        return f"太长（最多 {ctx.get('max_length', '?')}）"
    if kind in ("string_too_short", "too_short"):
        return f"太短（至少 {ctx.get('min_length', '?')}）"
    if kind in ("literal_error", "enum"):
        return f"应为以下之一：{ctx.get('expected', '')}"
    if kind in ("string_pattern_mismatch",):
        return "格式不对"
    if kind in ("json_invalid", "model_attributes_type", "dict_type", "list_type"):
        return "格式不对"
    return "无效"


def describe(errors: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """One Chinese sentence for all the errors, and the fields it names."""
    fields: list[str] = []
    parts: list[str] = []
    for e in errors:
        loc = tuple(e.get("loc") or ())
        f = _field(loc)
        fields.append(f)
        where = WHERE.get(str(loc[0]), "参数") if loc else "参数"
        got = e.get("input")
        shown = f"（收到 “{got}”）" if isinstance(got, (str, int, float)) and e.get(
            "type") != "missing" and len(str(got)) <= 40 else ""
        parts.append(f"{where} {f} {_why(e)}{shown}")
    return "；".join(parts) + "。", fields


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    message, fields = describe(errors)
    if for_machines(request):
        return JSONResponse(status_code=422, content={
            "detail": jsonable_encoder(errors), "message": message, "fields": fields})
    return error_page(request, f"请求有误：{message}", 422)


PAGE_STATUS_ZH = {404: "页面不存在", 405: "不支持这种请求方式", 403: "无权访问"}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if for_machines(request) or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if not detail or detail.isascii():  # Starlette's own English ("Not Found")
        detail = PAGE_STATUS_ZH.get(exc.status_code, f"请求无法完成（{exc.status_code}）")
    return error_page(request, detail, exc.status_code)
