"""The REST API (``/api/…``, documented at ``/docs``): one router per area, joined here."""

from __future__ import annotations

from fastapi import APIRouter

from fahuo.entrypoints.web.api import (
    aftersales, handover, orders, printing, report, reservations, shipping, shops, stock,
    tracking, users,
)

router = APIRouter(prefix="/api", tags=["api"],
                   responses={400: {"description": "the request body is not valid JSON"}})
for area in (orders, shops, shipping, printing, handover, tracking, stock, aftersales,
             reservations, report, users):
    router.include_router(area.router)
