"""Holds: reasons an order may not ship yet, kept as orthogonal flags beside its state.

Copied from 旺店通's ``bad_reason`` / ``block_reason`` bitmasks (merchant-expectations §4): a
hold blocks progress without changing the order's state, several can stand at once, and each
is cleared on its own. ``audit`` computes the rule-driven holds; an order with none is approved
automatically. Pure: the caller passes ``now`` and the facts it looked up (stock, courier range).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from fahuo.domain.clock import shop_time
from fahuo.domain.money import yuan_text
from fahuo.domain.orders import Order, Receiver, SubOrder
from fahuo.domain.packs import is_line_shippable
from fahuo.domain.regions import CITIES_WITHOUT_DISTRICTS, province_of
from fahuo.domain.rule_errors import FieldErrors


class HoldReason(StrEnum):
    BUYER_REMARK = "buyer_remark"
    SELLER_REMARK = "seller_remark"
    ADDRESS_INCOMPLETE = "address_incomplete"
    OUT_OF_RANGE = "out_of_range"
    RISK_CONTROL = "risk_control"
    PRESALE_NOT_DUE = "presale_not_due"
    AFTER_SALE_OPEN = "after_sale_open"
    AMOUNT_ABOVE = "amount_above"
    BLACKLISTED = "blacklisted"
    STOCK_SHORT = "stock_short"
    MANUAL = "manual"
    WAYBILL_FAILED = "waybill_failed"
    SHIP_FAILED = "ship_failed"
    ADDRESS_CHANGED = "address_changed"
    # A step of the pass raised for this order alone: it waits, the others go on.
    PIPELINE_ERROR = "pipeline_error"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def waivable(self) -> bool:
        """Whether a person may release the order while this reason still stands.

        Not waivable: the platform refuses to ship (风控), or no courier can deliver (bad
        address, out of range). Those clear only when the fact changes and a re-audit agrees.
        """
        return self not in _NOT_WAIVABLE

    @property
    def from_audit(self) -> bool:
        """Computed by ``audit`` from rules (recomputed on every re-audit), as opposed to set
        by an event (a person, a failed platform call, an address-change push)."""
        return self not in _EVENT_REASONS


R = HoldReason

_LABELS: dict[HoldReason, str] = {
    R.BUYER_REMARK: "买家留言", R.SELLER_REMARK: "商家备注/旗标",
    R.ADDRESS_INCOMPLETE: "地址不完整", R.OUT_OF_RANGE: "超区", R.RISK_CONTROL: "风控审核中",
    R.PRESALE_NOT_DUE: "预售未到发货期", R.AFTER_SALE_OPEN: "售后中", R.AMOUNT_ABOVE: "金额超限",
    R.BLACKLISTED: "黑名单", R.STOCK_SHORT: "库存不足", R.MANUAL: "人工挂起",
    R.WAYBILL_FAILED: "取号失败", R.SHIP_FAILED: "发货失败", R.ADDRESS_CHANGED: "地址变更待确认",
    R.PIPELINE_ERROR: "处理出错",
}
_NOT_WAIVABLE = frozenset({R.RISK_CONTROL, R.ADDRESS_INCOMPLETE, R.OUT_OF_RANGE})
_EVENT_REASONS = frozenset({R.MANUAL, R.WAYBILL_FAILED, R.SHIP_FAILED, R.ADDRESS_CHANGED,
                            R.PIPELINE_ERROR})


@dataclass(frozen=True, slots=True)
class Hold:
    reason: HoldReason
    detail: str = ""

    @property
    def text(self) -> str:
        """One line for the merchant's screen: "买家留言：发顺丰"."""
        return f"{self.reason.label}：{self.detail}" if self.detail else self.reason.label


# after_sale_status (doudian-open-platform §6.2). Open = the buyer's request is still running:
# 6 申请, 7 退货中, 11 售后已发货, 13 换货商家发货, 14 换货用户收货, 29 退货后拒绝退款 (the buyer
# may still appeal). Closed: 0 初始化, 12 成功, 27 商家已拒绝, 28 失败/买家撤销, 51 取消成功,
# 53 逆向交易完成. refund_status is NOT used: a buyer-cancelled after-sale keeps refund_status 1.
OPEN_AFTER_SALE_STATUSES = frozenset({6, 7, 11, 13, 14, 29})
RISK_CONTROL_STATUS = 105  # "已支付(风控订单不发货)"

