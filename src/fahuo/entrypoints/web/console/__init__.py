"""The console (Jinja2 + htmx pages, outside the OpenAPI schema): one router per area."""

from __future__ import annotations

from fastapi import APIRouter

from fahuo.entrypoints.web.console import (
    aftersales, dashboard, handover, orders, printing, report, reservations, shipping, shops,
    stock, tracking, users,
)

router = APIRouter(include_in_schema=False)
for area in (dashboard, orders, shops, shipping, printing, handover, tracking, stock,
             aftersales, reservations, report, users):
    router.include_router(area.router)
