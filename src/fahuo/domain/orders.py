"""Orders as the merchant sees them, and the order lifecycle every later step obeys.

Pure: no SQL, no HTTP. The platform says what the shop thinks (``platform_status``); fahuo's
own ``OrderState`` says where the parcel is in *our* pipeline. A platform update may push the
state forward (paid → shipped when someone shipped from the Douyin back office) but never back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from fahuo.domain.lifecycle import IllegalTransition as IllegalTransition  # re-exported
from fahuo.domain.lifecycle import Lifecycle


class OrderState(StrEnum):
    UNPAID = "unpaid"
    SYNCED = "synced"
    HELD = "held"
    APPROVED = "approved"
    WAYBILL_TAKEN = "waybill_taken"
    PRINTED = "printed"
    PARTLY_SHIPPED = "partly_shipped"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    INTERCEPTED = "intercepted"
    RETURNED = "returned"


S = OrderState

# Explicit transition table: the only moves anything in fahuo may make.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    # An unpaid order seen again late may already be shipped or done: the platform is right.
    S.UNPAID: frozenset({S.SYNCED, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.CANCELLED,
                         S.REFUNDED}),
    S.SYNCED: frozenset({S.HELD, S.APPROVED, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED,
                         S.CANCELLED, S.REFUNDED}),
    S.HELD: frozenset({S.APPROVED, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.CANCELLED,
                       S.REFUNDED}),
    S.APPROVED: frozenset({S.HELD, S.WAYBILL_TAKEN, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED,
                           S.CANCELLED, S.REFUNDED}),
    # → APPROVED: the label was voided (a merged partner cancelled): the order is planned again.
    S.WAYBILL_TAKEN: frozenset({S.HELD, S.APPROVED, S.PRINTED, S.PARTLY_SHIPPED, S.SHIPPED,
                                S.DELIVERED, S.CANCELLED, S.REFUNDED}),
    S.PRINTED: frozenset({S.HELD, S.APPROVED, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED,
                          S.CANCELLED, S.REFUNDED}),
    S.PARTLY_SHIPPED: frozenset({S.SHIPPED, S.IN_TRANSIT, S.DELIVERED, S.REFUNDED,
                                 S.INTERCEPTED}),
    # Tracking moves a shipped order on (in transit, delivered); after-sales when a parcel
    # is turned round (intercepted) or goods come back to the merchant (returned).
    S.SHIPPED: frozenset({S.IN_TRANSIT, S.DELIVERED, S.REFUNDED, S.INTERCEPTED, S.RETURNED}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.REFUNDED, S.INTERCEPTED, S.RETURNED}),
    # → RETURNED: the buyer sent the goods back (退货退款) and they were received.
    S.DELIVERED: frozenset({S.REFUNDED, S.RETURNED}),
    S.INTERCEPTED: frozenset({S.RETURNED, S.DELIVERED, S.REFUNDED}),
    S.RETURNED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# What a platform status alone may create a row in (``state_from_platform``).
NEW = frozenset({S.UNPAID, S.SYNCED, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.CANCELLED,
                 S.REFUNDED})
ORDER: Lifecycle[OrderState] = Lifecycle("order", TRANSITIONS, NEW)

# Progress rank: platform updates may only raise it. Held and approved are the same step
# (a person's decision, not progress); terminal states outrank everything.
RANK: dict[OrderState, int] = {
    S.UNPAID: 0, S.SYNCED: 1, S.HELD: 2, S.APPROVED: 2, S.WAYBILL_TAKEN: 3, S.PRINTED: 4,
    S.PARTLY_SHIPPED: 5, S.SHIPPED: 6, S.IN_TRANSIT: 7, S.INTERCEPTED: 8, S.DELIVERED: 8,
    S.RETURNED: 9, S.CANCELLED: 10, S.REFUNDED: 10,
}

PRE_SHIPMENT = frozenset({S.UNPAID, S.SYNCED, S.HELD, S.APPROVED, S.WAYBILL_TAKEN, S.PRINTED})
TERMINAL = ORDER.terminal
# Orders that left, in part at least: whatever the parcel did since (every reader of
# "shipped" orders takes these, not "shipped" alone).
SENT = frozenset({S.PARTLY_SHIPPED, S.SHIPPED, S.IN_TRANSIT, S.DELIVERED, S.INTERCEPTED,
                  S.RETURNED})
# Orders a hold can still stop: not left yet and past the platform's payment check.
HOLDABLE = ORDER.sources(S.HELD)
# Orders tracking moves on: wholly shipped (a partly shipped order still has lines to send,
# and stays so until they leave).
ON_THE_WAY = frozenset({S.SHIPPED, S.IN_TRANSIT})
# What after-sales may turn into intercepted / returned.
INTERCEPTABLE = frozenset({S.SHIPPED, S.IN_TRANSIT})
RETURNABLE = frozenset({S.SHIPPED, S.IN_TRANSIT, S.DELIVERED, S.INTERCEPTED})


def can_move(current: OrderState, target: OrderState) -> bool:
    return ORDER.can_move(current, target)


# Platform shop-order status (order_status) → the state it proves at least.
PLATFORM_STATUS_NAMES = {
    1: "待支付", 105: "已支付(待处理)", 2: "待发货", 101: "部分发货", 3: "已发货",
    4: "已取消", 5: "已完成",
}
# main_status values that mean the money went back (§6.2): 21 before shipping, 22/39 after.
REFUND_MAIN_STATUSES = frozenset({21, 22, 39})


def state_from_platform(order_status: int, main_status: int | None = None) -> OrderState:
    """What the platform's status alone says about an order."""
    if main_status in REFUND_MAIN_STATUSES:
        return S.REFUNDED
    return {
        1: S.UNPAID, 105: S.SYNCED, 2: S.SYNCED, 101: S.PARTLY_SHIPPED, 3: S.SHIPPED,
        4: S.CANCELLED, 5: S.DELIVERED,
    }.get(order_status, S.SYNCED)


