"""E-waybill and shipping calls (doc §8, §9): typed requests, per-item results kept per item."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import UnexpectedResponse, WaybillItemProblem, waybill_item_problem

WAYBILL_BATCH = 100  # newCreateOrder / waybillApply take at most 100 items per call


@dataclass(frozen=True)
class Netsite:
    courier_code: str
    netsite_code: str
    netsite_name: str
    balance: int | None  # 电子面单余额; None when the platform does not say
    company_type: int | None
    sender_addresses: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PostalAddress:
    province: str
    city: str
    district: str
    street: str
    detail: str  # ciphertext accepted for receivers

    def wire(self) -> dict[str, str]:
        out = {"country_code": "CHN", "province_name": self.province, "city_name": self.city,
               "district_name": self.district, "detail_address": self.detail}
        if self.street:
            out["street_name"] = self.street
        return out


@dataclass(frozen=True)
class WaybillRequest:
    order_id: str
    pack_id: str  # "" for the only pack of an order
    receiver: PostalAddress
    receiver_name: str  # ciphertext accepted
    receiver_phone: str  # ciphertext accepted
    items: list[tuple[str, int]]  # (name, count)

    @property
    def complete(self) -> bool:
        """What newCreateOrder refuses the whole batch for when missing."""
        a = self.receiver
        return bool(self.receiver_name and self.receiver_phone and a.province and a.city
                    and a.detail and self.items)


@dataclass(frozen=True)
class Waybill:
    order_id: str
    pack_id: str
    track_no: str
    sort_code: str = ""
    short_address: str = ""
    package_center: str = ""


@dataclass(frozen=True)
class ItemError:
    """One newCreateOrder ``err_infos`` item."""
    order_id: str
    pack_id: str
    code: str
    message: str

    @property
    def kind(self) -> WaybillItemProblem:
        return waybill_item_problem("logistics.newCreateOrder", self.code, self.message)


@dataclass(frozen=True)
class PrintData:
    track_no: str
    print_data: str  # encrypted, for the platform print component only
    sign: str


@dataclass(frozen=True)
class ShippedLine:
    sku_order_id: str
    quantity: int


@dataclass(frozen=True)
class ShippedPackage:
    track_no: str
    courier_code: str
    sku_order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderPackages:
    """What the platform shipped an order with: its status and its parcels (logistics_info)."""
    order_id: str
    order_status: int | None
    packages: tuple[ShippedPackage, ...] = ()

    def carries(self, track_no: str | None) -> bool:
        return bool(track_no) and any(pk.track_no == track_no for pk in self.packages)

    @property
    def partly(self) -> bool:
        return self.order_status == 101  # 部分发货


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def _balance(v: Any) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


class ShippingCalls:
    """Mixed into DoudianShopApi; needs ``self.session``."""

    session: Any

    def netsites(self, courier_code: str = "") -> list[Netsite]:
        data = self.session.call("logistics.listShopNetsite", {"logistics_code": courier_code})
        if not isinstance(data, dict):
            raise UnexpectedResponse("listShopNetsite data is not an object",
                                     method="logistics.listShopNetsite")
        # Some answers carry one courier at the top level, others a list of them.
        listed = data.get("netsite_list")
        groups = listed if isinstance(listed, list) else [data]
        out = []
        for g in groups:
            code = _s(g.get("logistics_code") or courier_code)
            for n in g.get("netsites") or []:
                out.append(Netsite(
                    courier_code=_s(n.get("logistics_code") or code or n.get("company")),
                    netsite_code=_s(n.get("netsite_code")), netsite_name=_s(n.get("netsite_name")),
                    balance=_balance(n.get("amount")),
                    company_type=_balance(n.get("company_type") or g.get("company_type")),
                    sender_addresses=[dict(a) for a in n.get("sender_address") or []]))
        return out

    def take_waybills(self, courier_code: str, sender: PostalAddress, sender_name: str,
                      sender_phone: str, requests: list[WaybillRequest],
                      netsite_code: str | None = None) -> tuple[list[Waybill], list[ItemError]]:
        """logistics.newCreateOrder for ≤ 100 packs; (order_id, pack_id) makes it idempotent."""
        if not 1 <= len(requests) <= WAYBILL_BATCH:
            raise ValueError(f"newCreateOrder takes 1..{WAYBILL_BATCH} packs, got {len(requests)}")
        infos = []
        for r in requests:
            info: dict[str, Any] = {
                "order_id": r.order_id,
                "receiver_info": {"address": r.receiver.wire(),
                                  "contact": {"name": r.receiver_name,
                                              "mobile": r.receiver_phone}},
                "items": [{"item_name": n[:60], "item_count": c} for n, c in r.items],
            }
            if r.pack_id:
                info["pack_id"] = r.pack_id
            infos.append(info)
        params: dict[str, Any] = {
            "logistics_code": courier_code,
            "sender_info": {"address": sender.wire(),
                            "contact": {"name": sender_name, "mobile": sender_phone}},
            "order_infos": infos,
        }
        if netsite_code:
            params["net_info"] = {"net_code": netsite_code}
        data = self.session.call("logistics.newCreateOrder", params) or {}
        bills = [Waybill(order_id=_s(e.get("order_id")), pack_id=_s(e.get("pack_id")),
                         track_no=_s(e.get("track_no")), sort_code=_s(e.get("sort_code")),
                         short_address=_s(e.get("short_address_name")),
                         package_center=_s(e.get("package_center_name")))
                 for e in data.get("ebill_infos") or [] if e.get("track_no")]
        errs = [ItemError(order_id=_s(e.get("order_id")), pack_id=_s(e.get("pack_id")),
                          code=_s(e.get("err_code")), message=_s(e.get("err_msg")))
                for e in data.get("err_infos") or []]
        return bills, errs

    def print_data(self, numbers: list[tuple[str, str]]
                   ) -> tuple[dict[str, PrintData], dict[str, str]]:
        """logistics.waybillApply for ≤ 100 (courier, number): encrypted print data for the
        print component. Results are matched by number (order_id comes back decorated)."""
        if not 1 <= len(numbers) <= WAYBILL_BATCH:
            raise ValueError(f"waybillApply takes 1..{WAYBILL_BATCH} numbers, got {len(numbers)}")
        data = self.session.call("logistics.waybillApply", {"waybill_applies": [
            {"logistics_code": c, "track_no": n} for c, n in numbers]}) or {}
        got = {_s(w.get("track_no")): PrintData(_s(w.get("track_no")), _s(w.get("print_data")),
                                               _s(w.get("sign")))
               for w in data.get("waybill_infos") or [] if w.get("print_data")}
        errs = {_s(e.get("track_no")): f"{_s(e.get('err_code'))} {_s(e.get('err_msg'))}".strip()
                for e in data.get("err_infos") or []}
        return got, errs

    def order_packages(self, order_id: str) -> OrderPackages:
        """order.orderDetail read for its parcels: which numbers the order shipped with (set
        by fahuo or by anyone in the Douyin back office)."""
        data = self.session.call("order.orderDetail", {"shop_order_id": order_id})
        detail = data.get("shop_order_detail") if isinstance(data, dict) else None
        if not isinstance(detail, dict):
            raise UnexpectedResponse(f"no shop_order_detail for order {order_id}",
                                     method="order.orderDetail")
        return OrderPackages(
            order_id=_s(detail.get("order_id") or order_id),
            order_status=_balance(detail.get("order_status")),
            packages=tuple(ShippedPackage(
                track_no=_s(pk.get("tracking_no")).strip(),
                courier_code=_s(pk.get("company") or pk.get("company_code")),
                sku_order_ids=tuple(_s(x.get("sku_order_id")) for x in pk.get("product_info") or []
                                    if isinstance(x, dict)))
                for pk in detail.get("logistics_info") or [] if isinstance(pk, dict)
                and pk.get("tracking_no")))

    def cancel_waybill(self, courier_code: str, track_no: str) -> bool:
        data = self.session.call("logistics.cancelOrder",
                                 {"logistics_code": courier_code, "track_no": track_no}) or {}
        return bool((data.get("cancel_result") or {}).get("success"))

    def is_out_of_range(self, courier_code: str, sender: PostalAddress,
                        receiver: PostalAddress) -> bool:
        data = self.session.call("logistics.getOutRange", {
            "logistics_code": courier_code, "sender_address": sender.wire(),
            "receiver_address": receiver.wire(), "type": 0}) or {}
        return bool(data.get("is_out_range"))

    def track_route(self, courier_code: str, track_no: str) -> list[dict[str, Any]]:
        """logistics.trackNoRouteDetail: the route nodes, oldest first, as
        ``{at, state, description, location}`` (the node-list key has two spellings, §9.8)."""
        data = self.session.call("logistics.trackNoRouteDetail", {
            "logistics_code": courier_code, "track_no": track_no}) or {}
        nodes = data.get("route_node_list")
        if nodes is None:
            nodes = data.get("route__node_list") or []
        out: list[dict[str, Any]] = []
        for n in nodes:
            try:
                at = int(str(n.get("timestamp") or "").strip())
            except ValueError:
                continue  # a node without a usable time cannot be ordered; skip it
            out.append({"at": at, "state": str(n.get("state") or ""),
                        "state_description": str(n.get("state_description") or ""),
                        "description": str(n.get("content") or ""),
                        "location": str(n.get("site_name") or "")})
        out.sort(key=lambda x: x["at"])
        return out

    def ship_order(self, order_id: str, courier_code: str, track_no: str, *,
                   reject_refund: bool = False, address_id: str | None = None) -> None:
        """order.logisticsAdd: the whole order in one parcel."""
        params: dict[str, Any] = {"order_id": order_id, "company_code": courier_code,
                                  "logistics_code": track_no}
        if reject_refund:
            params["is_reject_refund"] = True
        if address_id:
            params["address_id"] = address_id
        self.session.call("order.logisticsAdd", params)

    def ship_single_pack(self, order_ids: list[str], lines: list[ShippedLine], courier_code: str,
                         track_no: str, request_id: str, *, reject_refund: bool = False,
                         address_id: str | None = None) -> str:
        """order.logisticsAddSinglePack: one parcel, several orders or part of one."""
        params: dict[str, Any] = {
            "order_id_list": order_ids,
            "shipped_order_info": [{"shipped_order_id": ln.sku_order_id,
                                    "shipped_num": ln.quantity} for ln in lines],
            "company_code": courier_code, "logistics_code": track_no, "request_id": request_id}
        if reject_refund:
            params["is_reject_refund"] = True
        if address_id:
            params["address_id"] = address_id
        data = self.session.call("order.logisticsAddSinglePack", params) or {}
        return _s(data.get("pack_id"))

    def ship_multi_pack(self, order_id: str, packs: list[tuple[str, str, list[ShippedLine]]],
                        request_id: str, *, reject_refund: bool = False,
                        address_id: str | None = None) -> list[str]:
        """order.logisticsAddMultiPack: one order split into parcels; all or nothing."""
        params: dict[str, Any] = {
            "order_id": order_id, "request_id": request_id,
            "pack_list": [{"shipped_order_info": [{"shipped_order_id": ln.sku_order_id,
                                                   "shipped_num": ln.quantity} for ln in lines],
                           "logistics_code": track_no, "company_code": courier}
                          for courier, track_no, lines in packs]}
        if reject_refund:
            params["is_reject_refund"] = True
        if address_id:
            params["address_id"] = address_id
        data = self.session.call("order.logisticsAddMultiPack", params) or {}
        return [_s(p.get("pack_id")) for p in data.get("pack_list") or []]
