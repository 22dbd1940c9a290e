"""For whoever runs fahuo: a health check and Prometheus metrics (open without sign-in)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fahuo.entrypoints.web.deps import UowDep

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(uow: UowDep) -> dict[str, str]:
    # A read: it must not queue behind a writer for the SQLite write lock.
    with uow(readonly=True) as u:
        u.orders.count_by_state()
    return {"status": "ok"}


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {"text/plain": {}}, "description": "Prometheus metrics"}})
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
