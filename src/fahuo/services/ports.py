"""What the use cases need from the outside world (adapters implement these)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from fahuo.adapters.store.repositories import ShopRecord
from fahuo.domain.aftersales import InterceptState
from fahuo.services.uploads import UploadLimits

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork
    from fahuo.adapters.platforms.doudian.api import Address, Courier
    from fahuo.adapters.platforms.doudian.privacy import Decrypted
    from fahuo.adapters.platforms.doudian.shipping import (
        ItemError, Netsite, OrderPackages, PostalAddress, PrintData, ShippedLine, Waybill,
        WaybillRequest)
    from fahuo.adapters.platforms.doudian.stock import AfterSalePage
    from fahuo.domain.handover import HandedOver, Sheet
    from fahuo.domain.tracking import Mapped, TrackingEvent


class OrderPage(Protocol):
    @property
    def total(self) -> int: ...
    @property
    def page(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def orders(self) -> list[dict[str, Any]]: ...


class ShopPlatform(Protocol):
    """One shop's view of the Douyin open platform: every call a use case makes.

    The value types still live beside the Douyin adapter (one platform so far)."""

    session: Any  # signs print-component requests; opaque to the services

    def search_orders(self, *, update_time_start: int, update_time_end: int, page: int,
                      size: int = 100, order_by: str = "update_time",
                      order_asc: bool = True) -> OrderPage: ...

    def order_detail(self, shop_order_id: str) -> dict[str, Any]: ...

    def logistics_companies(self) -> list[Courier]: ...

    def all_addresses(self, page_size: int = 100) -> list[Address]: ...

    def netsites(self, courier_code: str = "") -> list[Netsite]: ...

    def take_waybills(self, courier_code: str, sender: PostalAddress, sender_name: str,
                      sender_phone: str, requests: list[WaybillRequest],
                      netsite_code: str | None = None) -> tuple[list[Waybill], list[ItemError]]: ...

    def print_data(self, numbers: list[tuple[str, str]]
                   ) -> tuple[dict[str, PrintData], dict[str, str]]: ...

    def order_packages(self, order_id: str) -> OrderPackages: ...

    def cancel_waybill(self, courier_code: str, track_no: str) -> bool: ...

    def is_out_of_range(self, courier_code: str, sender: PostalAddress,
                        receiver: PostalAddress) -> bool: ...

    def track_route(self, courier_code: str, track_no: str) -> list[dict[str, Any]]: ...

    def ship_order(self, order_id: str, courier_code: str, track_no: str, *,
                   reject_refund: bool = False, address_id: str | None = None) -> None: ...

    def ship_single_pack(self, order_ids: list[str], lines: list[ShippedLine], courier_code: str,
                         track_no: str, request_id: str, *, reject_refund: bool = False,
                         address_id: str | None = None) -> str: ...

    def ship_multi_pack(self, order_id: str, packs: list[tuple[str, str, list[ShippedLine]]],
                        request_id: str, *, reject_refund: bool = False, address_id: str | None = None) -> list[str]: ...

    def sync_stock(self, product_id: str, sku_id: str, stock_num: int, *,
                   incremental: bool = False, idempotent_id: str | None = None) -> bool: ...

    def sync_stock_batch(self, product_id: str, skus: list[tuple[str, int]], *,
                         incremental: bool = False, idempotent_id: str | None = None) -> bool: ...

    def after_sales(self, *, update_start: int, update_end: int, page: int = 0,
                    size: int = 100) -> AfterSalePage: ...

    def apply_intercept(self, after_sale_id: str, targets: list[tuple[str, str]]
                        ) -> dict[str, Any]: ...

    def decrypt(self, ciphers: list[tuple[str, str]]) -> dict[tuple[str, str], Decrypted]: ...


PlatformFactory = Callable[[ShopRecord], ShopPlatform]


class UowFactory(Protocol):
    """Opens one unit of work; a ``readonly`` one never writes."""

    def __call__(self, *, readonly: bool = False) -> UnitOfWork: ...


class AfterSaleRepo(Protocol):
    """The after-sale aggregate (``uow.aftersales``): cases, their lines, interception states
    (written only through ``move_intercepts*``: checked, conditional, recorded) and receipts."""

    def upsert_cases(self, rows: list[dict[str, Any]]) -> None: ...
    def set_lines(self, rows: list[dict[str, Any]]) -> None: ...
    def case(self, aftersale_id: str) -> dict[str, Any] | None: ...
    def list_cases(self, *, status: str = "open", stage: str | None = None,
                   limit: int = 200) -> list[dict[str, Any]]: ...
    def untouched_refund_cases(self, statuses: Iterable[int]) -> list[dict[str, Any]]: ...
    def orders_with_intercept_in(self, order_ids: Iterable[str], states: Iterable[str]
                                 ) -> set[str]: ...
    def returns_not_received(self) -> list[dict[str, Any]]: ...
    def other_cases_of_order(self, order_id: str, aftersale_id: str
                             ) -> list[dict[str, Any]]: ...
    def open_siblings(self, order_id: str, aftersale_id: str, not_in: Iterable[str]
                      ) -> list[str]: ...
    def claims_older_than(self, state: str, before: int,
                          aftersale_ids: Iterable[str] | None = None) -> list[str]: ...
    def cases_to_follow(self, states: Iterable[str], shop_ref: int | None = None
                        ) -> list[dict[str, Any]]: ...
    def lock_claim_rows(self, order_id: str, aftersale_id: str) -> list[dict[str, Any]]: ...
    def lock_cases(self, aftersale_ids: Iterable[str]) -> None: ...
    def intercept_states(self, aftersale_ids: Iterable[str]) -> dict[str, str]: ...
    def move_intercepts(self, moves: dict[str, tuple[str, str]], **values: Any
                        ) -> list[str]: ...
    def move_intercepts_from(self, aftersale_ids: Iterable[str],
                             sources: frozenset[InterceptState], target: InterceptState,
                             **values: Any) -> list[str]: ...
    def order_ids_of(self, aftersale_ids: Iterable[str]) -> list[str]: ...
    def case_ids_of_order(self, order_id: str) -> list[str]: ...
    def claim_receipt(self, aftersale_id: str, now: int) -> bool: ...
    def close_receipt(self, aftersale_id: str, **values: Any) -> None: ...


class WmsRepo(Protocol):
    """The warehouse aggregate (``uow.wms``): what went out to a third-party warehouse."""

    def unsent_packs(self, states: Sequence[str], limit: int) -> list[int]: ...
    def stopped_after_export(self, states: Sequence[str]) -> list[tuple[int, str]]: ...
    def mark_cancel_sent(self, pack_ids: Iterable[int], now: int) -> None: ...
    def record_exported(self, pack_ids: Iterable[int], file_name: str, now: int) -> None: ...
    def mark_confirmed(self, pack_ids: Iterable[int], now: int) -> None: ...


class ParcelReads(Protocol):
    """What the after-sale flow reads of the tracking aggregate (``uow.tracking``)."""

    def shipped_parcels(self, order_ids: Iterable[str]
                        ) -> dict[str, dict[int, tuple[str, str | None]]]: ...
    def orders_with_tracker_in(self, order_ids: Iterable[str], states: Iterable[str]
                               ) -> set[str]: ...
    def tracked_numbers(self, track_nos: Iterable[str]) -> set[str]: ...
    def add_trackers(self, rows: list[dict[str, Any]]) -> int: ...


class SkuSightings(Protocol):
    """What stock sync learns from the stock aggregate (``uow.stock``)."""

    def skus_sold_as(self, codes: Iterable[str]) -> list[dict[str, Any]]: ...
    def upsert_shop_skus(self, rows: list[dict[str, Any]]) -> None: ...


class HandoverRepo(Protocol):
    """Hand-over lists (``uow.handover``): a pack on one list at most; list states move only
    through ``move`` (``domain.handover.HANDOVER``)."""

    def candidates(self, shop_ref: int, since: int) -> list[dict[str, Any]]: ...
    def netsite_names(self, shop_ref: int) -> dict[tuple[str, str], str]: ...
    def add_list(self, *, shop_ref: int, courier_code: str, netsite_code: str,
                 items: Sequence[tuple[int, str, str]], actor: str, now: int
                 ) -> tuple[int, int]: ...
    def get(self, list_id: int, *, lock: bool = False) -> dict[str, Any] | None: ...
    def lists(self, *, shop_ref: int | None = None, state: str | None = None,
              limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]: ...
    def items(self, list_id: int) -> list[dict[str, Any]]: ...
    def move(self, moves: dict[int, tuple[str, str]], **values: Any) -> list[int]: ...
    def handed_over(self, track_nos: Iterable[str]) -> dict[tuple[str, str], HandedOver]: ...


class BoardReads(Protocol):
    """The 今天 board's counts (``uow.board``, ``adapters/store/board_queries.py``)."""

    def orders_by_state(self) -> dict[str, int]: ...
    def holds_by_reason(self) -> dict[str, int]: ...
    def packs_by_state(self, states: Iterable[str]) -> dict[str, int]: ...
    def due(self, states: Iterable[str], now: int, soon_s: int) -> tuple[int, int]: ...
    def open_findings_by_kind(self) -> dict[str, int]: ...
    def open_after_sales(self) -> int: ...
    def shop_troubles(self, now: int, warn_s: int) -> list[dict[str, Any]]: ...


