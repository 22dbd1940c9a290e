"""Admin of what follows an order: e-waybill balances, refunds, forced statuses, pickups, shipments,
waybills, stock and after-sales."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .. import orders
from ..aftersales import cases, intercept
from ..logistics import shipping, waybills
from ..stock import sync as stock_sync
from .http import BadRequest, body, handle_errors, jres, need, opt_int, req_int, sandbox_of, shop_q


@handle_errors
async def netsites_balance(request: Request) -> Response:
    b = await body(request)
    need(b, "shop_id", "logistics_code")
    if b.get("amount") is None:
        raise BadRequest("missing amount")
    return jres(await run_in_threadpool(waybills.admin_set_balance, sandbox_of(request), int(b["shop_id"]), str(b["logistics_code"]),
                                        b.get("netsite_code") or None, int(b["amount"])))


@handle_errors
async def orders_refund(request: Request) -> Response:
    b = await body(request)
    need(b, "order_id")
    sku = b.get("sku_order_id")
    return jres(await run_in_threadpool(cases.create, sandbox_of(request), int(b["order_id"]),
                                        str(sku) if sku not in (None, "") else None, "refund"))


@handle_errors
async def orders_status(request: Request) -> Response:
    b = await body(request)
    need(b, "order_id", "order_status")
    return jres(await run_in_threadpool(orders.set_status, sandbox_of(request), int(b["order_id"]), int(b["order_status"])))


@handle_errors
async def shipments_pickup(request: Request) -> Response:
    b = await body(request)
    need(b, "tracking_no")
    return jres(await run_in_threadpool(shipping.admin_pickup, sandbox_of(request), str(b["tracking_no"])))


@handle_errors
async def shipments_list(request: Request) -> Response:
    return jres(await run_in_threadpool(shipping.admin_shipments, sandbox_of(request), shop_q(request)))


@handle_errors
async def waybills_list(request: Request) -> Response:
    return jres(await run_in_threadpool(waybills.admin_waybills, sandbox_of(request), shop_q(request)))


@handle_errors
async def stock_view(request: Request) -> Response:
    return jres(await run_in_threadpool(stock_sync.admin_view, sandbox_of(request), shop_q(request)))


@handle_errors
async def aftersales_create(request: Request) -> Response:
    b = await body(request)
    need(b, "order_id")
    sku = b.get("sku_order_id")
    return jres(await run_in_threadpool(
        cases.create, sandbox_of(request), int(b["order_id"]), str(sku) if sku not in (None, "") else None,
        b.get("kind") or None, opt_int(b, "aftersale_type"), opt_int(b, "item_num"), opt_int(b, "reason_code")))


@handle_errors
async def aftersales_list(request: Request) -> Response:
    return jres(await run_in_threadpool(cases.admin_list, sandbox_of(request), shop_q(request)))


@handle_errors
async def aftersales_return_shipped(request: Request) -> Response:
    b = await body(request)
    need(b, "company_code", "tracking_no")
    try:
        return jres(await run_in_threadpool(cases.return_shipped, sandbox_of(request), request.path_params["aftersale_id"],
                                            str(b["company_code"]), str(b["tracking_no"])))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)


@handle_errors
async def aftersales_intercept_unsupported(request: Request) -> Response:
    b = await body(request)
    need(b, "company_codes")
    return jres({"company_codes": intercept.set_intercept_unsupported(sandbox_of(request), b["company_codes"])})


@handle_errors
async def aftersales_status(request: Request) -> Response:
    b = await body(request)
    need(b, "aftersale_status")
    try:
        return jres(await run_in_threadpool(cases.set_status, sandbox_of(request), request.path_params["aftersale_id"],
                                            req_int(b, "aftersale_status"), opt_int(b, "refund_status")))
    except LookupError as exc:
        return jres({"error": str(exc)}, 404)