DEFAULT_IGNORE_REMARKS = (
    "尽快发货", "早点发货", "快点发货", "发货快点", "尽快发", "早点发", "快点发", "速发",
    "谢谢老板", "谢谢", "辛苦了", "麻烦了", "包装好点", "包装好一点", "好评",
)
_NOT_WORDS = re.compile(r"[\W_]+", re.UNICODE)  # punctuation, spaces, emoji left after removal


@dataclass(slots=True)
class AuditRules:
    """What puts an order on hold. Defaults are what a busy shop expects out of the box:
    hold anything a human wrote or flagged, wave through courtesy remarks, leave money and
    blacklist checks off until the merchant fills them in."""

    # A buyer remark usually asks for something (another courier, a gift, a colour change).
    hold_on_buyer_remark: bool = True
    # Remarks made only of these phrases (plus punctuation) do not hold; matched as substrings.
    ignore_remark_patterns: tuple[str, ...] = DEFAULT_IGNORE_REMARKS
    # A seller remark is written for the packer; a flag (旗标, 1 紫 2 青 3 绿 4 橙 5 红) means
    # someone marked the order. Shops that use a colour for "checked" remove it from the set.
    hold_on_seller_remark: bool = True
    hold_on_star_flags: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    check_address: bool = True
    hold_presale: bool = True
    # Release presale orders this long before exp_ship_time: the normal 48 h in-stock window.
    presale_lead_s: int = 48 * 3600
    hold_after_sale: bool = True
    amount_threshold_fen: int | None = None  # off: every shop's "large" differs
    blacklist_buyer_ids: frozenset[str] = frozenset()
    # Exact ciphertexts or plain values of phone / address detail (see ``receiver_identity``).
    blacklist_address_keys: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRules:
        """Rules from stored settings; unknown keys and bad values raise ValueError naming
        the field, so a typo in a settings form never silently turns a check off."""
        if not isinstance(data, Mapping):
            raise FieldErrors({"": f"审核规则应为对象（键值对），收到 {type(data).__name__}"})
        known = {f.name for f in fields(cls)}
        problems: dict[str, str] = {}
        unknown = sorted(set(data) - known)
        if unknown:
            problems[""] = f"审核规则：未知字段 {'、'.join(unknown)}"
        kw: dict[str, Any] = {}
        for key, value in data.items():
            if key in known:
                try:
                    kw[key] = _PARSERS[key](key, value)
                except ValueError as exc:
                    problems[key] = str(exc)
        if problems:
            raise FieldErrors(problems)
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hold_on_buyer_remark": self.hold_on_buyer_remark,
            "ignore_remark_patterns": list(self.ignore_remark_patterns),
            "hold_on_seller_remark": self.hold_on_seller_remark,
            "hold_on_star_flags": sorted(self.hold_on_star_flags),
            "check_address": self.check_address,
            "hold_presale": self.hold_presale,
            "presale_lead_s": self.presale_lead_s,
            "hold_after_sale": self.hold_after_sale,
            "amount_threshold_fen": self.amount_threshold_fen,
            "blacklist_buyer_ids": sorted(self.blacklist_buyer_ids),
            "blacklist_address_keys": sorted(self.blacklist_address_keys),
        }


# What the audit rules' fields are called on the settings form (and in their errors).
AUDIT_FIELD_NAMES = {
    "hold_on_buyer_remark": "买家留言挂起", "ignore_remark_patterns": "忽略的客套留言",
    "hold_on_seller_remark": "商家备注挂起", "hold_on_star_flags": "挂起的旗标颜色",
    "check_address": "检查地址完整", "hold_presale": "预售未到期挂起",
    "presale_lead_s": "预售提前放行", "hold_after_sale": "售后中挂起",
    "amount_threshold_fen": "金额上限", "blacklist_buyer_ids": "买家黑名单",
    "blacklist_address_keys": "收件人电话/地址黑名单",
}


def _named(key: str) -> str:
    return f"审核规则：{AUDIT_FIELD_NAMES.get(key, key)}（{key}）"