class ReportReads(Protocol):
    """Analytics reads (``uow.reports``, ``adapters/store/report_queries.py``): aggregates
    over parcels confirmed in [start, stop) epoch seconds, optionally one shop's."""

    def volume_by_day(self, shop_ref: int | None, start: int, stop: int
                      ) -> list[dict[str, Any]]: ...
    def volume_by_sku(self, shop_ref: int | None, start: int, stop: int
                      ) -> list[dict[str, Any]]: ...
    def volume_by(self, what: str, shop_ref: int | None, start: int, stop: int
                  ) -> list[dict[str, Any]]: ...
    def paid_by_hour(self, shop_ref: int | None, start: int, stop: int
                     ) -> list[dict[str, Any]]: ...
    def span_histograms(self, shop_ref: int | None, start: int, stop: int
                        ) -> dict[str, list[tuple[int, int]]]: ...
    def punctuality(self, shop_ref: int | None, start: int, stop: int, now: int
                    ) -> dict[str, int]: ...
    def returns_by_sku(self, shop_ref: int | None, start: int, stop: int
                       ) -> list[dict[str, Any]]: ...
    def orders_returned(self, shop_ref: int | None, start: int, stop: int, code: str,
                        limit: int = 500) -> list[dict[str, Any]]: ...
    def delivery(self, shop_ref: int | None, start: int, stop: int
                 ) -> list[dict[str, Any]]: ...
    def delivery_hours(self, shop_ref: int | None, start: int, stop: int
                       ) -> list[dict[str, Any]]: ...
    def courier_parcels(self, shop_ref: int | None, start: int, stop: int, courier: str,
                        province: str, limit: int = 500) -> list[dict[str, Any]]: ...
    def findings_by(self, shop_ref: int | None, start: int, stop: int
                    ) -> list[dict[str, Any]]: ...
    def finding_close_hours(self, shop_ref: int | None, start: int, stop: int
                            ) -> list[dict[str, Any]]: ...


