"""What every step of a pass needs: the store, the platform, the clock, and the Orders this
pass already built (so the plan reuses the audit's while their stored version is unchanged)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TYPE_CHECKING

from fahuo.adapters.platforms.doudian.errors import ServiceUnavailable, Throttled, TransportError
from fahuo.domain.orders import Order, OrderState
from fahuo.services.ports import PlatformFactory, UowFactory

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

# Platform answers that mean "not now": nothing changed, the next pass tries again.
TRANSIENT = (Throttled, ServiceUnavailable, TransportError)

# Every state write goes through the repository's ``move_orders`` / ``move_packs`` (checked
# against the lifecycle, conditional on the state read, in this unit of work): a step states
# which rows it applies to (``among``), and a move the table forbids raises.
LABELLED_ORDERS = frozenset({OrderState.WAYBILL_TAKEN, OrderState.PRINTED})
Moves = dict[str, tuple[str, str]]
Pack = dict[str, Any]
Lines = dict[int, list[dict[str, Any]]]


class Shipping:
    def __init__(self, uow: UowFactory, platform_for: PlatformFactory,
                 clock: Callable[[], float] = time.time, *, concurrency: int = 8) -> None:
        """``concurrency``: shipment confirmations in flight at once. The platform answers in
        tens of milliseconds and wants one call per order, so one at a time would cap a shop
        at a few dozen orders a second; the app's rate budget still bounds the calls."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
        self.uow, self.platform_for, self.clock = uow, platform_for, clock
        self.concurrency = concurrency
        # Orders built during one pass by version (synced_at); None outside a pass.
        self.memo: dict[str, tuple[tuple[int, int], Order]] | None = None

    def load(self, u: UnitOfWork, ids: list[str]) -> dict[str, tuple[int, str, Order]]:
        """``load_orders``, reusing the Orders this pass already built (the audit's, for the
        plan right after it) while their stored version (stamp) has not moved."""
        memo = self.memo
        if memo is None:
            return u.pipeline.load_orders(ids)
        stamps = u.pipeline.order_stamps(ids)
        out: dict[str, tuple[int, str, Order]] = {}
        missing = []
        for oid, (ref, state, stamp) in stamps.items():
            hit = memo.get(oid)
            if hit is not None and hit[0] == stamp:
                out[oid] = (ref, state, hit[1])
            else:
                missing.append(oid)
        for oid, (ref, state, stamp, order) in u.pipeline.load_orders_stamped(missing).items():
            memo[oid] = (stamp, order)
            out[oid] = (ref, state, order)
        return out

    def load_each(self, u: UnitOfWork, ids: list[str]
                  ) -> tuple[dict[str, tuple[int, str, Order]], dict[str, BaseException]]:
        """``load``, then one order at a time if the batch fails: an order that cannot be
        read must not keep the others from being judged. (order_id → row, order_id → error)"""
        try:
            return self.load(u, ids), {}
        except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
            if len(ids) <= 1:
                return {}, {oid: exc for oid in ids}
        loaded: dict[str, tuple[int, str, Order]] = {}
        errors: dict[str, BaseException] = {}
        for oid in ids:
            try:
                loaded.update(self.load(u, [oid]))
            except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
                errors[oid] = exc
        return loaded, errors


def order_ids(unit: list[Pack], lines: Lines) -> list[str]:
    """The orders a unit of packs carries."""
    return sorted({ln["order_id"] for p in unit for ln in lines[p["id"]]})


def lines_of(unit: list[Pack], ids: list[str]) -> Lines:
    """Line rows enough to hold a unit's orders (``fail_packs`` reads their order ids)."""
    lines: Lines = {p["id"]: [] for p in unit}
    lines[unit[0]["id"]] = [{"order_id": oid} for oid in ids]
    return lines