def _bool(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{_named(key)}应为 true 或 false，收到 {v!r}")
    return v


def _nonneg_int(key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{_named(key)}应为 ≥ 0 的整数，收到 {v!r}")
    return v


def _opt_nonneg_int(key: str, v: Any) -> int | None:
    return None if v is None else _nonneg_int(key, v)


def _strings(key: str, v: Any) -> list[str]:
    if isinstance(v, str) or not isinstance(v, Iterable):
        raise ValueError(f"{_named(key)}应为文本列表，收到 {v!r}")
    out = []
    for item in v:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{_named(key)}中有空的或非文本的项 {item!r}")
        out.append(item.strip())
    return out


def _stars(key: str, v: Any) -> frozenset[int]:
    if isinstance(v, str) or not isinstance(v, Iterable):
        raise ValueError(f"{_named(key)}应为旗帜编号 1–5 的列表，收到 {v!r}")
    out = set()
    for item in v:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 5:
            raise ValueError(f"{_named(key)}中有 {item!r}；旗帜编号为 1–5 "
                             "(1紫 2青 3绿 4橙 5红)")
        out.add(item)
    return frozenset(out)


_PARSERS = {
    "hold_on_buyer_remark": _bool,
    "ignore_remark_patterns": lambda k, v: tuple(_strings(k, v)),
    "hold_on_seller_remark": _bool,
    "hold_on_star_flags": _stars,
    "check_address": _bool,
    "hold_presale": _bool,
    "presale_lead_s": _nonneg_int,
    "hold_after_sale": _bool,
    "amount_threshold_fen": _opt_nonneg_int,
    "blacklist_buyer_ids": lambda k, v: frozenset(_strings(k, v)),
    "blacklist_address_keys": lambda k, v: frozenset(_strings(k, v)),
}


def remark_needs_a_look(remark: str, ignore_patterns: Iterable[str]) -> bool:
    """True unless the remark is empty or made only of courtesy phrases ("尽快发货，谢谢！")."""
    text = unicodedata.normalize("NFKC", remark or "")
    for pattern in sorted(ignore_patterns, key=len, reverse=True):
        text = text.replace(unicodedata.normalize("NFKC", pattern), "")
    return bool(_NOT_WORDS.sub("", text))


def address_problem(receiver: Receiver) -> str | None:
    """Which part of the address is missing or unrecognised; None if a courier can use it."""
    missing = []
    if not receiver.province.strip():
        missing.append("缺少省份")
    elif province_of(receiver.province) is None:
        missing.append(f"无法识别省份“{receiver.province.strip()}”")
    if not receiver.city.strip():
        missing.append("缺少城市")
    if not receiver.district.strip() and not (
            receiver.city.strip() in CITIES_WITHOUT_DISTRICTS and receiver.street.strip()):
        missing.append("缺少区县")
    if not (receiver.detail_cipher or receiver.detail_plain or receiver.address_mask).strip():
        missing.append("缺少详细地址")
    return "，".join(missing) or None


def receiver_identity(receiver: Receiver) -> frozenset[str]:
    """Values a blacklist entry can name: phone and address detail, ciphertext or plain.
    Masks are left out on purpose: "138****1234" is shared by many different buyers."""
    return frozenset(v for v in (receiver.phone_cipher, receiver.detail_cipher,
                                 receiver.phone_plain, receiver.detail_plain) if v)


def open_after_sale(sub: SubOrder) -> bool:
    return sub.after_sale_status in OPEN_AFTER_SALE_STATUSES


def _sku_label(sub: SubOrder) -> str:
    return f"{sub.product_name}（{sub.spec}）" if sub.spec else (sub.product_name or sub.sku_order_id)


def _presale_hold(order: Order, rules: AuditRules, now: int) -> Hold | None:
    # Only lines still to ship: a refunded presale line has no date to wait for.
    presale_subs = [s for s in order.sub_orders if s.presale_type and is_line_shippable(s)]
    if not presale_subs and not (order.presale_type and any(
            is_line_shippable(s) for s in order.sub_orders)):
        return None
    dues = [s.exp_ship_time or order.exp_ship_time for s in presale_subs] or [order.exp_ship_time]
    if any(d is None for d in dues):
        return Hold(R.PRESALE_NOT_DUE, "预售订单没有发货期限，请人工确认何时发货")
    # The earliest deadline decides: the whole order must leave by then.
    due = min(d for d in dues if d is not None)
    release_at = due - rules.presale_lead_s
    if now < release_at:
        return Hold(R.PRESALE_NOT_DUE, f"预计于{shop_time(release_at)}自动放行"
                                       f"（最晚发货{shop_time(due)}）")
    return None


def audit(order: Order, rules: AuditRules, now: int, *, stock_short: Iterable[str] = (),
          out_of_range: bool = False) -> list[Hold]:
    """The rule-driven holds on an order; an empty list means approve. Judged on the lines
    still to ship (see ``packs.is_line_shippable``); an order with none left is not the
    audit's to approve (``packs.closing_state`` says how it ends).

    ``stock_short``: sku_order_ids of this order that stock cannot cover (the caller counts).
    ``out_of_range``: no courier strategy could reach the receiver (see routing.choose_courier).
    Holds come back in a fixed order (the HoldReason order), one per reason.
    """
    holds: list[Hold] = []
    if order.order_status == RISK_CONTROL_STATUS:
        holds.append(Hold(R.RISK_CONTROL, "平台风控审核中，审核通过后自动放行"))
    if rules.hold_on_buyer_remark and remark_needs_a_look(order.buyer_words,
                                                          rules.ignore_remark_patterns):
        holds.append(Hold(R.BUYER_REMARK, order.buyer_words.strip()))
    if rules.hold_on_seller_remark:
        parts = []
        if order.seller_words.strip():
            parts.append(order.seller_words.strip())
        if order.seller_remark_stars in rules.hold_on_star_flags:
            parts.append(f"旗标{_STAR_NAMES.get(order.seller_remark_stars, order.seller_remark_stars)}")
        if parts:
            holds.append(Hold(R.SELLER_REMARK, "；".join(parts)))
    if rules.check_address and (problem := address_problem(order.receiver)):
        holds.append(Hold(R.ADDRESS_INCOMPLETE, problem))
    if out_of_range:
        holds.append(Hold(R.OUT_OF_RANGE, "没有可送达的快递，请换快递或联系买家"))
    if rules.hold_presale and (presale := _presale_hold(order, rules, now)):
        holds.append(presale)
    if rules.hold_after_sale:
        open_subs = [s for s in order.sub_orders if open_after_sale(s)]
        if open_subs:
            holds.append(Hold(R.AFTER_SALE_OPEN, "、".join(_sku_label(s) for s in open_subs)))
    if rules.amount_threshold_fen is not None and order.pay_amount > rules.amount_threshold_fen:
        holds.append(Hold(R.AMOUNT_ABOVE, f"实付{yuan_text(order.pay_amount)}，超过"
                                          f"{yuan_text(rules.amount_threshold_fen)}"))
    black = []
    if order.buyer_id and order.buyer_id in rules.blacklist_buyer_ids:
        black.append("买家在黑名单")
    if receiver_identity(order.receiver) & rules.blacklist_address_keys:
        black.append("收件人电话或地址在黑名单")
    if black:
        holds.append(Hold(R.BLACKLISTED, "，".join(black)))
    short = set(stock_short)
    short_subs = [s for s in order.sub_orders if s.sku_order_id in short]
    if short_subs:
        holds.append(Hold(R.STOCK_SHORT, "、".join(_sku_label(s) for s in short_subs)))
    return holds


STAR_NAMES = {1: "紫", 2: "青", 3: "绿", 4: "橙", 5: "红"}  # 旗标 colours
_STAR_NAMES = STAR_NAMES


def reaudit(current: Iterable[Hold], fresh: Iterable[Hold]) -> list[Hold]:
    """Holds after a re-audit: the audit's own reasons are replaced by the fresh result; holds
    set by events (a person, a failed call, an address change) stay until cleared explicitly."""
    kept = [h for h in current if not h.reason.from_audit]
    merged = kept + [h for h in fresh if h.reason.from_audit]
    order = list(HoldReason)
    return sorted(merged, key=lambda h: order.index(h.reason))


def unwaivable(holds: Iterable[Hold]) -> list[Hold]:
    """Holds a person cannot release past (see ``HoldReason.waivable``)."""
    return [h for h in holds if not h.reason.waivable]


def summary(holds: Iterable[Hold]) -> str:
    """"买家留言、超区" for a list column."""
    return "、".join(dict.fromkeys(h.reason.label for h in holds))
