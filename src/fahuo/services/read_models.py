"""Read models: what a console page or an API answer shows, read in one place.

The web handlers parse the request, call one of these and render the result; which
repositories a page reads (and in how many units of work) is decided here, not in a handler.
Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.domain.pii import mask_phone
from fahuo.services.ports import Capability, Carrier, Carriers, PlatformFactory, UowFactory
from fahuo.services.printing import select_packs
from fahuo.services.settings import balances, with_warnings
from fahuo.services.shops import platform_reference
from fahuo.services.stock_sync import bundle_levels

NOT_HANDED_OVER = ("synced", "held", "approved", "waybill_taken", "printed")
_PLAIN_FIELDS = ("raw", "receiver_plain_enc", "receiver_name_cipher", "receiver_phone_cipher",
                 "receiver_detail_cipher")


@dataclass(frozen=True, slots=True)
class ShopView:
    id: int
    shop_id: str
    shop_name: str
    app_key: str
    gateway_url: str
    enabled: bool
    cursor_time: int | None = None
    last_run_at: int | None = None
    last_error: str | None = None


def shops(uow: UowFactory) -> list[ShopView]:
    """Every shop with how far its orders are synced and its last sync error."""
    with uow() as u:
        rows = u.shops.list()
        cursors = {c["shop_ref"]: c for c in u.cursors.get_all() if c["kind"] == "orders"}
    out = []
    for s in rows:
        c = cursors.get(s.id, {})
        out.append(ShopView(id=s.id, shop_id=s.shop_id, shop_name=s.shop_name,
                            app_key=s.app_key, gateway_url=s.gateway_url, enabled=s.enabled,
                            cursor_time=c.get("cursor_time"), last_run_at=c.get("last_run_at"),
                            last_error=c.get("last_error")))
    return out


def shop(uow: UowFactory, shop_ref: int) -> ShopView | None:
    return next((s for s in shops(uow) if s.id == shop_ref), None)


def shop_exists(uow: UowFactory, shop_ref: int) -> bool:
    with uow() as u:
        return u.shops.get(shop_ref) is not None


def masked_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """A shop's settings as shown to people: the sender's phone masked."""
    cfg["sender_phone"] = mask_phone(cfg["sender_phone"]) if cfg["sender_phone"] else ""
    return cfg


def shop_settings(uow: UowFactory, shop_ref: int) -> dict[str, Any] | None:
    """The shop's settings (phone masked), or None when there is no such shop."""
    with uow() as u:
        if u.shops.get(shop_ref) is None:
            return None
        cfg = u.settings.get(shop_ref)
    return masked_settings(with_warnings(cfg))


def shop_addresses(uow: UowFactory, shop_ref: int) -> list[dict[str, Any]] | None:
    """The shop's address book (phones masked), or None when there is no such shop."""
    with uow() as u:
        if u.shops.get(shop_ref) is None:
            return None
        rows = u.settings.addresses(shop_ref)
    for r in rows:
        r["phone"] = mask_phone(r["phone"]) if r["phone"] else ""
    return rows


@dataclass(slots=True)
class ShopPage:
    shop: ShopView
    settings: dict[str, Any]
    balances: list[dict[str, Any]]
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    error: str | None = None  # the platform's words when its live lists could not be read


def shop_page(uow: UowFactory, platform_for: PlatformFactory, shop_ref: int) -> ShopPage | None:
    """A shop, its settings, its e-waybill balances and the platform's live lists."""
    found = shop(uow, shop_ref)
    if found is None:
        return None
    page = ShopPage(shop=found, settings={}, balances=[])
    try:
        for what in ("couriers", "addresses"):
            page.lists[what] = platform_reference(uow, platform_for, shop_ref, what)
    except DoudianError as exc:
        page.error = str(exc)
    with uow() as u:
        cfg = u.settings.get(shop_ref)
    page.settings = masked_settings(cfg)
    page.balances = balances(uow, shop_ref)
    return page


@dataclass(slots=True)
class Dashboard:
    """What the first page shows below the 今天 board (``services.today``), which has the counts."""
    urgent: list[dict[str, Any]]  # the ten nearest deadlines not handed to the courier yet
    shops: list[ShopView]


def dashboard(uow: UowFactory) -> Dashboard:
    with uow(readonly=True) as u:
        _, urgent = u.orders.search(state=NOT_HANDED_OVER, limit=10, sort="deadline")
    return Dashboard(urgent=urgent, shops=shops(uow))


@dataclass(slots=True)
class OrderDetail:
    order: dict[str, Any]
    holds: list[dict[str, Any]]
    packs: list[dict[str, Any]]
    history: list[dict[str, Any]]


def order_detail(uow: UowFactory, order_id: str) -> OrderDetail | None:
    """An order with its open holds, its packs and what people and fahuo did to it."""
    if not order_id.isdigit():
        return None
    with uow() as u:
        order = u.orders.get(order_id)
        if order is None:
            return None
        return OrderDetail(order=order, history=u.audit.for_subject("order", order_id),
                           holds=u.pipeline.open_holds([order_id]).get(order_id, []),
                           packs=u.pipeline.packs_of_orders([order_id]))


def order_for_api(detail: OrderDetail) -> dict[str, Any]:
    """The order as the API shows it: holds and packs inside, no ciphertext or raw payload."""
    out = {k: v for k, v in detail.order.items() if k not in _PLAIN_FIELDS}
    return out | {"holds": detail.holds, "packs": detail.packs}


def shipping(uow: UowFactory) -> dict[str, Any]:
    """The ship page: the latest import/ship jobs and packs by state."""
    with uow() as u:
        return {"jobs": u.pipeline.jobs(20), "packs": u.pipeline.pack_counts()}


def printing(uow: UowFactory) -> dict[str, Any]:
    """The print page: how many labels wait, and the latest batches."""
    with uow() as u:
        return {"waiting": len(select_packs(u, None, "labels")), "batches": u.prints.batches(30)}


# ---- tracking accounts and alert channels as shown (the lists: services/lists.py) ---------

def public_account(a: dict[str, Any], carriers: Carriers) -> dict[str, Any]:
    """A tracking account without its keys (what interception can do, secrets hidden): the
    provider declares which of its fields are secret and whether it intercepts."""
    try:
        provider: Carrier | None = carriers.get(a["provider"])
    except KeyError:
        provider = None
    secret = ({f.name for f in provider.account_fields if f.secret} if provider is not None
              else set(a["credentials"]))  # a provider fahuo no longer has: hide everything
    cred = {k: ("***" if k in secret else v)
            for k, v in a["credentials"].items() if k != "intercept_partners"}
    out = {k: v for k, v in a.items() if k != "credentials"} | {"credentials": cred}
    if provider is not None and provider.can(Capability.INTERCEPT):
        out["intercept"] = provider.intercept_view(a)
    return out


def public_channel(ch: dict[str, Any]) -> dict[str, Any]:
    """An alert channel without its secrets or hook addresses."""
    hidden = ("secret", "password", "key", "url", "hook_id")
    return {k: v for k, v in ch.items() if k != "config"} | {
        "config": {k: ("***" if k in hidden else v) for k, v in ch["config"].items()}}


# ---- stock (the list: services/lists.py) -------------------------------------------------

def stock_code(uow: UowFactory, code: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(item, bundle) for one code: a bundle code gives its bundle, else the plain item."""
    with uow(readonly=True) as u:
        bundle = next((b for b in bundle_levels(u) if b["bundle_code"] == code), None)
        if bundle is not None:
            return None, bundle
        item = next((r for r in u.stock.levels(code_like=code)[1] if r["sku_code"] == code),
                    None)
        return item, None
