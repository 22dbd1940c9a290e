"""Pushes from the outside: Douyin order messages and courier tracking (Kuaidi100, Kdniao).

Open to the internet: no sign-in, no CSRF (each is signed by its sender instead), bodies
capped before they are read, stored before the answer, the work handed to the worker.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from prometheus_client import Counter
from starlette.concurrency import run_in_threadpool

from fahuo.bootstrap import Fahuo
from fahuo.entrypoints.web.deps import MAX_ID, FahuoDep, enqueue
from fahuo.services.push import PushRejected, accept_push

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

PUSHES = Counter("fahuo_push_messages_total", "push messages received", ["result"])
TRACK_PUSHES = Counter("fahuo_tracking_pushes_total", "courier pushes received",
                       ["provider", "result"])
JSON_UTF8 = "application/json;charset=utf-8"
TOO_LARGE = {"kuaidi100": '{"result":false,"returnCode":"413","message":"too large"}',
             "kdniao": '{"Success":false,"Reason":"too large"}'}


def _store_push(fh: Fahuo, raw: bytes, app_id: str | None, sign: str | None) -> Any:
    with fh.uow() as uow:
        return accept_push(uow, raw, app_id, sign, uow.shops.app_secrets())


@router.post("/webhooks/doudian")
async def doudian_push(request: Request, fh: FahuoDep) -> JSONResponse:
    limit = fh.settings.webhook_max_body
    declared = request.headers.get("content-length")
    try:
        if declared and declared.isdigit() and int(declared) > limit:
            raise PushRejected(413, f"push body of {declared} bytes exceeds {limit}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PushRejected(413, f"push body exceeds {limit} bytes")
            chunks.append(chunk)
        raw = b"".join(chunks)
        # The store is blocking work: in the thread pool, so one slow insert never
        # stalls every other request on the event loop.
        accepted = await run_in_threadpool(_store_push, fh, raw,
                                           request.headers.get("app-id"),
                                           request.headers.get("event-sign"))
    except PushRejected as exc:
        PUSHES.labels("rejected").inc()
        log.warning("push_rejected", status=exc.status, reason=exc.reason,
                    app_id=request.headers.get("app-id"),
                    client=request.client.host if request.client else None)
        return JSONResponse({"code": exc.status, "msg": exc.reason}, status_code=exc.status)
    PUSHES.labels("stored").inc(accepted.stored)
    PUSHES.labels("duplicate").inc(accepted.duplicates)
    if accepted.stored:
        enqueue("process_inbox_task")
    return JSONResponse({"code": 0, "msg": "success"})


async def _capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"),
                                          keep_blank_values=True).items()}


def _merge_soon(request: Request) -> None:
    # One merge task per second per app covers every push stored meanwhile (a queue write
    # per push would cost more than storing the push).
    state = request.app.state
    now = time.monotonic()
    if now - getattr(state, "last_merge_enqueue", 0.0) >= 1.0:
        state.last_merge_enqueue = now
        enqueue("tracking_pushes_task")


async def _courier_push(request: Request, fh: Fahuo, provider: str, account_id: int
                        ) -> Response:
    raw = await _capped_body(request, fh.settings.webhook_max_body)
    if raw is None:
        return Response(TOO_LARGE[provider], 413, media_type=JSON_UTF8)
    # stored in the thread pool, as the Douyin push is: a slow insert never stalls requests
    status, body = await run_in_threadpool(fh.tracking.accept_push, provider, account_id,
                                           _form(raw))
    TRACK_PUSHES.labels(provider, "stored" if status == 200 else "rejected").inc()
    if status == 200:
        _merge_soon(request)
    return Response(body, status, media_type=JSON_UTF8)


@router.post("/webhooks/kuaidi100/{account_id}")
async def kuaidi100_push(request: Request, fh: FahuoDep,
                         account_id: int = PathParam(ge=1, le=MAX_ID)) -> Response:
    """Kuaidi100 subscription push (form `param` + `sign`); stored once, then merged."""
    return await _courier_push(request, fh, "kuaidi100", account_id)


@router.post("/webhooks/kdniao/{account_id}")
async def kdniao_push(request: Request, fh: FahuoDep,
                      account_id: int = PathParam(ge=1, le=MAX_ID)) -> Response:
    """Kdniao push (RequestType 101, `RequestData` + `DataSign`)."""
    return await _courier_push(request, fh, "kdniao", account_id)
