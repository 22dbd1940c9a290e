"""Writing platform orders into the store: the one path sync and push both take."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TYPE_CHECKING

import structlog

from fahuo.adapters.platforms.doudian.orders import OrderPayloadError, parse_order
from fahuo.adapters.store.repositories import UpsertResult
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import HOLDABLE, OrderState, apply_platform_status
from fahuo.domain.packs import PackState
from fahuo.services.stock.orders import follow_lines_in

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

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
    # Orders whose label may already carry the receiver: an address change must stop them.
    watch = [oid for oid, (st, _) in existing.items() if st in _LABELLED]
    before = uow.orders.receivers(watch)
    items = []
    for o in latest.values():
        held = existing.get(o.order_id)
        current = OrderState(held[0]) if held else None
        items.append((o, apply_platform_status(current, o.order_status, o.main_status)))
    result = uow.orders.upsert(shop_ref, items, existing=existing)
    moved = [oid for oid in watch
             if latest[oid].update_time >= existing[oid][1]
             and _receiver(latest[oid]) != before.get(oid)
             and latest[oid].order_status == 2]
    if moved:
        stop_for_address_change(uow, moved)
    refunded = [o.order_id for o in latest.values()
                if any(s.after_sale_status == 12 and s.refund_status == 3 for s in o.sub_orders)]
    if refunded:  # a line refunded before it left gives its units back now
        follow_lines_in(uow, refunded, actor="sync")
    return result


_LABELLED = frozenset({OrderState.APPROVED.value, OrderState.WAYBILL_TAKEN.value,
                       OrderState.PRINTED.value, OrderState.HELD.value})


def _receiver(o) -> tuple[str, str, str]:
    r = o.receiver
    return (r.name_cipher, r.phone_cipher, r.detail_cipher)


def stop_for_address_change(uow: UnitOfWork, order_ids: list[str]) -> None:
    """The buyer changed the address (push 105): a label for the old one must not ship.
    Its pack goes stale (the pipeline recycles the number) and the order waits for a look."""
    labelled = frozenset({PackState.WAYBILL_PENDING, PackState.WAYBILL_TAKEN,
                          PackState.PRINTED, PackState.SCANNED, PackState.FAILED})
    live = [p for p in uow.pipeline.packs_of_orders(order_ids) if p["state"] in labelled]
    lines = uow.pipeline.lines([p["id"] for p in live])
    order_ids = sorted({ln["order_id"] for ls in lines.values() for ln in ls} & set(order_ids))
    if not order_ids:
        return  # no label printed yet: the waybill will be taken for the new address
    uow.pipeline.move_packs_from([p["id"] for p in live], labelled, PackState.STALE,
                                 last_error="收件地址已变更")
    uow.pipeline.add_holds([{"order_id": oid, "reason": HoldReason.ADDRESS_CHANGED.value,
                             "detail": "买家修改了收货地址，请核对后放行（旧面单将回收）",
                             "source": "platform"} for oid in order_ids])
    uow.pipeline.move_orders_from(order_ids, HOLDABLE, OrderState.HELD)
    log.info("address_changed", orders=len(order_ids), packs=len(live))
