"""Shop settings: ship-from addresses, default courier, e-waybill accounts, pipeline rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fahuo.adapters.labels.zpl import zpl_font_problem
from fahuo.domain.couriers import courier_code, courier_name
from fahuo.domain.holds import AuditRules
from fahuo.domain.names import CONFIRM_MODE
from fahuo.domain.packs import SkuFacts, SplitRules
from fahuo.domain.regions import province_of
from fahuo.domain.routing import CostTable, CourierRule
from fahuo.domain.rule_errors import field_problems
from fahuo.domain.watch import WatchRules
from fahuo.services.ports import PlatformFactory, UowFactory

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

CONFIRM_MODES = ("on_print", "on_scan", "on_waybill")
# A new shop confirms shipment once the label is printed: a number taken is not a parcel sent.
DEFAULT_CONFIRM_MODE = "on_print"
CONFIRM_MODE_NAMES = CONFIRM_MODE
ON_WAYBILL_WARNING = ("取号后发货：一取到运单号就向平台回传发货，此时面单还没打印、包裹还没出库；"
                      "若快递迟迟不揽收，平台会判为虚假发货（揽收超时），可能被处罚。"
                      "建议使用打印后发货或扫描后发货。")
REFUND_POLICIES = ("block", "reject")
EDITABLE = ("default_courier", "confirm_mode", "refund_policy", "merge_window_s",
            "ship_from_address_id", "sender_name", "sender_phone", "audit_rules",
            "courier_rules", "cost_table", "split_rules", "sku_facts", "label_receiver",
            "watch_rules", "zpl_font")


# What each setting is called on the settings form (the errors name them too).
SETTING_NAMES = {
    "default_courier": "默认快递", "confirm_mode": "回传发货时机", "refund_policy": "退款策略",
    "merge_window_s": "合单时间窗", "ship_from_address_id": "发货地址",
    "sender_name": "发件人", "sender_phone": "发件电话", "audit_rules": "审单规则",
    "courier_rules": "快递策略", "cost_table": "运费表", "split_rules": "拆单规则",
    "sku_facts": "商品资料", "label_receiver": "自绘面单收件人", "watch_rules": "物流预警阈值",
    "zpl_font": "ZPL 打印机字体",
}


class SettingsError(ValueError):
    """Names every setting that is wrong; nothing was saved. ``problems`` is keyed by the
    setting, or, inside the rules, by the field: ``courier_rules.0.max_weight_g`` (the first
    rule's field), ``audit_rules.amount_threshold_fen``; ``courier_rules.0`` or
    ``audit_rules`` alone when the error names no field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        try:
            if key not in EDITABLE:
                raise ValueError(f"未知的设置项；可修改的有：{'、'.join(EDITABLE)}")
            if key == "default_courier":
                code = courier_code(str(value)) if value else None
                if value and code is None:
                    raise ValueError(f"未知的快递公司 {value!r}")
                clean[key] = code
            elif key == "confirm_mode":
                if value not in CONFIRM_MODES:
                    raise ValueError("回传发货时机只能是 " + "、".join(
                        f"{CONFIRM_MODE_NAMES[m]} ({m})" for m in CONFIRM_MODES))
                clean[key] = value
            elif key == "refund_policy":
                if value not in REFUND_POLICIES:
                    raise ValueError(f"只能是 {'、'.join(REFUND_POLICIES)} 之一")
                clean[key] = value
            elif key == "label_receiver":
                if value not in ("masked", "plain"):
                    raise ValueError("只能是 masked（打码）或 plain（明文）")
                clean[key] = value
            elif key == "zpl_font":  # the printer's font: the rule render_zpl applies
                font = str(value or "").strip()
                problem = zpl_font_problem(font)
                if problem:
                    raise ValueError(problem)
                clean[key] = font
            elif key == "merge_window_s":
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 7 * 86400:
                    raise ValueError("须为 0（不合单）到 604800 之间的整秒数")
                clean[key] = value
            elif key == "ship_from_address_id":
                clean[key] = str(value or "").strip() or None
            elif key in ("sender_name", "sender_phone"):
                clean[key] = str(value or "").strip()
            elif key == "audit_rules":
                try:
                    clean[key] = AuditRules.from_dict(value).to_dict()
                except ValueError as exc:
                    problems.update({_path(key, f): v for f, v in field_problems(exc).items()})
            elif key == "watch_rules":
                if not isinstance(value, dict):
                    raise ValueError("须为各项阈值（秒）组成的对象")
                clean[key] = WatchRules.from_dict(value).to_dict()
            elif key == "courier_rules":
                if not isinstance(value, list):
                    raise ValueError("须为规则列表（按顺序，先匹配的生效）")
                rules, bad = [], {}
                for n, r in enumerate(value):  # every rule's every problem, at once
                    try:
                        rules.append(CourierRule.from_dict(r).to_dict())
                    except ValueError as exc:
                        bad.update({_path(f"{key}.{n}", f): f"第{n + 1}条：{v}"
                                    for f, v in field_problems(exc).items()})
                if bad:
                    problems.update(bad)
                else:
                    clean[key] = rules
            elif key == "cost_table":
                clean[key] = CostTable.from_dict(value).to_dict() if value else {}
            elif key == "split_rules":
                clean[key] = SplitRules.from_dict(value).to_dict()
            elif key == "sku_facts":
                if not isinstance(value, dict):
                    raise ValueError("须为 商家编码 → {weight_g 重量克, warehouse 仓库, large 大件} 的对象")
                clean[key] = {str(k): SkuFacts.from_dict(v).to_dict() for k, v in value.items()}
        except (ValueError, TypeError) as exc:
            problems[key] = str(exc)
    if problems:
        raise SettingsError(problems)
    return clean


def _path(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if field else prefix


def settings_warnings(cfg: dict[str, Any], accounts: set[str] | None = None) -> list[str]:
    """What a merchant must know about the settings as they stand (Chinese). ``accounts``:
    the couriers the shop has an e-waybill account for, when the caller knows them."""
    out = [ON_WAYBILL_WARNING] if cfg.get("confirm_mode") == "on_waybill" else []
    default = cfg.get("default_courier")
    if accounts is not None and accounts and default and default not in accounts:
        out.append(f"默认快递{courier_name(default)}没有电子面单账户：没有规则适用的订单会因"
                   "无法取号而挂起（超区）。请选有面单账户的快递，或先从平台同步面单账户。")
    return out


def account_couriers(sites: list[dict[str, Any]]) -> list[str]:
    """The couriers the shop has an e-waybill account (网点) for, in the order stored."""
    return list(dict.fromkeys(s["courier_code"] for s in sites))


def with_warnings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The settings with their ``warnings`` (what the API answers and the CLI shows)."""
    return {**cfg, "warnings": settings_warnings(cfg)}


def update_settings(uow_factory: UowFactory, shop_ref: int, changes: dict[str, Any],
                    actor: str) -> dict[str, Any]:
    """Saves the changes; the answer is the settings with their ``warnings``."""
    try:
        clean, problems = validate(changes), {}
    except SettingsError as exc:
        clean, problems = {}, dict(exc.problems)
    with uow_factory() as u:
        if u.shops.get(shop_ref) is None:
            raise SettingsError({"shop": f"店铺 #{shop_ref} 不存在"})
        address = str(changes.get("ship_from_address_id") or "").strip()
        if address and address not in {a["address_id"] for a in u.settings.addresses(shop_ref)}:
            problems["ship_from_address_id"] = (f"地址库里没有地址 {address}：先从平台同步"
                                                "地址库，或添加手工地址")
        if problems:  # every wrong setting named at once, nothing saved
            raise SettingsError(problems)
        u.settings.save(shop_ref, clean)
        if "audit_rules" in clean:  # what the old rules held, the new ones judge again
            u.pipeline.forget_audits(shop_ref)
        u.audit.add(actor=actor, action="settings.update", subject_type="shop",
                    subject_id=str(shop_ref), detail={k: ("***" if k.startswith("sender_")
                                                          else v) for k, v in clean.items()})
        cfg = u.settings.get(shop_ref)
        accounts = set(account_couriers(u.settings.netsites(shop_ref)))
        return {**cfg, "warnings": settings_warnings(cfg, accounts)}


def refresh_from_platform(uow_factory: UowFactory, platform_for: PlatformFactory,
                          shop_ref: int) -> dict[str, int]:
    """Pull the address book and e-waybill accounts (with balances) from the platform."""
    with uow_factory() as u:
        shop = u.shops.get(shop_ref)
    if shop is None:
        raise SettingsError({"shop": f"店铺 #{shop_ref} 不存在"})
    api = platform_for(shop)
    addresses = [{"address_id": a.address_id, "name": a.name, "province": a.province,
                  "city": a.city, "district": a.district, "street": a.street,
                  "detail": a.detail, "is_default_send": a.is_default_send,
                  "is_default_return": a.is_default_return}
                 for a in api.all_addresses()]
    sites = [{"courier_code": n.courier_code, "netsite_code": n.netsite_code,
              "netsite_name": n.netsite_name, "balance": n.balance,
              "company_type": n.company_type, "sender_address": n.sender_addresses}
             for n in api.netsites("")]
    with uow_factory() as u:
        u.settings.replace_addresses(shop_ref, addresses)
        u.settings.replace_netsites(shop_ref, sites)
        cfg = u.settings.get(shop_ref)
        if not cfg["default_courier"] and sites:
            u.settings.save(shop_ref, {"default_courier": sites[0]["courier_code"]})
    return {"addresses": len(addresses), "netsites": len(sites)}


ADDRESS_FIELDS = {"name": ("联系人", 64), "phone": ("电话", 20), "province": ("省份", 32),
                  "city": ("城市", 32), "district": ("区县", 32), "street": ("街道", 64),
                  "detail": ("详细地址", 200)}
ADDRESS_REQUIRED = ("name", "phone", "province", "city", "detail")
_ADDRESS_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_PHONE = re.compile(r"[0-9+\- ]{5,20}")


def save_address(uow_factory: UowFactory, shop_ref: int, address_id: str,
                 values: dict[str, Any], actor: str, *, default_send: bool = False) -> str:
    """Add or change a ship-from address typed by the merchant (platform refreshes keep it);
    an empty phone keeps the stored one. An address the platform's book holds is changed in the Douyin back office, not here:
    the next refresh would bring the platform's back. Every wrong field is named at once
    (``SettingsError`` keyed by the field); nothing is saved then."""
    problems: dict[str, str] = {}
    aid = str(address_id or "").strip()
    if not _ADDRESS_ID.fullmatch(aid):
        problems["address_id"] = "地址编号须为 1–32 位字母、数字、- 或 _"
    clean: dict[str, str] = {}
    with uow_factory() as u:
        book = {a["address_id"]: a for a in u.settings.addresses(shop_ref)}
    for key, (label, most) in ADDRESS_FIELDS.items():
        v = str(values.get(key) or "").strip()
        if key == "phone" and not v and book.get(aid, {}).get("source") == "manual":
            v = book[aid]["phone"]  # an empty phone box keeps the phone stored
        if key in ADDRESS_REQUIRED and not v:
            problems[key] = f"{label}不能为空"
        elif len(v) > most:
            problems[key] = f"{label}最多 {most} 个字"
        clean[key] = v
    if clean["phone"] and not _PHONE.fullmatch(clean["phone"]):
        problems["phone"] = "电话须为 5–20 位数字（可含 +、-、空格）"
    if clean["province"] and province_of(clean["province"]) is None:
        problems["province"] = f"未知省份 {clean['province']!r}"
    with uow_factory() as u:
        if u.shops.get(shop_ref) is None:
            raise SettingsError({"shop": f"店铺 #{shop_ref} 不存在"})
        book = {a["address_id"]: a for a in u.settings.addresses(shop_ref)}
        if aid in book and book[aid]["source"] == "platform":
            problems["address_id"] = (f"{aid} 是抖店地址库的地址：请在抖店后台修改后点“从平台同步”，"
                                      "或换一个地址编号另存为手工地址")
        if problems:
            raise SettingsError(problems)
        clean["province"] = province_of(clean["province"]) or clean["province"]
        u.settings.save_manual_address(shop_ref, {
            "address_id": aid, **clean, "is_default_send": bool(default_send),
            "is_default_return": bool(book.get(aid, {}).get("is_default_return", False))})
        u.audit.add(actor=actor, action="address.save", subject_type="shop",
                    subject_id=str(shop_ref), detail={"address_id": aid})
    return aid


def balances(uow_factory: UowFactory, shop_ref: int | None = None) -> list[dict[str, Any]]:
    with uow_factory() as u:
        return _balances(u, shop_ref)


def low_balances(u: UnitOfWork) -> list[dict[str, Any]]:
    """The e-waybill branches under their alert line, inside the caller's unit of work."""
    return [r for r in _balances(u, None) if r["low"]]


def _balances(u: UnitOfWork, shop_ref: int | None) -> list[dict[str, Any]]:
    rows = u.settings.netsites(shop_ref)
    for r in rows:
        r["low"] = r["balance"] is not None and r["balance"] < r["low_balance_alert"]
        r.pop("sender_address", None)
    return rows

