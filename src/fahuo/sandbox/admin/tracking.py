"""Admin of the couriers: Kuaidi100 accounts, anomalies and their rates, push faults, ticks, stats, timelines."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .http import body, handle_errors, jres, need, sandbox_of


@handle_errors
async def k100_accounts(request: Request) -> Response:
    b = await body(request)
    return jres(sandbox_of(request).couriers.create_account(b.get("customer") or None, b.get("key") or None,
                                                     b.get("secret") or None))


@handle_errors
async def tracking_anomaly(request: Request) -> Response:
    b = await body(request)
    need(b, "track_no", "kind")
    try:
        return jres(await run_in_threadpool(sandbox_of(request).couriers.set_anomaly, str(b["track_no"]), str(b["kind"])))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)


@handle_errors
async def tracking_rates(request: Request) -> Response:
    return jres(sandbox_of(request).couriers.set_rates(await body(request)))


@handle_errors
async def tracking_character(request: Request) -> Response:
    """Per-courier pace by province, per-courier anomaly rates, fast-forward (``couriers.character``)."""
    return jres(sandbox_of(request).couriers.set_character(await body(request)))


@handle_errors
async def aftersales_buyers(request: Request) -> Response:
    """Buyers' after-sales on signed parcels, per product (``aftersales.buyers``)."""
    return jres(sandbox_of(request).couriers.buyers.configure(await body(request)))


@handle_errors
async def tracking_faults(request: Request) -> Response:
    return jres(sandbox_of(request).couriers.set_faults(await body(request)))


async def tracking_faults_clear(request: Request) -> Response:
    return jres(sandbox_of(request).couriers.set_faults({}))


async def tracking_tick(request: Request) -> Response:
    return jres(await run_in_threadpool(sandbox_of(request).couriers.tick))


async def tracking_stats(request: Request) -> Response:
    return jres(await run_in_threadpool(sandbox_of(request).couriers.stats_view))


async def tracking_view(request: Request) -> Response:
    try:
        return jres(await run_in_threadpool(sandbox_of(request).couriers.view, request.path_params["track_no"]))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)
