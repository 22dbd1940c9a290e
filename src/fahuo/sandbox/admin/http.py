"""What every admin handler shares: JSON replies, the request body, required fields, 400 on bad input."""
from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core import Sandbox


def jres(obj: Any, status: int = 200) -> Response:
    return Response(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json; charset=utf-8")


class BadRequest(Exception):
    pass


async def body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        obj = json.loads(raw)
    except ValueError:
        raise BadRequest("body is not JSON") from None
    if not isinstance(obj, dict):
        raise BadRequest("body must be a JSON object")
    return obj


def sandbox_of(request: Request) -> Sandbox:
    return request.app.state.sandbox


def need(body: dict[str, Any], *names: str) -> None:
    for n in names:
        if body.get(n) in (None, ""):
            raise BadRequest(f"missing {n}")


def app_of(sb: Sandbox, key: Any) -> dict[str, Any]:
    if key not in sb.apps:
        raise BadRequest(f"unknown app_key {key}")
    return sb.apps[key]


def handle_errors(fn):
    async def wrapper(request: Request) -> Response:
        try:
            return await fn(request)
        except (BadRequest, ValueError, TypeError) as exc:
            return jres({"error": str(exc)}, 400)

    return wrapper


def shop_q(request: Request) -> int:
    shop_id = request.query_params.get("shop_id")
    if not shop_id:
        raise BadRequest("missing shop_id")
    return int(shop_id)


def opt_int(b: dict[str, Any], name: str) -> int | None:
    v = b.get(name)
    if v in (None, ""):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).strip().isdigit():
        raise BadRequest(f"{name} must be an integer")
    return int(v)


def req_int(b: dict[str, Any], name: str) -> int:
    v = opt_int(b, name)
    if v is None:
        raise BadRequest(f"{name} is required")
    return v
