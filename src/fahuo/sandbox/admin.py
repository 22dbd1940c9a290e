"""Unsigned admin API under ``/sandbox/…`` (JSON in, JSON out)."""
from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .aftersales import cases, intercept
from . import orders
from .core import Sandbox
from .couriers import kuaidi100
from .logistics import shipping, waybills
from .profiles import ProfileRunner
from .stock import sync as stock_sync


def jres(obj: Any, status: int = 200) -> Response:
    return Response(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json; charset=utf-8")


class BadRequest(Exception):
    pass


async def _body(request: Request) -> dict[str, Any]:
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


def _sb(request: Request) -> Sandbox:
    return request.app.state.sandbox


def _need(body: dict[str, Any], *names: str) -> None:
    for n in names:
        if body.get(n) in (None, ""):
            raise BadRequest(f"missing {n}")


def _app(sb: Sandbox, key: Any) -> dict[str, Any]:
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


@handle_errors
async def apps_create(request: Request) -> Response:
    b = await _body(request)
    sb = _sb(request)
    return jres(sb.create_app(app_key=b.get("app_key"), app_secret=b.get("app_secret"), shop_id=b.get("shop_id"),
                              shop_name=b.get("shop_name"), qps=b.get("qps")))


@handle_errors
async def apps_qps(request: Request) -> Response:
    b = await _body(request)
    _need(b, "app_key", "qps")
    sb = _sb(request)
    _app(sb, b["app_key"])
    sb.set_qps(b["app_key"], float(b["qps"]))
    return jres({"app_key": b["app_key"], "qps": float(b["qps"])})


@handle_errors
async def oauth_code(request: Request) -> Response:
    b = await _body(request)
    _need(b, "app_key", "shop_id")
    sb = _sb(request)
    _app(sb, b["app_key"])
    return jres(sb.issue_code(b["app_key"], int(b["shop_id"]), b.get("shop_name")))


@handle_errors
async def orders_generate(request: Request) -> Response:
    b = await _body(request)
    _need(b, "shop_id", "count")
    profile = b.get("profile") or "steady"
    if profile not in ("steady", "spike"):
        raise BadRequest("profile must be steady or spike")
    sb = _sb(request)
    res = await run_in_threadpool(sb.orders.generate, int(b["shop_id"]), int(b["count"]), b.get("seed"),
                                  float(b.get("spread_seconds", 3 * 86400)), profile)
    return jres(res)


@handle_errors
async def orders_mutate(request: Request) -> Response:
    b = await _body(request)
    _need(b, "shop_id", "count")
    sb = _sb(request)
    return jres(await run_in_threadpool(sb.orders.mutate, int(b["shop_id"]), int(b["count"]), b.get("seed")))


@handle_errors
async def orders_repeat_buyer(request: Request) -> Response:
    b = await _body(request)
    _need(b, "order_id", "count")
    return jres(await run_in_threadpool(_sb(request).orders.repeat_buyer, int(b["order_id"]), int(b["count"]),
                                        b.get("seed")))


@handle_errors
async def orders_change(request: Request) -> Response:
    b = await _body(request)
    _need(b, "order_id", "kind")
    return jres(await run_in_threadpool(_sb(request).orders.change_order, int(b["order_id"]), str(b["kind"]),
                                        b.get("seed")))


@handle_errors
async def orders_index(request: Request) -> Response:
    shop_id = request.query_params.get("shop_id")
    if not shop_id:
        raise BadRequest("missing shop_id")
    sb = _sb(request)
    return jres(await run_in_threadpool(sb.orders.index, int(shop_id)))


@handle_errors
async def profiles_start(request: Request) -> Response:
    b = await _body(request)
    _need(b, "shop_id", "profile")
    if b["profile"] not in ("steady", "spike"):
        raise BadRequest("profile must be steady or spike")
    sb = _sb(request)
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
    b = await _body(request)
    sb = _sb(request)
    shops = [int(b["shop_id"])] if b.get("shop_id") not in (None, "") else list(sb.profiles)
    out = []
    for s in shops:
        runner = sb.profiles.pop(s, None)
        if runner:
            await run_in_threadpool(runner.stop)
            out.append(runner.status())
    return jres({"stopped": out})


async def profiles_list(request: Request) -> Response:
    return jres([r.status() for r in _sb(request).profiles.values()])


@handle_errors
async def push_config(request: Request) -> Response:
    b = await _body(request)
    _need(b, "app_key", "url")
    sb = _sb(request)
    _app(sb, b["app_key"])
    cfg = {k: v for k, v in b.items() if k != "app_key"}
    return jres({"app_key": b["app_key"], **sb.push.configure(b["app_key"], **cfg)})


@handle_errors
async def push_ping(request: Request) -> Response:
    b = await _body(request)
    _need(b, "app_key")
    sb = _sb(request)
    _app(sb, b["app_key"])
    if not (sb.push.configs.get(b["app_key"]) or {}).get("url"):
        raise BadRequest("no push url configured for this app")
    return jres(sb.push.ping(b["app_key"]))


@handle_errors
async def faults_set(request: Request) -> Response:
    b = await _body(request)
    sb = _sb(request)
    allowed = {"error_rate", "latency_ms", "throttle_burst", "app_key"}
    unknown = set(b) - allowed
    if unknown:
        raise BadRequest(f"unknown fault keys {sorted(unknown)}")
    sb.faults = dict(b)
    return jres(sb.faults)


async def faults_clear(request: Request) -> Response:
    _sb(request).faults = {}
    return jres({})


@handle_errors
async def clock_set(request: Request) -> Response:
    b = await _body(request)
    _need(b, "offset_seconds")
    sb = _sb(request)
    sb.clock_offset = float(b["offset_seconds"])
    return jres({"offset_seconds": sb.clock_offset, "now": sb.now()})


async def clock_get(request: Request) -> Response:
    sb = _sb(request)
    return jres({"offset_seconds": sb.clock_offset, "now": sb.now()})


async def stats(request: Request) -> Response:
    sb = _sb(request)
    with sb.stats_lock:
        out = {"calls_by_method": dict(sb.calls_by_method), "calls_by_code": dict(sb.calls_by_code),
               "calls_by_method_code": dict(sb.calls_by_method_code)}
    out["push"] = dict(sb.push.stats, pending=sb.push.pending_count())
    return jres(out)


async def stats_reset(request: Request) -> Response:
    sb = _sb(request)
    with sb.stats_lock:
        sb.calls_by_method.clear()
        sb.calls_by_code.clear()
        sb.calls_by_method_code.clear()
    return jres({})


@handle_errors
async def netsites_balance(request: Request) -> Response:
    b = await _body(request)
    _need(b, "shop_id", "logistics_code")
    if b.get("amount") is None:
        raise BadRequest("missing amount")
    return jres(await run_in_threadpool(waybills.admin_set_balance, _sb(request), int(b["shop_id"]), str(b["logistics_code"]),
                                        b.get("netsite_code") or None, int(b["amount"])))


@handle_errors
async def orders_refund(request: Request) -> Response:
    b = await _body(request)
    _need(b, "order_id")
    sku = b.get("sku_order_id")
    return jres(await run_in_threadpool(cases.create, _sb(request), int(b["order_id"]),
                                        str(sku) if sku not in (None, "") else None, "refund"))


@handle_errors
async def orders_status(request: Request) -> Response:
    b = await _body(request)
    _need(b, "order_id", "order_status")
    return jres(await run_in_threadpool(orders.set_status, _sb(request), int(b["order_id"]), int(b["order_status"])))


@handle_errors
async def shipments_pickup(request: Request) -> Response:
    b = await _body(request)
    _need(b, "tracking_no")
    return jres(await run_in_threadpool(shipping.admin_pickup, _sb(request), str(b["tracking_no"])))


def _shop_q(request: Request) -> int:
    shop_id = request.query_params.get("shop_id")
    if not shop_id:
        raise BadRequest("missing shop_id")
    return int(shop_id)


@handle_errors
async def shipments_list(request: Request) -> Response:
    return jres(await run_in_threadpool(shipping.admin_shipments, _sb(request), _shop_q(request)))


@handle_errors
async def waybills_list(request: Request) -> Response:
    return jres(await run_in_threadpool(waybills.admin_waybills, _sb(request), _shop_q(request)))


# ---------------------------------------------------------------------------- stock / after-sales

@handle_errors
async def stock_view(request: Request) -> Response:
    return jres(await run_in_threadpool(stock_sync.admin_view, _sb(request), _shop_q(request)))


def _opt_int(b: dict[str, Any], name: str) -> int | None:
    v = b.get(name)
    if v in (None, ""):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).strip().isdigit():
        raise BadRequest(f"{name} must be an integer")
    return int(v)


