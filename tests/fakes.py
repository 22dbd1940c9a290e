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


class FakeShop(FakeShippingApi):
    """A whole shop's platform side for driving the real pipeline, after-sale sync and stock
    sync in unit tests: one ship-from address, one zhongtong e-waybill account, numbers handed
    out in order, every confirmation accepted (and remembered as the order's parcel), cases as
    ``afterSale.List`` items, the last quantity pushed per SKU, route nodes per number (set in
    ``routes``) and every interception accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.next_no = 7800000000000
        self.numbers: dict[tuple[str, str], str] = {}  # (order, pack id) → number, idempotent
        self.cases: dict[str, dict[str, Any]] = {}  # aftersale id → afterSale.List item
        self.pushed: dict[str, int] = {}  # sku_id → last quantity pushed
        self.routes: dict[str, list[dict[str, Any]]] = {}  # track_no → route nodes
        self.intercepted: list[tuple[str, str]] = []  # (aftersale id, track_no)

    # settings
    def all_addresses(self, page_size: int = 100) -> list[Any]:
        from fahuo.adapters.platforms.doudian.api import Address
        return [Address("1", "王仓管", "浙江省", "杭州市", "西湖区", "文新街道", "文一路1号",
                        True, True, "")]

    def netsites(self, courier_code: str = "") -> list[Any]:
        from fahuo.adapters.platforms.doudian.shipping import Netsite
        return [Netsite("zhongtong", "", "", None, 1, [{
            "province_name": "浙江省", "city_name": "杭州市", "district_name": "西湖区",
            "street_name": "文新街道", "detail_address": "文一路1号"}])]

    def is_out_of_range(self, courier_code: str, sender: Any, receiver: Any) -> bool:
        return False

    # numbers and confirmations
    def take_waybills(self, courier_code: str, sender: Any, sender_name: str, sender_phone: str,
                      requests: list[Any], netsite_code: str | None = None
                      ) -> tuple[list[Any], list[Any]]:
        from fahuo.adapters.platforms.doudian.shipping import Waybill
        bills = []
        for r in requests:
            key = (r.order_id, r.pack_id)
            if key not in self.numbers:
                self.next_no += 1
                self.numbers[key] = str(self.next_no)
            bills.append(Waybill(r.order_id, r.pack_id, self.numbers[key]))
        return bills, []

    def ship_order(self, order_id: str, courier_code: str, track_no: str, **_: Any) -> None:
        self.shipped(order_id, track_no, courier=courier_code)

    def ship_single_pack(self, order_ids: list[str], lines: list[Any], courier_code: str,
                         track_no: str, request_id: str, **_: Any) -> str:
        for oid in order_ids:
            self.shipped(oid, track_no, courier=courier_code)
        return request_id

    def ship_multi_pack(self, order_id: str, packs: list[tuple[str, str, list[Any]]],
                        request_id: str, **_: Any) -> list[str]:
        self.shipped(order_id, *(no for _, no, _ in packs), courier=packs[0][0])
        return [request_id for _ in packs]

    # after-sales and stock
    def after_sales(self, *, update_start: int, update_end: int, page: int = 0,
                    size: int = 100) -> Any:
        from types import SimpleNamespace
        items = [c for c in self.cases.values()
                 if update_start <= c["aftersale_info"]["update_time"] <= update_end]
        part = items[page * size:(page + 1) * size]
        return SimpleNamespace(items=part, has_more=(page + 1) * size < len(items),
                               total=len(items))

    def sync_stock_batch(self, product_id: str, skus: list[tuple[str, int]], **_: Any) -> bool:
        for sku_id, qty in skus:
            self.pushed[str(sku_id)] = qty
        return True

    def sync_stock(self, product_id: str, sku_id: str, stock_num: int, **_: Any) -> bool:
        self.pushed[str(sku_id)] = stock_num
        return True

    # tracking and interception
    def track_route(self, courier_code: str, track_no: str) -> list[dict[str, Any]]:
        return list(self.routes.get(track_no, []))

    def apply_intercept(self, after_sale_id: str, targets: list[tuple[str, str]]
                        ) -> dict[str, Any]:
        self.intercepted += [(after_sale_id, no) for _, no in targets]
        return {"intercept_results": [{"tracking_no": no, "can_intercept": True,
                                       "is_success": True, "intercept_cost": 0}
                                      for _, no in targets]}


class FakeHandoverDocuments:
    """The hand-over documents port: keeps every sheet asked for, answers with its lines as
    text (so a test reads what would have been printed)."""

    def __init__(self) -> None:
        self.sheets: list[Any] = []

    def render(self, sheet: Any, fmt: str) -> bytes:
        self.sheets.append((sheet, fmt))
        return "\n".join([sheet.title, *(f"{ln.seq} {ln.track_no} {ln.order_id}"
                                         for ln in sheet.lines)]).encode()
