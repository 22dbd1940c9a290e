"""The fahuo web app: REST API (OpenAPI at /docs), push webhooks, and the console.

This module only builds the app; each area's handlers are routers of their own
(``api/<area>.py``, ``console/<area>.py``, ``webhooks.py``, ``ops.py``) and what they share
(the wired app, the signed-in person, who acts, roles) comes from ``deps.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from fahuo.bootstrap import Fahuo, get_app
from fahuo.entrypoints.web import api, api_docs, console, errors, ops, webhooks
from fahuo.entrypoints.web.middleware import (
    CsrfRefused, Guard, SignInRequired, check_form_token, csrf_refused_response,
)

HERE = Path(__file__).parent


def create_app(app: Fahuo | None = None, *, embedded_worker: bool | None = None) -> FastAPI:
    """The ASGI app over ``app`` (default: the process's own, read when first needed)."""
    container = app

    def c() -> Fahuo:
        return container or get_app()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        consumer = None
        run_worker = (c().settings.embedded_worker if embedded_worker is None
                      else embedded_worker)
        if run_worker:
            from fahuo.entrypoints.worker import start_embedded
            consumer = start_embedded()
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)

    web = FastAPI(title="fahuo 发货", version="0.1.0", lifespan=lifespan,
                  description="Shipping automation for Douyin shops: API, push webhooks, console.",
                  dependencies=[Depends(check_form_token)],
                  # /docs is served from local files by api_docs.py; no ReDoc (it needs a CDN)
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None)
    web.state.container = c
    web.add_exception_handler(CsrfRefused, csrf_refused_response)
    web.add_exception_handler(RequestValidationError, errors.validation_error)
    web.add_exception_handler(StarletteHTTPException, errors.http_error)
    static = HERE / "static"
    static.mkdir(exist_ok=True)
    web.mount("/static", StaticFiles(directory=str(static)), name="static")
    web.include_router(webhooks.router)
    web.include_router(api.router)
    web.include_router(ops.router)
    web.include_router(api_docs.router)
    web.include_router(console.router)
    web.add_middleware(SignInRequired, container=c)
    web.add_middleware(Guard, container=c)  # outermost: headers on every answer
    return web
