"""ASGI app factory."""
from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.routing import Route

from .admin.routes import ROUTES
from .core import Sandbox
from .gateway import gateway

# imported for their @api_method registrations
from . import methods, privacy  # noqa: F401
from .aftersales import intercept, wire  # noqa: F401
from .couriers import douyin  # noqa: F401
from .logistics import printing, reach, shipping, waybills  # noqa: F401
from .stock import sync  # noqa: F401


def create_app(db_path: str, *, clock_offset: float = 0.0) -> Starlette:
    """A strict local Douyin open platform. State lives in the SQLite file ``db_path``.

    ``app.state.sandbox`` is the :class:`~fahuo.sandbox.core.Sandbox` (for in-process tests).
    """
    sb = Sandbox(db_path, clock_offset=clock_offset)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        sb.start()
        try:
            yield
        finally:
            sb.stop()

    app = Starlette(routes=ROUTES + [Route("/{path:path}", gateway, methods=["POST", "GET"])], lifespan=lifespan)
    app.state.sandbox = sb
    return app