def _req_int(b: dict[str, Any], name: str) -> int:
    v = _opt_int(b, name)
    if v is None:
        raise BadRequest(f"{name} is required")
    return v


@handle_errors
async def aftersales_create(request: Request) -> Response:
    b = await _body(request)
    _need(b, "order_id")
    sku = b.get("sku_order_id")
    return jres(await run_in_threadpool(
        cases.create, _sb(request), int(b["order_id"]), str(sku) if sku not in (None, "") else None,
        b.get("kind") or None, _opt_int(b, "aftersale_type"), _opt_int(b, "item_num"), _opt_int(b, "reason_code")))


@handle_errors
async def aftersales_list(request: Request) -> Response:
    return jres(await run_in_threadpool(cases.admin_list, _sb(request), _shop_q(request)))


@handle_errors
async def aftersales_return_shipped(request: Request) -> Response:
    b = await _body(request)
    _need(b, "company_code", "tracking_no")
    try:
        return jres(await run_in_threadpool(cases.return_shipped, _sb(request), request.path_params["aftersale_id"],
                                            str(b["company_code"]), str(b["tracking_no"])))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)


@handle_errors
async def aftersales_intercept_unsupported(request: Request) -> Response:
    b = await _body(request)
    _need(b, "company_codes")
    return jres({"company_codes": intercept.set_intercept_unsupported(_sb(request), b["company_codes"])})