class ReportWorkbook(Protocol):
    """Writes report tables to a workbook (``adapters/files/report_xlsx.py``): one sheet per
    (title, header, rows); .xlsx bytes."""

    def render(self, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]
               ) -> bytes: ...


class HandoverDocuments(Protocol):
    """Renders a hand-over list (``adapters/labels/handover.py``): "pdf" or "xlsx" bytes."""

    def render(self, sheet: Sheet, fmt: str) -> bytes: ...


@dataclass(frozen=True)
class Table:
    """A spreadsheet's first sheet as read: the header cells, each non-blank row with its line
    number as the merchant's spreadsheet shows it, and the file's SHA-256 (hex)."""

    name: str
    header: list[Any]
    rows: list[tuple[int, list[Any]]]
    digest: str = ""


class TableReader(Protocol):
    """The file port: reads an uploaded .xlsx / .csv within ``limits``."""

    def read_table(self, name: str, data: bytes, limits: UploadLimits) -> Table:
        """Raises ``UploadRefused`` (in Chinese) when the file is refused as a whole."""
        ...


class Notifier(Protocol):
    """Alert channels (``adapters/notify/registry.py``): the kinds, how to send, and the one
    grouping of findings into alerts (one per kind, no more often than the interval)."""

    @property
    def kinds(self) -> tuple[str, ...]: ...

    def required(self, kind: str) -> tuple[str, ...]: ...

    def build(self, channel: dict[str, Any]) -> Any:
        """Raises ValueError / KeyError / TypeError for a configuration it cannot use."""
        ...

    def send(self, channel: dict[str, Any], alert: Any) -> str | None:
        """None when delivered, else what went wrong."""
        ...

    def group(self, findings: Iterable[tuple[str, str]], *, interval_s: int,
              last_sent: Mapping[str, int], now: int, titles: Mapping[str, str],
              links: Mapping[str, str] | None = None, max_lines: int = 30) -> list[Any]:
        """Alerts (``kind``, ``title``, ``lines``, ``count``) for the kinds that are due."""
        ...

    def wanted_by(self, routes: Mapping[str, Iterable[str]], kind: str) -> list[str]: ...


class Capability(StrEnum):
    """What a courier / tracking provider can do for fahuo (declared by each provider)."""

    SUBSCRIBE = "subscribe"      # asked once, then it pushes
    POLL = "poll"                # asked per number
    PUSH = "push"                # pushes arrive at /webhooks/<provider>/<account>
    INTERCEPT = "intercept"      # turns a parcel round (快递拦截)
    REACHABILITY = "reachability"  # says whether it delivers to an address


@dataclass(frozen=True)
class AccountField:
    """One credential of a provider account: must it be given, is it a secret (hidden)."""

    name: str
    required: bool = True
    secret: bool = False


