"""Admin of the platform itself: apps, authorisation codes, orders, order profiles, push, faults, clock, stats."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..profiles import ProfileRunner
from .http import BadRequest, app_of, body, handle_errors, jres, need, sandbox_of


@handle_errors
async def apps_create(request: Request) -> Response:
    b = await body(request)
    sb = sandbox_of(request)
    return jres(sb.create_app(app_key=b.get("app_key"), app_secret=b.get("app_secret"), shop_id=b.get("shop_id"),
                              shop_name=b.get("shop_name"), qps=b.get("qps")))


@handle_errors
async def apps_qps(request: Request) -> Response:
    b = await body(request)
    need(b, "app_key", "qps")
    sb = sandbox_of(request)
    app_of(sb, b["app_key"])
    sb.set_qps(b["app_key"], float(b["qps"]))
    return jres({"app_key": b["app_key"], "qps": float(b["qps"])})


@handle_errors
async def oauth_code(request: Request) -> Response:
    b = await body(request)
    need(b, "app_key", "shop_id")
    sb = sandbox_of(request)
    app_of(sb, b["app_key"])
    return jres(sb.issue_code(b["app_key"], int(b["shop_id"]), b.get("shop_name")))


@handle_errors
async def orders_generate(request: Request) -> Response:
    b = await body(request)
    need(b, "shop_id", "count")
    profile = b.get("profile") or "steady"
    if profile not in ("steady", "spike"):
        raise BadRequest("profile must be steady or spike")
    sb = sandbox_of(request)
    res = await run_in_threadpool(sb.orders.generate, int(b["shop_id"]), int(b["count"]), b.get("seed"),
                                  float(b.get("spread_seconds", 3 * 86400)), profile)
    return jres(res)


@handle_errors
async def orders_mutate(request: Request) -> Response:
    b = await body(request)
    need(b, "shop_id", "count")
    sb = sandbox_of(request)
    return jres(await run_in_threadpool(sb.orders.mutate, int(b["shop_id"]), int(b["count"]), b.get("seed")))


@handle_errors
async def orders_repeat_buyer(request: Request) -> Response:
    b = await body(request)
    need(b, "order_id", "count")
    return jres(await run_in_threadpool(sandbox_of(request).orders.repeat_buyer, int(b["order_id"]), int(b["count"]),
                                        b.get("seed")))


@handle_errors
async def orders_change(request: Request) -> Response:
    b = await body(request)
    need(b, "order_id", "kind")
    return jres(await run_in_threadpool(sandbox_of(request).orders.change_order, int(b["order_id"]), str(b["kind"]),
                                        b.get("seed")))


@handle_errors
async def orders_index(request: Request) -> Response:
    shop_id = request.query_params.get("shop_id")
    if not shop_id:
        raise BadRequest("missing shop_id")
    sb = sandbox_of(request)
    return jres(await run_in_threadpool(sb.orders.index, int(shop_id)))


@handle_errors
async def profiles_start(request: Request) -> Response:
    b = await body(request)
    need(b, "shop_id", "profile")
    if b["profile"] not in ("steady", "spike"):
        raise BadRequest("profile must be steady or spike")
    sb = sandbox_of(request)
    shop_id = int(b["shop_id"])
    sb.ensure_shop(shop_id)
    old = sb.profiles.pop(shop_id, None)
    if old:
        await run_in_threadpool(old.stop)
    runner = ProfileRunner(sb, shop_id, b["profile"], b.get("rate_per_s"), b.get("duration_s"))
    sb.profiles[shop_id] = runner
    runner.start()
    return jres(runner.status())


@handle_errors
async def profiles_stop(request: Request) -> Response:
    b = await body(request)
    sb = sandbox_of(request)
    shops = [int(b["shop_id"])] if b.get("shop_id") not in (None, "") else list(sb.profiles)
    out = []
    for s in shops:
        runner = sb.profiles.pop(s, None)
        if runner:
            await run_in_threadpool(runner.stop)
            out.append(runner.status())
    return jres({"stopped": out})


async def profiles_list(request: Request) -> Response:
    return jres([r.status() for r in sandbox_of(request).profiles.values()])


@handle_errors
async def push_config(request: Request) -> Response:
    b = await body(request)
    need(b, "app_key", "url")
    sb = sandbox_of(request)
    app_of(sb, b["app_key"])
    cfg = {k: v for k, v in b.items() if k != "app_key"}
    return jres({"app_key": b["app_key"], **sb.push.configure(b["app_key"], **cfg)})


@handle_errors
async def push_ping(request: Request) -> Response:
    b = await body(request)
    need(b, "app_key")
    sb = sandbox_of(request)
    app_of(sb, b["app_key"])
    if not (sb.push.configs.get(b["app_key"]) or {}).get("url"):
        raise BadRequest("no push url configured for this app")
    return jres(sb.push.ping(b["app_key"]))


@handle_errors
async def faults_set(request: Request) -> Response:
    b = await body(request)
    sb = sandbox_of(request)
    allowed = {"error_rate", "latency_ms", "throttle_burst", "app_key"}
    unknown = set(b) - allowed
    if unknown:
        raise BadRequest(f"unknown fault keys {sorted(unknown)}")
    sb.faults = dict(b)
    return jres(sb.faults)


async def faults_clear(request: Request) -> Response:
    sandbox_of(request).faults = {}
    return jres({})


@handle_errors
async def clock_set(request: Request) -> Response:
    b = await body(request)
    need(b, "offset_seconds")
    sb = sandbox_of(request)
    sb.clock_offset = float(b["offset_seconds"])
    return jres({"offset_seconds": sb.clock_offset, "now": sb.now()})


async def clock_get(request: Request) -> Response:
    sb = sandbox_of(request)
    return jres({"offset_seconds": sb.clock_offset, "now": sb.now()})


async def stats(request: Request) -> Response:
    sb = sandbox_of(request)
    with sb.stats_lock:
        out = {"calls_by_method": dict(sb.calls_by_method), "calls_by_code": dict(sb.calls_by_code),
               "calls_by_method_code": dict(sb.calls_by_method_code)}
    out["push"] = dict(sb.push.stats, pending=sb.push.pending_count())
    return jres(out)


async def stats_reset(request: Request) -> Response:
    sb = sandbox_of(request)
    with sb.stats_lock:
        sb.calls_by_method.clear()
        sb.calls_by_code.clear()
        sb.calls_by_method_code.clear()
    return jres({})
