"""Shop settings: ship-from addresses, default courier, e-waybill accounts, pipeline rules."""

from __future__ import annotations

from typing import Any

from fahuo.adapters.labels.zpl import zpl_font_problem
from fahuo.domain.couriers import courier_code
from fahuo.domain.holds import AuditRules
from fahuo.domain.packs import SkuFacts, SplitRules
from fahuo.domain.routing import CostTable, CourierRule
from fahuo.domain.watch import WatchRules
from fahuo.services.ports import PlatformFactory, UowFactory

CONFIRM_MODES = ("on_print", "on_scan", "on_waybill")
# A new shop confirms shipment once the label is printed: a number taken is not a parcel sent.
DEFAULT_CONFIRM_MODE = "on_print"
CONFIRM_MODE_NAMES = {"on_print": "打印后发货", "on_scan": "扫描后发货",
                      "on_waybill": "取号后发货"}
ON_WAYBILL_WARNING = ("取号后发货：一取到运单号就向平台回传发货，此时面单还没打印、包裹还没出库；"
                      "若快递迟迟不揽收，平台会判为虚假发货（揽收超时），可能被处罚。"
                      "建议使用打印后发货或扫描后发货。")
REFUND_POLICIES = ("block", "reject")
EDITABLE = ("default_courier", "confirm_mode", "refund_policy", "merge_window_s",
            "ship_from_address_id", "sender_name", "sender_phone", "audit_rules",
            "courier_rules", "cost_table", "split_rules", "sku_facts", "label_receiver",
            "watch_rules", "zpl_font")


class SettingsError(ValueError):
    """Names every setting that is wrong; nothing was saved."""

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
                clean[key] = AuditRules.from_dict(value).to_dict()
            elif key == "watch_rules":
                if not isinstance(value, dict):
                    raise ValueError("须为各项阈值（秒）组成的对象")
                clean[key] = WatchRules.from_dict(value).to_dict()
            elif key == "courier_rules":
                if not isinstance(value, list):
                    raise ValueError("须为规则列表（按顺序，先匹配的生效）")
                clean[key] = [CourierRule.from_dict(r).to_dict() for r in value]
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


def settings_warnings(cfg: dict[str, Any]) -> list[str]:
    """What a merchant must know about the settings as they stand (Chinese)."""
    return [ON_WAYBILL_WARNING] if cfg.get("confirm_mode") == "on_waybill" else []


def with_warnings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The settings with their ``warnings`` (what the API answers and the CLI shows)."""
    return {**cfg, "warnings": settings_warnings(cfg)}


def update_settings(uow_factory: UowFactory, shop_ref: int, changes: dict[str, Any],
                    actor: str) -> dict[str, Any]:
    """Saves the changes; the answer is the settings with their ``warnings``."""
    clean = validate(changes)
    with uow_factory() as u:
        if u.shops.get(shop_ref) is None:
            raise SettingsError({"shop": f"店铺 #{shop_ref} 不存在"})
        u.settings.save(shop_ref, clean)
        if "audit_rules" in clean:  # what the old rules held, the new ones judge again
            u.pipeline.forget_audits(shop_ref)
        u.audit.add(actor=actor, action="settings.update", subject_type="shop",
                    subject_id=str(shop_ref), detail={k: ("***" if k.startswith("sender_")
                                                          else v) for k, v in clean.items()})
        return with_warnings(u.settings.get(shop_ref))


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


def balances(uow_factory: UowFactory, shop_ref: int | None = None) -> list[dict[str, Any]]:
    with uow_factory() as u:
        rows = u.settings.netsites(shop_ref)
    for r in rows:
        r["low"] = r["balance"] is not None and r["balance"] < r["low_balance_alert"]
        r.pop("sender_address", None)
    return rows