@dataclass(frozen=True)
class PushAnswer:
    """A push checked by its provider: the HTTP status and exact body to answer with, the
    text to store (None: refused, nothing stored) and, for a forged one, why (logged)."""

    status: int
    reply: str
    body: str | None = None
    rejected: str | None = None


@dataclass(frozen=True)
class InterceptAnswer:
    """A courier-side interception the provider accepted: its code and words, its
    undocumented ``data`` as it came, and what was asked for (e.g. 退回寄件地址)."""

    code: int
    message: str
    data: Any
    asked_for: str


class Carrier(Protocol):
    """One courier / tracking provider (``adapters/carriers/registry.py``). ``name`` is what
    accounts and trackers store (``tracking_accounts.provider``, ``trackers.source``)."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str:
        """For error messages and logs (English)."""
        ...
    @property
    def label(self) -> str:
        """For merchants (Chinese)."""
        ...
    @property
    def capabilities(self) -> frozenset[Capability]: ...
    @property
    def account_fields(self) -> tuple[AccountField, ...]:
        """Empty: no account (the shop's own platform)."""
        ...

    def can(self, capability: Capability) -> bool: ...

    def status(self, state: str | int | None, sub_state: str | int | None = None
               ) -> Mapped:
        """The provider's own code (and sub-code) in fahuo's tracking model."""
        ...

    # -- tracking -------------------------------------------------------------------------
    def client(self, account: dict[str, Any], *, clock: Callable[[], float]) -> Any:
        """The client for an account (one per account: it keeps the per-number query guard)."""
        ...

    def subscribe(self, client: Any, account: dict[str, Any], tracker: dict[str, Any],
                  callback_url: str) -> None: ...

    def query(self, client: Any, tracker: dict[str, Any]) -> list[TrackingEvent]:
        """Ask about one tracker. ``client`` is the account's, or the shop's platform for a
        provider without accounts."""
        ...

    def check_credentials(self, credentials: dict[str, Any]
                          ) -> tuple[dict[str, Any], list[str]]:
        """Beyond the required fields: the credentials as stored, and what is wrong."""
        ...

    # -- pushes ---------------------------------------------------------------------------
    def refuse_push(self, reason: str) -> str:
        """The provider's failure body (unknown account)."""
        ...

    def check_push(self, account: dict[str, Any], form: dict[str, Any]) -> PushAnswer: ...

    def read_push(self, body: str) -> list[tuple[str, list[TrackingEvent], bool]]:
        """A stored push: (tracking number, its events, tracking stopped) per parcel.
        Raises ``InvalidPush`` or ValueError for a body it cannot read."""
        ...

    # -- interception (``Capability.INTERCEPT``) -------------------------------------------
    def intercept_route(self, accounts: list[dict[str, Any]], courier: str
                        ) -> tuple[dict[str, Any] | None, Any]:
        """(account, what it needs for this courier), or (None, what is missing)."""
        ...

    def send_back(self, account: dict[str, Any], route: Any, *, order_id: str, courier: str,
                  track_no: str, reason: str) -> InterceptAnswer:
        """Ask the courier to return the parcel to the sender. Raises the provider's error
        (refused, or its answer lost) or ValueError (a stored setup it would refuse)."""
        ...

    def intercept_view(self, account: dict[str, Any]) -> dict[str, Any]:
        """What interception through this account can do, without a secret in it."""
        ...

    def intercept_setup_problems(self, *, secret: str | None, label_url: str | None
                                 ) -> list[str]:
        """What is wrong with these interception settings (checked before any read)."""
        ...

    def intercept_setup(self, credentials: dict[str, Any], *, secret: str | None,
                        label_url: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the credentials with the settings, what the audit entry says)."""
        ...

    def intercept_partner(self, courier: str, fields: dict[str, Any]
                          ) -> tuple[str, dict[str, str]]:
        """The courier's own account for interception, checked: (courier code, fields).
        ValueError names what is wrong, an unknown courier code included."""
        ...

    def partners(self, credentials: dict[str, Any]) -> dict[str, dict[str, str]]: ...

    def with_partners(self, credentials: dict[str, Any],
                      partners: dict[str, dict[str, str]]) -> dict[str, Any]: ...


class Carriers(Protocol):
    """The registry of providers (``adapters/carriers/registry.py``)."""

    def get(self, name: str) -> Carrier:
        """KeyError for a provider fahuo does not have."""
        ...

    def all(self) -> tuple[Carrier, ...]: ...

    def able(self, capability: Capability) -> tuple[Carrier, ...]: ...

    @property
    def fallback(self) -> Carrier:
        """Who tracks a parcel no account tracks (the shop's own platform)."""
        ...


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
