"""What the use cases need from the outside world (adapters implement these)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fahuo.adapters.store.repositories import ShopRecord


class OrderPage(Protocol):
    total: int
    page: int
    size: int
    orders: list[dict[str, Any]]


class ShopPlatform(Protocol):
    """One shop's view of the Douyin open platform."""

    def search_orders(self, *, update_time_start: int, update_time_end: int, page: int,
                      size: int = 100, order_by: str = "update_time",
                      order_asc: bool = True) -> OrderPage: ...

    def order_detail(self, shop_order_id: str) -> dict[str, Any]: ...


PlatformFactory = Callable[[ShopRecord], ShopPlatform]


class LeaseHeld(Exception):
    """Someone else holds the named lease: the work is being done elsewhere right now."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(f"lease {name!r} is held by {holder or 'another process'}")
        self.name, self.holder = name, holder


class Leases(Protocol):
    """Named locks that expire unless their holder renews them (the store's clock decides).

    A holder that dies (kill -9, OOM, power loss) stops renewing, and after at most
    ``ttl_s`` anyone may take the lease over."""

    ttl_s: float

    def acquire(self, name: str, holder: str, ttl_s: float | None = None) -> bool:
        """Take the lease, or extend it if ``holder`` already has it; False if another
        holder's lease has not expired."""
        ...

    def renew(self, name: str, holder: str, ttl_s: float | None = None) -> bool:
        """Extend a lease this holder still has; False if it expired and was taken."""
        ...

    def release(self, name: str, holder: str) -> None: ...

    def holder_of(self, name: str) -> str | None:
        """Who holds the lease now (None when free or expired)."""
        ...

    def advance_mark(self, name: str, holder: str, mark: int) -> bool:
        """While holding the lease, move its mark forward to ``mark``; False if the mark is
        already there or beyond (a holder before did that work) or the lease is not held."""
        ...
