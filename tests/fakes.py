"""Hand-written fakes of the ports, for unit tests (no sockets, no files)."""

from __future__ import annotations

from typing import Any

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.adapters.platforms.doudian.shipping import OrderPackages, ShippedPackage


class FakeShippingApi:
    """A shop's shipping calls: orders' parcels as the platform shows them (set with
    ``shipped``), numbers given back, and errors to raise per order read-back."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderPackages] = {}
        self.read_errors: dict[str, DoudianError] = {}
        self.reads: list[str] = []
        self.cancelled: list[tuple[str, str]] = []

    def shipped(self, order_id: str, *numbers: str, courier: str = "zhongtong",
                status: int = 3) -> None:
        self.orders[order_id] = OrderPackages(order_id, status, tuple(
            ShippedPackage(n, courier) for n in numbers))

    def order_packages(self, order_id: str) -> OrderPackages:
        self.reads.append(order_id)
        if order_id in self.read_errors:
            raise self.read_errors[order_id]
        return self.orders.get(order_id, OrderPackages(order_id, 2, ()))

    def cancel_waybill(self, courier_code: str, track_no: str) -> bool:
        self.cancelled.append((courier_code, track_no))
        return True

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected platform call in this test: {name}")