@handle_errors
async def aftersales_status(request: Request) -> Response:
    b = await _body(request)
    _need(b, "aftersale_status")
    try:
        return jres(await run_in_threadpool(cases.set_status, _sb(request), request.path_params["aftersale_id"],
                                            _req_int(b, "aftersale_status"), _opt_int(b, "refund_status")))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)


# ---------------------------------------------------------------------------- couriers / tracking

@handle_errors
async def k100_accounts(request: Request) -> Response:
    b = await _body(request)
    return jres(_sb(request).couriers.create_account(b.get("customer") or None, b.get("key") or None,
                                                     b.get("secret") or None))


@handle_errors
async def tracking_anomaly(request: Request) -> Response:
    b = await _body(request)
    _need(b, "track_no", "kind")
    try:
        return jres(await run_in_threadpool(_sb(request).couriers.set_anomaly, str(b["track_no"]), str(b["kind"])))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)


@handle_errors
async def tracking_rates(request: Request) -> Response:
    return jres(_sb(request).couriers.set_rates(await _body(request)))


@handle_errors
async def tracking_faults(request: Request) -> Response:
    return jres(_sb(request).couriers.set_faults(await _body(request)))


async def tracking_faults_clear(request: Request) -> Response:
    return jres(_sb(request).couriers.set_faults({}))


async def tracking_tick(request: Request) -> Response:
    return jres(await run_in_threadpool(_sb(request).couriers.tick))


