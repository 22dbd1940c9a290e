"""Saving what the platform accepted: packs confirmed, numbers used, orders shipped (or
partly), reserved stock leaves with the parcel. The confirm step saves its answers here, and
recycle a number it finds the platform shipped with."""

from __future__ import annotations

from typing import Any

from fahuo.domain.orders import ORDER, OrderState
from fahuo.domain.packs import PACK, PackState
from fahuo.services.shipping.context import Moves, Shipping
from fahuo.services.shipping.report import StepReport
from fahuo.services.stock.orders import ship_in
from fahuo.domain.waybills import WaybillState


def save_confirmed(ctx: Shipping, shipped: list[tuple[list[dict[str, Any]], list[str]]],
                   r: StepReport, *, partly: frozenset[str] = frozenset()) -> None:
    """Save units the platform accepted, in one transaction; empties `shipped`. Orders in
    ``partly`` are the ones the platform shows only partly shipped."""
    if not shipped:
        return
    packs = [p for unit, _ in shipped for p in unit]
    order_ids = sorted({oid for _, ids in shipped for oid in ids})
    with ctx.uow() as u:
        u.pipeline.lock_orders(order_ids)
        # The platform took them: confirmed from wherever they are (its word wins).
        u.pipeline.move_packs_from([p["id"] for p in packs],
                                   PACK.sources(PackState.CONFIRMED), PackState.CONFIRMED,
                                   last_error=None)
        u.pipeline.move_waybills([(p["courier_code"], p["track_no"]) for p in packs],
                                 WaybillState.USED)
        current = u.pipeline.order_states(order_ids)
        # Shipped (or partly) from wherever the table lets an order become so; one that
        # went further meanwhile (in transit, refunded) stays where it is.
        new: Moves = {}
        for target, ids in ((OrderState.PARTLY_SHIPPED, [o for o in order_ids if o in partly]),
                            (OrderState.SHIPPED, [o for o in order_ids if o not in partly])):
            new |= ORDER.moves_to({o: current[o] for o in ids if o in current}, target,
                                  ORDER.sources(target))
        u.pipeline.move_orders(new)
        ship_in(u, order_ids)  # reserved units leave the shelf with the parcel
    r.done += len(packs)
    shipped.clear()
