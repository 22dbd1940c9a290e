"""Writing platform orders into the store: the one path sync and push both take."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog

from fahuo.adapters.platforms.doudian.orders import OrderPayloadError, parse_order
from fahuo.adapters.store.repositories import UpsertResult
from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.orders import OrderState, apply_platform_status

log = structlog.get_logger(__name__)


def store_platform_orders(uow: UnitOfWork, shop_ref: int,
                          payloads: Iterable[dict[str, Any]]) -> UpsertResult:
    """Upsert a batch: newest update wins, fahuo's state only moves forward."""
    latest: dict[str, Any] = {}
    bad = 0
    for p in payloads:
        try:
            o = parse_order(p)
        except OrderPayloadError as exc:
            bad += 1
            log.warning("order_payload_rejected", error=str(exc))
            continue
        # Duplicates inside one batch: keep the newest only.
        prev = latest.get(o.order_id)
        if prev is None or o.update_time >= prev.update_time:
            latest[o.order_id] = o
    existing = uow.orders.current(list(latest))
    items = []
    for o in latest.values():
        held = existing.get(o.order_id)
        current = OrderState(held[0]) if held else None
        items.append((o, apply_platform_status(current, o.order_status, o.main_status)))
    return uow.orders.upsert(shop_ref, items, existing=existing)
