"""Packs: which orders travel together (合单) and how one order splits into parcels (拆单).

A pack is one parcel with one waybill. Merging puts several orders of one buyer into one pack
(shipped with ``order.logisticsAddSinglePack``); splitting spreads one order over several packs
(``order.logisticsAddMultiPack``), doudian-open-platform §8.2–§8.3. A pack's lifecycle
(``PackState``, ``PACK``) is at the end.

Over 400 lines on purpose: merging, splitting, the line rules and the pack lifecycle are the
one concept of a parcel, and every part reads the others.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from fahuo.domain.lifecycle import Lifecycle
from fahuo.domain.orders import Order, OrderState, SubOrder

# ---------------------------------------------------------------- merging (合单)

# Orders still waiting for a waybill; later states already have their own parcel.
MERGEABLE_STATES = frozenset({OrderState.SYNCED, OrderState.APPROVED})


@dataclass(frozen=True, slots=True)
class MergeCandidate:
    order_id: str
    shop_id: str
    buyer_id: str
    receiver_key: str
    pay_time: int | None
    held: bool
    state: OrderState


def receiver_key(order: Order) -> str:
    """Same key ⇔ same person at the same address, as far as the platform lets us see.

    Per field the strongest form wins: ciphertext, else plain, else mask. Equal ciphertexts
    mean equal plaintexts only if the platform encrypts deterministically; if it does not,
    orders simply never merge (safe). Masks alone ("张*", "138****1234") could collide, so
    they need every part present. The key is a hash: no receiver data is stored twice.
    Empty string: not enough to go on, never merge.
    """
    r = order.receiver
    parts = []
    for cipher, plain, mask in ((r.name_cipher, r.name_plain, r.name_mask),
                                (r.phone_cipher, r.phone_plain, r.phone_mask),
                                (r.detail_cipher, r.detail_plain, r.address_mask)):
        if cipher:
            parts.append("c:" + cipher)
        elif plain:
            parts.append("p:" + plain)
        elif mask:
            parts.append("m:" + mask)
        else:
            return ""
    if not (r.province and r.city):
        return ""
    parts += [r.province, r.city, r.district, r.street]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def can_merge(c: MergeCandidate) -> bool:
    return (not c.held and c.state in MERGEABLE_STATES and bool(c.shop_id) and bool(c.buyer_id)
            and bool(c.receiver_key) and c.pay_time is not None)


def plan_merges(candidates: Iterable[MergeCandidate], window_s: int) -> list[list[str]]:
    """Groups of ≥ 2 order ids to ship as one pack.

    Same shop, same buyer, same receiver key, none held, each paid within ``window_s`` of the
    group's first payment (a window anchored at the first order, so a group cannot creep on
    forever). Orders are taken in pay-time order; an order outside the window starts the next
    group. Each order is in at most one group. Output is deterministic: groups sorted by their
    first payment, ids inside by pay time then id.
    """
    if window_s < 0:
        raise ValueError(f"合并时间窗应 ≥ 0 秒，收到 {window_s}")
    seen: set[str] = set()
    by_key: dict[tuple[str, str, str], list[MergeCandidate]] = {}
    for c in candidates:
        if c.order_id in seen:
            raise ValueError(f"订单 {c.order_id} 在待合并订单中出现了两次")
        seen.add(c.order_id)
        if can_merge(c):
            by_key.setdefault((c.shop_id, c.buyer_id, c.receiver_key), []).append(c)
    groups: list[list[MergeCandidate]] = []
    for members in by_key.values():
        members.sort(key=lambda c: (c.pay_time, c.order_id))
        current: list[MergeCandidate] = []
        for c in members:
            if current and c.pay_time - current[0].pay_time > window_s:  # type: ignore[operator]
                groups.append(current)
                current = []
            current.append(c)
        groups.append(current)
    groups = [g for g in groups if len(g) >= 2]
    groups.sort(key=lambda g: (g[0].pay_time, g[0].order_id))
    return [[c.order_id for c in g] for g in groups]


# ---------------------------------------------------------------- splitting (拆单)

@dataclass(frozen=True, slots=True)
class SkuFacts:
    """What the merchant knows about a SKU (keyed by merchant code, 商家编码)."""

    warehouse: str = ""
    weight_g: int = 0
    large: bool = False  # 独立大件: every unit travels alone
    tags: frozenset[str] = frozenset()
    bin: str = ""  # 库位: where the picker finds it (pick-route order)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkuFacts:
        _check_keys("商品信息", data, ("warehouse", "weight_g", "large", "tags", "bin"))
        warehouse = data.get("warehouse", "")
        if not isinstance(warehouse, str):
            raise ValueError(f"商品信息：仓库 (warehouse) 应为文本，收到 {warehouse!r}")
        tags = data.get("tags", ())
        if isinstance(tags, str) or not isinstance(tags, Iterable) or not all(
                isinstance(t, str) and t.strip() for t in tags):
            raise ValueError(f"商品信息：标签 (tags) 应为非空文本的列表，收到 {tags!r}")
        bin_ = data.get("bin", "")
        if not isinstance(bin_, str):
            raise ValueError(f"商品信息：库位 (bin) 应为文本，收到 {bin_!r}")
        return cls(warehouse.strip(), _int("商品信息", "weight_g", data.get("weight_g", 0), 0),
                   _flag("商品信息", "large", data.get("large", False)),
                   frozenset(t.strip() for t in tags), bin_.strip())

    def to_dict(self) -> dict[str, Any]:
        return {"warehouse": self.warehouse, "weight_g": self.weight_g, "large": self.large,
                "tags": sorted(self.tags), "bin": self.bin}


@dataclass(frozen=True, slots=True)
class SplitRules:
    per_warehouse: bool = True
    large_item_alone: bool = True
    max_pack_weight_g: int | None = None  # e.g. 30000 for couriers' per-parcel limit

    def __post_init__(self) -> None:
        if self.max_pack_weight_g is not None and self.max_pack_weight_g <= 0:
            raise ValueError(f"拆包规则：max_pack_weight_g 应 > 0 或留空，收到 "
                             f"{self.max_pack_weight_g}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SplitRules:
        _check_keys("拆包规则", data, ("per_warehouse", "large_item_alone",
                                          "max_pack_weight_g"))
        limit = data.get("max_pack_weight_g")
        return cls(_flag("拆包规则", "per_warehouse", data.get("per_warehouse", True)),
                   _flag("拆包规则", "large_item_alone", data.get("large_item_alone", True)),
                   None if limit is None else _int("拆包规则", "max_pack_weight_g", limit, 1))

    def to_dict(self) -> dict[str, Any]:
        return {"per_warehouse": self.per_warehouse, "large_item_alone": self.large_item_alone,
                "max_pack_weight_g": self.max_pack_weight_g}


def _check_keys(what: str, data: Any, known: tuple[str, ...]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}应为对象（键值对），收到 {type(data).__name__}")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{what}：未知字段 {'、'.join(map(str, unknown))}")


def _flag(what: str, key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{what}：{key} 应为 true 或 false，收到 {v!r}")
    return v


def _int(what: str, key: str, v: Any, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ValueError(f"{what}：{key} 应为 ≥ {minimum} 的整数，收到 {v!r}")
    return v


@dataclass(frozen=True, slots=True)
class PackLine:
    sku_order_id: str
    quantity: int


class NothingToShip(ValueError):
    """A parcel was asked for with no line in it: a pack always carries at least one unit of
    every order it names (an order with nothing left to ship is closed, see
    ``closing_state``, never packed)."""


@dataclass(frozen=True, slots=True)
class PackPlan:
    lines: tuple[PackLine, ...]
    warehouse: str
    # True: stock is short for these lines; the caller ships the other packs now and
    # re-plans these when stock arrives (they are not split further until then).
    later: bool = False
    why: str = ""
    weight_g: int | None = None  # None when some SKU's weight is unknown

    def __post_init__(self) -> None:
        if not self.lines:
            raise NothingToShip("包裹里没有商品")
        bad = [ln.sku_order_id for ln in self.lines if ln.quantity < 1]
        if bad:
            raise NothingToShip(f"包裹里每个商品至少 1 件：{'、'.join(bad)}")


_UNKNOWN = SkuFacts()
# Sub-order order_status 4 = closed; a refunded line (after_sale 12 + refund 3) is not sent.
_CLOSED_LINE_STATUS = 4
_SHIPPED_LINE_STATUSES = frozenset({3, 5})  # 已发货, 已完成


class LineStatus(Protocol):
    """What says whether a line still ships: a SubOrder, or a row carrying these fields."""

    order_status: int
    quantity: int
    after_sale_status: int
    refund_status: int | None
    refunded_units: int


def units_to_ship(sub: LineStatus) -> int:
    """Units of a line still going to the buyer: none when it is closed; its quantity less
    the units refunded before shipment (a line of 3 with 1 refunded still sends 2). A line
    the platform shows refunded (售后成功, money back) whose case fahuo has not read yet
    counts as refunded whole, as the platform ships nothing of it then."""
    if sub.order_status == _CLOSED_LINE_STATUS or sub.quantity <= 0:
        return 0
    if _refunded(sub) and not sub.refunded_units:
        return 0
    return max(0, sub.quantity - sub.refunded_units)


def units_to_keep(sub: LineStatus) -> int:
    """Units of a line its reservation keeps: what it still sends, except that a line shown
    refunded before its case (and so how many units) is known keeps them all until then: a
    partial refund read late must not find its units sold to someone else."""
    if _refunded(sub) and not sub.refunded_units and sub.order_status != _CLOSED_LINE_STATUS:
        return max(0, sub.quantity)
    return units_to_ship(sub)


def is_line_shippable(sub: LineStatus) -> bool:
    """Lines that still go to the buyer: at least one unit left to send."""
    return units_to_ship(sub) > 0


def units_sent(sub: LineStatus, in_confirmed_packs: int = 0) -> int:
    """Units of a line that left for the buyer: those in fahuo's confirmed parcels, or, once
    the platform shows the line shipped (it may have been shipped in the Douyin back office),
    the line less what was refunded before it left. A refund after shipping changes nothing
    here: those units went out."""
    if sub.order_status in _SHIPPED_LINE_STATUSES:
        return max(in_confirmed_packs, max(0, sub.quantity - sub.refunded_units))
    return in_confirmed_packs


def _refunded(sub: LineStatus) -> bool:
    return sub.after_sale_status == 12 and sub.refund_status == 3


def closing_state(lines: Iterable[LineStatus]) -> OrderState | None:
    """How an order ends when none of its lines is left to ship: REFUNDED if a line was
    refunded, else CANCELLED (every line closed). None while something still ships, and for
    an order without lines (nothing to judge by: planning refuses it instead)."""
    lines = list(lines)
    if not lines or any(is_line_shippable(s) for s in lines):
        return None
    return OrderState.REFUNDED if any(_refunded(s) for s in lines) else OrderState.CANCELLED


def one_pack(orders: Sequence[Order], why: str = "整单一包") -> PackPlan:
    """Every line still to ship of one order, or of a merged group, in one parcel. Raises
    ``NothingToShip`` when one of the orders has no such line: the platform ships a merged
    parcel only if each listed order has a line in it."""
    if not orders:
        raise NothingToShip("包裹至少要有一个订单")
    lines: list[PackLine] = []
    for o in orders:
        mine = [PackLine(s.sku_order_id, units_to_ship(s)) for s in o.sub_orders
                if is_line_shippable(s)]
        if not mine:
            raise NothingToShip(f"订单{o.order_id}没有可发的商品")
        lines += mine
    return PackPlan(tuple(lines), "", False, why)


def plan_split(order: Order, facts: Mapping[str, SkuFacts], rules: SplitRules = SplitRules(),
               *, short_sku_orders: Collection[str] = frozenset()) -> list[PackPlan]:
    """The packs one order ships in; one pack when nothing forces a split.

    Splits, in this order: lines short of stock go to "later" packs (one per warehouse);
    per warehouse; each unit of a large item alone; the rest filled up to
    ``max_pack_weight_g`` (a unit heavier than the limit goes alone). ``facts`` is keyed by
    merchant code; a SKU without facts counts as warehouse "", weight unknown, not large.
    Only shippable lines (see ``is_line_shippable``) are planned.
    """
    lines = [s for s in order.sub_orders if is_line_shippable(s)]
    buckets: dict[tuple[bool, str], list[SubOrder]] = {}
    for s in lines:
        wh = facts.get(s.merchant_code, _UNKNOWN).warehouse
        later = s.sku_order_id in short_sku_orders
        buckets.setdefault((later, wh if rules.per_warehouse else ""), []).append(s)
    several_warehouses = len({facts.get(s.merchant_code, _UNKNOWN).warehouse for s in lines}) > 1

    packs: list[PackPlan] = []
    for (later, _), subs in sorted(buckets.items(), key=lambda kv: kv[0][0]):  # stable: now first
        warehouse = _common_warehouse(subs, facts)
        by_wh = f"（{warehouse or '默认仓'}）" if rules.per_warehouse and several_warehouses else ""
        if later:
            packs.append(_pack([(s, units_to_ship(s)) for s in subs], warehouse, facts, True,
                               f"库存不足，待补货后发{by_wh}"))
            continue
        normal: list[SubOrder] = []
        large_units: list[SubOrder] = []
        for s in subs:
            if rules.large_item_alone and facts.get(s.merchant_code, _UNKNOWN).large:
                large_units.append(s)
            else:
                normal.append(s)
        split_wh = "按仓库拆分" + by_wh if by_wh else ""
        groups = _fill_by_weight(normal, facts, rules.max_pack_weight_g)
        by_weight = "超过单包重量上限，分包" if len(groups) > 1 else ""
        for group in groups:
            packs.append(_pack(group, warehouse, facts, False, _join(split_wh, by_weight)))
        for s in large_units:
            for _ in range(units_to_ship(s)):
                packs.append(_pack([(s, 1)], warehouse, facts, False, _join(
                    split_wh, f"大件单独成包：{s.product_name or s.merchant_code}")))
    if len(packs) == 1 and not packs[0].later:
        packs[0] = PackPlan(packs[0].lines, packs[0].warehouse, False, "整单一包", packs[0].weight_g)
    return packs


def _join(*parts: str) -> str:
    return "；".join(p for p in parts if p)


def _common_warehouse(subs: list[SubOrder], facts: Mapping[str, SkuFacts]) -> str:
    whs = {facts.get(s.merchant_code, _UNKNOWN).warehouse for s in subs}
    return whs.pop() if len(whs) == 1 else ""


def _fill_by_weight(subs: list[SubOrder], facts: Mapping[str, SkuFacts],
                    limit: int | None) -> list[list[tuple[SubOrder, int]]]:
    """Units in line order, poured into packs up to ``limit`` grams (next-fit: predictable,
    and a line's units stay together as far as the limit allows)."""
    if not subs:
        return []
    if limit is None:
        return [[(s, units_to_ship(s)) for s in subs]]
    packs: list[list[tuple[SubOrder, int]]] = []
    current: list[tuple[SubOrder, int]] = []
    load = 0
    for s in subs:
        w = facts.get(s.merchant_code, _UNKNOWN).weight_g
        for _ in range(units_to_ship(s)):
            if current and load + w > limit:
                packs.append(current)
                current, load = [], 0
            if current and current[-1][0] is s:
                current[-1] = (s, current[-1][1] + 1)
            else:
                current.append((s, 1))
            load += w
    packs.append(current)
    return packs


def _pack(units: list[tuple[SubOrder, int]], warehouse: str, facts: Mapping[str, SkuFacts],
          later: bool, why: str) -> PackPlan:
    weight: int | None = 0
    for s, q in units:
        f = facts.get(s.merchant_code)
        weight = None if f is None or weight is None else weight + f.weight_g * q
    return PackPlan(tuple(PackLine(s.sku_order_id, q) for s, q in units), warehouse, later,
                    why, weight)


# ---------------------------------------------------------------- pack ids

_ORDER_ID = re.compile(r"\d+A?")


def waybill_order_id(order_id: str) -> str:
    """The id ``newCreateOrder`` takes: historic ids lose their trailing "A" (§9.2)."""
    return order_id[:-1] if order_id.endswith("A") else order_id


def pack_ids(order_id: str, n: int, *, attempt: int = 1) -> list[str]:
    """Pack ids for ``newCreateOrder``: "p1", "p2", … (letters, digits, "_").

    Every pack gets an explicit id, the first one too: (order_id, pack_id) is the platform's
    idempotency key (§9.2), so a retried call returns the same number instead of a second one,
    and a plan that grows from one pack to two cannot reuse the first pack's number by
    accident. A new number for the same pack (the old one cancelled) needs a new id:
    ``attempt`` 2 gives "p1_r2", …
    """
    if not _ORDER_ID.fullmatch(order_id or ""):
        raise ValueError(f"pack ids: order id must be digits, got {order_id!r}")
    if n < 0 or attempt < 1:
        raise ValueError(f"pack ids: need n ≥ 0 and attempt ≥ 1, got n={n}, attempt={attempt}")
    suffix = "" if attempt == 1 else f"_r{attempt}"
    return [f"p{i}{suffix}" for i in range(1, n + 1)]


# ---------------------------------------------------------------- a pack's lifecycle


class PackState(StrEnum):
    PLANNED = "planned"                  # made, no number asked yet
    WAYBILL_PENDING = "waybill_pending"  # its key is stored, the number is being asked for
    WAYBILL_TAKEN = "waybill_taken"
    PRINTED = "printed"
    SCANNED = "scanned"                  # at the packing station or confirmed by a warehouse
    MANUAL = "manual"                    # a number the merchant imported: only that import ships it
    CONFIRMED = "confirmed"              # the platform shows it shipped
    FAILED = "failed"                    # the number or the confirmation was refused: held
    STALE = "stale"                      # the label is void (address changed, line refunded)
    CANCELLED = "cancelled"              # voided; its number (if any) went back


P = PackState
_GOING = frozenset({P.CONFIRMED, P.FAILED, P.STALE, P.CANCELLED})
PACK_TRANSITIONS: dict[PackState, frozenset[PackState]] = {
    P.PLANNED: frozenset({P.WAYBILL_PENDING, P.CANCELLED}),
    P.WAYBILL_PENDING: frozenset({P.WAYBILL_TAKEN, P.FAILED, P.STALE, P.CANCELLED}),
    P.WAYBILL_TAKEN: frozenset({P.PRINTED, P.SCANNED}) | _GOING,
    P.PRINTED: frozenset({P.SCANNED}) | _GOING,
    P.SCANNED: _GOING,
    P.MANUAL: _GOING,
    # released by a person: the number is tried again, or (none yet) planned again
    P.FAILED: frozenset({P.WAYBILL_TAKEN, P.PLANNED, P.CONFIRMED, P.STALE, P.CANCELLED}),
    P.STALE: frozenset({P.CONFIRMED, P.CANCELLED}),
    # The platform accepted a confirmation while fahuo voided the pack (another process):
    # its word wins, the parcel is on its way.
    P.CANCELLED: frozenset({P.CONFIRMED}),
    P.CONFIRMED: frozenset(),
}
PACK: Lifecycle[PackState] = Lifecycle("pack", PACK_TRANSITIONS,
                                       frozenset({P.PLANNED, P.MANUAL}))
# A pack that still goes out as it is (a refusal fails it; a void makes it stale).
GOING_OUT = frozenset({P.WAYBILL_PENDING, P.WAYBILL_TAKEN, P.PRINTED, P.SCANNED, P.MANUAL})
