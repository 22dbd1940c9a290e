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
