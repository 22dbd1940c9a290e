"""Every route besides the gateway: Kuaidi100's endpoints and the unsigned admin API under ``/sandbox/…``
(JSON in, JSON out). Order matters: fixed paths before the ``{…}`` ones they would match."""
from __future__ import annotations

from starlette.routing import Route

from ..couriers import kuaidi100
from . import fulfilment, platform, tracking


ROUTES = [
    Route("/poll", kuaidi100.k100_subscribe, methods=["POST"]),
    Route("/poll/query.do", kuaidi100.k100_query, methods=["POST"]),
    Route("/label/order", kuaidi100.k100_label_order, methods=["POST"]),
    Route("/sandbox/kuaidi100/accounts", tracking.k100_accounts, methods=["POST"]),
    Route("/sandbox/tracking/anomaly", tracking.tracking_anomaly, methods=["POST"]),
    Route("/sandbox/tracking/rates", tracking.tracking_rates, methods=["POST"]),
    Route("/sandbox/tracking/character", tracking.tracking_character, methods=["POST"]),
    Route("/sandbox/tracking/faults", tracking.tracking_faults, methods=["POST"]),
    Route("/sandbox/tracking/faults", tracking.tracking_faults_clear, methods=["DELETE"]),
    Route("/sandbox/tracking/tick", tracking.tracking_tick, methods=["POST"]),
    Route("/sandbox/tracking/stats", tracking.tracking_stats, methods=["GET"]),
    Route("/sandbox/tracking/{track_no}", tracking.tracking_view, methods=["GET"]),
    Route("/sandbox/netsites/balance", fulfilment.netsites_balance, methods=["POST"]),
    Route("/sandbox/orders/refund", fulfilment.orders_refund, methods=["POST"]),
    Route("/sandbox/stock", fulfilment.stock_view, methods=["GET"]),
    Route("/sandbox/aftersales/buyers", tracking.aftersales_buyers, methods=["POST"]),
    Route("/sandbox/aftersales", fulfilment.aftersales_create, methods=["POST"]),
    Route("/sandbox/aftersales", fulfilment.aftersales_list, methods=["GET"]),
    Route("/sandbox/aftersales/intercept_unsupported", fulfilment.aftersales_intercept_unsupported, methods=["POST"]),
    Route("/sandbox/aftersales/{aftersale_id}/return_shipped", fulfilment.aftersales_return_shipped, methods=["POST"]),
    Route("/sandbox/aftersales/{aftersale_id}/status", fulfilment.aftersales_status, methods=["POST"]),
    Route("/sandbox/orders/status", fulfilment.orders_status, methods=["POST"]),
    Route("/sandbox/shipments/pickup", fulfilment.shipments_pickup, methods=["POST"]),
    Route("/sandbox/shipments", fulfilment.shipments_list, methods=["GET"]),
    Route("/sandbox/waybills", fulfilment.waybills_list, methods=["GET"]),
    Route("/sandbox/apps", platform.apps_create, methods=["POST"]),
    Route("/sandbox/apps/qps", platform.apps_qps, methods=["POST"]),
    Route("/sandbox/oauth/code", platform.oauth_code, methods=["POST"]),
    Route("/sandbox/orders/generate", platform.orders_generate, methods=["POST"]),
    Route("/sandbox/orders/mutate", platform.orders_mutate, methods=["POST"]),
    Route("/sandbox/orders/index", platform.orders_index, methods=["GET"]),
    Route("/sandbox/orders/repeat_buyer", platform.orders_repeat_buyer, methods=["POST"]),
    Route("/sandbox/orders/change", platform.orders_change, methods=["POST"]),
    Route("/sandbox/profiles/start", platform.profiles_start, methods=["POST"]),
    Route("/sandbox/profiles/stop", platform.profiles_stop, methods=["POST"]),
    Route("/sandbox/profiles", platform.profiles_list, methods=["GET"]),
    Route("/sandbox/push/config", platform.push_config, methods=["POST"]),
    Route("/sandbox/push/ping", platform.push_ping, methods=["POST"]),
    Route("/sandbox/faults", platform.faults_set, methods=["POST"]),
    Route("/sandbox/faults", platform.faults_clear, methods=["DELETE"]),
    Route("/sandbox/clock", platform.clock_set, methods=["POST"]),
    Route("/sandbox/clock", platform.clock_get, methods=["GET"]),
    Route("/sandbox/stats", platform.stats, methods=["GET"]),
    Route("/sandbox/stats", platform.stats_reset, methods=["DELETE"]),
]