def apply_platform_status(current: OrderState | None, order_status: int,
                          main_status: int | None = None) -> OrderState:
    """fahuo's state after the platform reports a status: forward or unchanged, never back."""
    seen = state_from_platform(order_status, main_status)
    if current is None:
        return seen
    if seen == current or RANK[seen] <= RANK[current]:
        return current
    return seen if can_move(current, seen) else current


def move(order_id: str, current: OrderState, target: OrderState) -> OrderState:
    """A move fahuo itself makes (approve, hold, take a waybill…); illegal ones raise."""
    return ORDER.move(order_id, current, target)


@dataclass(slots=True)
class SubOrder:
    """One product line (商品单) of a parent order."""

    sku_order_id: str
    product_id: str
    sku_id: str
    merchant_code: str
    product_name: str
    quantity: int
    pay_amount: int  # fen
    order_status: int
    after_sale_status: int = 0
    after_sale_type: int | None = None
    refund_status: int | None = None
    presale_type: int = 0
    exp_ship_time: int | None = None
    spec: str = ""
    # Units the merchant agreed to refund before shipment (未发货仅退款 cases that succeeded,
    # by their item count): known from the after-sale sync, 0 while none is known.
    refunded_units: int = 0


@dataclass(slots=True)
class Receiver:
    """Receiver as the platform gives it: ciphertexts we can hand back, masks we can show."""

    name_cipher: str = ""
    phone_cipher: str = ""
    detail_cipher: str = ""
    name_mask: str = ""
    phone_mask: str = ""
    address_mask: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    # Plain values only when the platform sent them; stored encrypted, never logged.
    name_plain: str = ""
    phone_plain: str = ""
    detail_plain: str = ""


@dataclass(slots=True)
class Order:
    """A parent (shop) order, as of the platform's ``update_time``."""

    order_id: str
    shop_id: str
    order_status: int
    main_status: int | None
    create_time: int
    pay_time: int | None
    update_time: int
    exp_ship_time: int | None
    order_amount: int
    pay_amount: int
    post_amount: int
    buyer_words: str
    seller_words: str
    seller_remark_stars: int
    presale_type: int
    receiver: Receiver
    sub_orders: list[SubOrder] = field(default_factory=list)
    buyer_id: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def platform_status_name(self) -> str:
        return PLATFORM_STATUS_NAMES.get(self.order_status, str(self.order_status))


def is_newer(incoming_update_time: int, stored_update_time: int | None) -> bool:
    """An update replaces what we hold only if it is at least as new (same second re-read is
    harmless and lets a detail fetch fill in what a list page left out)."""
    return stored_update_time is None or incoming_update_time >= stored_update_time
