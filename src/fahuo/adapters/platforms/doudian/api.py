"""Typed wrappers for the shop APIs fahuo needs first (docs §6, §8.5, §8.6).

All platform ids are returned as ``str`` (19-digit ids do not survive JavaScript, and a
single type avoids int/str mismatches when comparing with push data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from .privacy import PrivacyCalls
from .shipping import ShippingCalls
from .stock import StockCalls
from .errors import UnexpectedResponse
from .tokens import ShopSession

__all__ = [
    "SEARCH_MAX_SIZE",
    "SearchPage",
    "Courier",
    "Address",
    "AddressPage",
    "DoudianShopApi",
]

SEARCH_MAX_SIZE = 100
_ORDER_BY = ("create_time", "update_time")
_MAX_ADDRESS_PAGES = 1000


@dataclass(frozen=True)
class SearchPage:
    total: int
    page: int
    size: int
    orders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return (self.page + 1) * self.size < self.total and bool(self.orders)


@dataclass(frozen=True)
class Courier:
    id: str
    name: str
    code: str


@dataclass(frozen=True)
class Address:
    address_id: str
    name: str
    province: str
    city: str
    district: str
    street: str
    detail: str
    is_default_return: bool
    is_default_send: bool
    remark: str


@dataclass(frozen=True)
class AddressPage:
    total: int
    addresses: list[Address] = field(default_factory=list)


def _int_param(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int (Unix seconds / count), got {value!r}")
    return value


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        if entry.get(key) is not None:
            return _str(entry[key])
    return ""


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y")
    return False


def _combine_status(value: Any) -> list[dict[str, Any]]:
    """``combine_status`` is a one-element list ``[{"order_status": "2,101"}]`` (§6.1)."""
    if isinstance(value, dict):
        return [dict(value)]
    if isinstance(value, str):
        return [{"order_status": value}]
    if isinstance(value, int) and not isinstance(value, bool):
        return [{"order_status": str(value)}]
    if isinstance(value, (list, tuple)):
        items = list(value)
        if items and all(isinstance(i, dict) for i in items):
            if len(items) != 1:
                raise ValueError("combine_status must hold exactly one element")
            return [dict(items[0])]
        if items and all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
            return [{"order_status": ",".join(str(i) for i in items)}]
    raise ValueError(
        f"combine_status must be an order_status like '2' / '2,101', a list of statuses, or "
        f"a dict such as {{'order_status': '2'}}; got {value!r}"
    )


def _address(entry: Any) -> Address:
    if not isinstance(entry, dict):
        raise UnexpectedResponse(f"address_list entry is {type(entry).__name__}", method="address.list")
    return Address(
        address_id=_first(entry, "address_id"),
        name=_first(entry, "reciever_name", "receiver_name"),
        province=_first(entry, "receiver_provinc", "receiver_province"),
        city=_first(entry, "receiver_city"),
        district=_first(entry, "receiver_district"),
        street=_first(entry, "receiver_street"),
        detail=_first(entry, "receiver_detail"),
        is_default_return=_flag(entry.get("is_default")),
        is_default_send=_flag(entry.get("is_send_default")),
        remark=_first(entry, "remark"),
    )


class DoudianShopApi(ShippingCalls, StockCalls, PrivacyCalls):
    """Order and address-book calls for one shop, over a :class:`ShopSession`."""

    def __init__(self, session: ShopSession) -> None:
        self.session = session

    def search_orders(
        self,
        *,
        update_time_start: int,
        update_time_end: int,
        page: int,
        size: int = 100,
        order_by: str = "update_time",
        order_asc: bool = True,
        combine_status: Any = None,
    ) -> SearchPage:
        """``order.searchList`` over an update-time window (incremental sync)."""
        start = _int_param("update_time_start", update_time_start)
        end = _int_param("update_time_end", update_time_end)
        page = _int_param("page", page)
        size = _int_param("size", size)
        if start > end:
            raise ValueError(f"update_time_start ({start}) is after update_time_end ({end})")
        if page < 0:
            raise ValueError(f"page must be >= 0 (pages start at 0), got {page}")
        if not 1 <= size <= SEARCH_MAX_SIZE:
            raise ValueError(f"size must be between 1 and {SEARCH_MAX_SIZE}, got {size}")
        if order_by not in _ORDER_BY:
            raise ValueError(f"order_by must be one of {_ORDER_BY}, got {order_by!r}")
        params: dict[str, Any] = {
            "update_time_start": start,
            "update_time_end": end,
            "page": page,
            "size": size,
            "order_by": order_by,
            "order_asc": bool(order_asc),
        }
        if combine_status is not None:
            params["combine_status"] = _combine_status(combine_status)
        data = self.session.call("order.searchList", params)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise UnexpectedResponse(f"data is {type(data).__name__}, expected an object", method="order.searchList")
        orders = data.get("shop_order_list") or []
        if not isinstance(orders, list):
            raise UnexpectedResponse("shop_order_list is not a list", method="order.searchList")
        return SearchPage(
            total=_int(data.get("total")),
            page=_int(data.get("page"), page),
            size=_int(data.get("size"), size),
            orders=orders,
        )

    def order_detail(self, shop_order_id: str) -> dict[str, Any]:
        """``order.orderDetail``; returns ``data.shop_order_detail``."""
        order_id = _str(shop_order_id)
        if not order_id:
            raise ValueError("shop_order_id is empty")
        data = self.session.call("order.orderDetail", {"shop_order_id": order_id})
        detail = data.get("shop_order_detail") if isinstance(data, dict) else None
        if not isinstance(detail, dict):
            raise UnexpectedResponse(
                f"no shop_order_detail for order {order_id}", method="order.orderDetail"
            )
        return detail

    def logistics_companies(self) -> list[Courier]:
        """``order.logisticsCompanyList``: every courier the platform knows (cache it)."""
        data = self.session.call("order.logisticsCompanyList", {})
        if data is None:
            return []
        if not isinstance(data, list):
            raise UnexpectedResponse(
                f"data is {type(data).__name__}, expected a list", method="order.logisticsCompanyList"
            )
        out = []
        for item in data:
            if not isinstance(item, dict):
                raise UnexpectedResponse("courier entry is not an object", method="order.logisticsCompanyList")
            out.append(Courier(id=_str(item.get("id")), name=_str(item.get("name")), code=_str(item.get("code"))))
        return out

    def addresses(self, page_no: int = 1, page_size: int = 100) -> AddressPage:
        """``address.list`` (pages start at 1)."""
        page_no = _int_param("page_no", page_no)
        page_size = _int_param("page_size", page_size)
        if page_no < 1:
            raise ValueError(f"page_no must be >= 1 (pages start at 1), got {page_no}")
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size}")
        data = self.session.call("address.list", {"page_no": page_no, "page_size": page_size})
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise UnexpectedResponse(f"data is {type(data).__name__}, expected an object", method="address.list")
        entries: Iterable[Any] = data.get("address_list") or []
        if not isinstance(entries, list):
            raise UnexpectedResponse("address_list is not a list", method="address.list")
        return AddressPage(total=_int(data.get("total")), addresses=[_address(e) for e in entries])

    def all_addresses(self, page_size: int = 100) -> list[Address]:
        """Every address in the book, paging from 1 until ``total`` is reached."""
        out: list[Address] = []
        for page_no in range(1, _MAX_ADDRESS_PAGES + 1):
            page = self.addresses(page_no=page_no, page_size=page_size)
            out.extend(page.addresses)
            # Stop on total or an empty page, not on a short page: the server may cap
            # page_size below what was asked for.
            if not page.addresses or len(out) >= page.total:
                return out
        raise UnexpectedResponse(
            f"address.list still returning entries after {_MAX_ADDRESS_PAGES} pages", method="address.list"
        )