async def tracking_stats(request: Request) -> Response:
    return jres(await run_in_threadpool(_sb(request).couriers.stats_view))


async def tracking_view(request: Request) -> Response:
    try:
        return jres(await run_in_threadpool(_sb(request).couriers.view, request.path_params["track_no"]))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)


ROUTES = [
    Route("/poll", kuaidi100.k100_subscribe, methods=["POST"]),
    Route("/poll/query.do", kuaidi100.k100_query, methods=["POST"]),
    Route("/label/order", kuaidi100.k100_label_order, methods=["POST"]),
    Route("/sandbox/kuaidi100/accounts", k100_accounts, methods=["POST"]),
    Route("/sandbox/tracking/anomaly", tracking_anomaly, methods=["POST"]),
    Route("/sandbox/tracking/rates", tracking_rates, methods=["POST"]),
    Route("/sandbox/tracking/faults", tracking_faults, methods=["POST"]),
    Route("/sandbox/tracking/faults", tracking_faults_clear, methods=["DELETE"]),
    Route("/sandbox/tracking/tick", tracking_tick, methods=["POST"]),
    Route("/sandbox/tracking/stats", tracking_stats, methods=["GET"]),
    Route("/sandbox/tracking/{track_no}", tracking_view, methods=["GET"]),
    Route("/sandbox/netsites/balance", netsites_balance, methods=["POST"]),
    Route("/sandbox/orders/refund", orders_refund, methods=["POST"]),
    Route("/sandbox/stock", stock_view, methods=["GET"]),
    Route("/sandbox/aftersales", aftersales_create, methods=["POST"]),
    Route("/sandbox/aftersales", aftersales_list, methods=["GET"]),
    Route("/sandbox/aftersales/intercept_unsupported", aftersales_intercept_unsupported, methods=["POST"]),
    Route("/sandbox/aftersales/{aftersale_id}/return_shipped", aftersales_return_shipped, methods=["POST"]),
    Route("/sandbox/aftersales/{aftersale_id}/status", aftersales_status, methods=["POST"]),
    Route("/sandbox/orders/status", orders_status, methods=["POST"]),
    Route("/sandbox/shipments/pickup", shipments_pickup, methods=["POST"]),
    Route("/sandbox/shipments", shipments_list, methods=["GET"]),
    Route("/sandbox/waybills", waybills_list, methods=["GET"]),
    Route("/sandbox/apps", apps_create, methods=["POST"]),
    Route("/sandbox/apps/qps", apps_qps, methods=["POST"]),
    Route("/sandbox/oauth/code", oauth_code, methods=["POST"]),
    Route("/sandbox/orders/generate", orders_generate, methods=["POST"]),
    Route("/sandbox/orders/mutate", orders_mutate, methods=["POST"]),
    Route("/sandbox/orders/index", orders_index, methods=["GET"]),
    Route("/sandbox/orders/repeat_buyer", orders_repeat_buyer, methods=["POST"]),
    Route("/sandbox/orders/change", orders_change, methods=["POST"]),
    Route("/sandbox/profiles/start", profiles_start, methods=["POST"]),
    Route("/sandbox/profiles/stop", profiles_stop, methods=["POST"]),
    Route("/sandbox/profiles", profiles_list, methods=["GET"]),
    Route("/sandbox/push/config", push_config, methods=["POST"]),
    Route("/sandbox/push/ping", push_ping, methods=["POST"]),
    Route("/sandbox/faults", faults_set, methods=["POST"]),
    Route("/sandbox/faults", faults_clear, methods=["DELETE"]),
    Route("/sandbox/clock", clock_set, methods=["POST"]),
    Route("/sandbox/clock", clock_get, methods=["GET"]),
    Route("/sandbox/stats", stats, methods=["GET"]),
    Route("/sandbox/stats", stats_reset, methods=["DELETE"]),
]
