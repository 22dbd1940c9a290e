"""The shop page's settings forms: what a form posts becomes the settings ``update_settings``
takes, and stored settings (or what was typed) become the values the forms show.

Units are the merchant's: amounts in 元 (stored in fen), the presale lead in hours (stored in
seconds), lists typed with commas, spaces or one per line. A value that is not even a number
is named here, by the same key the service uses (``courier_rules.0.min_amount_fen``), so the
page shows it beside its field together with what the service finds wrong with the rest.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fahuo.domain import money
from fahuo.domain.holds import AuditRules

BASIC = ("default_courier", "confirm_mode", "refund_policy", "label_receiver", "zpl_font",
         "merge_window_s", "ship_from_address_id", "sender_name", "sender_phone")
KEEP_WHEN_EMPTY = ("sender_phone", "zpl_font")  # an empty box changes nothing
RULE_TEXTS = ("cities", "sku_codes", "product_tags")
RULE_GRAMS = ("min_weight_g", "max_weight_g")
RULE_MONEY = {"min_amount": "min_amount_fen", "max_amount": "max_amount_fen"}
AUDIT_FLAGS = ("hold_on_buyer_remark", "hold_on_seller_remark", "check_address",
               "hold_presale", "hold_after_sale")
AUDIT_LISTS = ("ignore_remark_patterns", "blacklist_buyer_ids", "blacklist_address_keys")
MAX_RULES = 200
_SPLIT = re.compile(r"[,，、;；\s]+")
_LINES = re.compile(r"[\r\n]+")
_YUAN = re.compile(r"\d{1,9}(?:\.\d{1,2})?")
_WHOLE = re.compile(r"\d{1,9}")
_HOURS = re.compile(r"\d{1,6}(?:\.\d{1,2})?")


def yuan(fen: int | None) -> str:
    """What a money field shows: ``12``, ``12.50``, "" when unset."""
    return money.yuan(fen, trim=True)


def _fen(raw: str, key: str, problems: dict[str, str]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not _YUAN.fullmatch(raw):
        problems[key] = f"金额请写成元，如 99 或 99.50，收到 {raw!r}"
        return None
    return int(Decimal(raw) * 100)


def _grams(raw: str, key: str, problems: dict[str, str]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not _WHOLE.fullmatch(raw):
        problems[key] = f"重量请写整数克数，如 3000（3 公斤），收到 {raw!r}"
        return None
    return int(raw)


def words(raw: str) -> list[str]:
    return [w for w in _SPLIT.split(raw or "") if w]


def lines(raw: str) -> list[str]:
    return [w.strip() for w in _LINES.split(raw or "") if w.strip()]


# ---- basic settings --------------------------------------------------------------------
def basic_changes(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes, problems) of the basic settings form; a field not posted changes nothing."""
    changes: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key in BASIC:
        if key not in form:
            continue
        raw = str(form[key])
        if key in KEEP_WHEN_EMPTY and not raw.strip():
            continue
        if key == "merge_window_s":
            if not raw.strip():
                continue
            if not _WHOLE.fullmatch(raw.strip()):
                problems[key] = f"请写整秒数，如 3600（1 小时），0 不合单，收到 {raw!r}"
                continue
            changes[key] = int(raw.strip())
        else:
            changes[key] = raw
    return changes, problems


def basic_view(cfg: dict[str, Any], form: Any = None) -> dict[str, Any]:
    """What the basic form shows: stored values, or what was typed when a save failed (the
    phone is never shown back; its box stays empty with the masked value as a hint)."""
    view = {k: ("" if cfg.get(k) is None else cfg.get(k)) for k in BASIC}
    view["sender_phone"] = ""
    if form is not None:
        for key in BASIC:
            if key in form and key != "sender_phone":
                view[key] = str(form[key])
    return view


# ---- courier strategy rules ------------------------------------------------------------
def rule_view(rule: dict[str, Any]) -> dict[str, Any]:
    return {"name": rule.get("name", ""), "courier_code": rule.get("courier_code", ""),
            "provinces": list(rule.get("provinces", ())),
            **{k: "、".join(rule.get(k, ())) for k in RULE_TEXTS},
            **{k: "" if rule.get(k) is None else str(rule[k]) for k in RULE_GRAMS},
            **{k: yuan(rule.get(fen)) for k, fen in RULE_MONEY.items()},
            "enabled": bool(rule.get("enabled", True))}


def rules_typed(form: Any) -> list[dict[str, Any]]:
    """The rules as typed (form values), in the posted order."""
    try:
        count = min(int(str(form.get("rule_count", "0"))), MAX_RULES)
    except ValueError:
        count = 0
    out = []
    for n in range(count):
        p = f"r{n}_"
        if f"{p}name" not in form:
            continue
        out.append({"name": str(form.get(f"{p}name", "")),
                    "courier_code": str(form.get(f"{p}courier_code", "")),
                    "provinces": [str(v) for v in form.getlist(f"{p}provinces")],
                    **{k: str(form.get(p + k, "")) for k in (*RULE_TEXTS, *RULE_GRAMS,
                                                             *RULE_MONEY)},
                    "enabled": bool(form.get(f"{p}enabled"))})
    return out


def apply_op(rules: list[dict[str, Any]], op: str) -> tuple[list[dict[str, Any]], bool]:
    """The list after a button (add, remove-N, up-N, down-N, save); whether to save it.
    Adding shows an empty rule to fill in: it is saved with the next 保存."""
    rules = list(rules)
    verb, _, arg = op.partition("-")
    n = int(arg) if arg.isdigit() else -1
    if verb == "add":
        rules.append(rule_view({"enabled": True}))
        return rules, False
    if verb == "remove" and 0 <= n < len(rules):
        del rules[n]
    elif verb == "up" and 0 < n < len(rules):
        rules[n - 1], rules[n] = rules[n], rules[n - 1]
    elif verb == "down" and 0 <= n < len(rules) - 1:
        rules[n + 1], rules[n] = rules[n], rules[n + 1]
    return rules, True


def rules_changes(typed: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The rules as the service takes them, and what is not even a number, by key."""
    problems: dict[str, str] = {}
    out = []
    for n, r in enumerate(typed):
        at = f"courier_rules.{n}."
        rule: dict[str, Any] = {
            "name": r["name"].strip(), "courier_code": r["courier_code"].strip(),
            "provinces": [p for p in r["provinces"] if p.strip()],
            **{k: words(r[k]) for k in RULE_TEXTS}, "enabled": r["enabled"]}
        for k in RULE_GRAMS:
            rule[k] = _grams(r[k], at + k, problems)
        for k, fen in RULE_MONEY.items():
            rule[fen] = _fen(r[k], at + fen, problems)
        out.append(rule)
    return out, problems


# ---- audit rules -----------------------------------------------------------------------
def audit_view(stored: dict[str, Any]) -> dict[str, Any]:
    try:
        rules = AuditRules.from_dict(stored).to_dict()
    except ValueError:
        rules = AuditRules().to_dict()
    lead = rules["presale_lead_s"] / 3600
    return {**{k: rules[k] for k in AUDIT_FLAGS},
            **{k: "\n".join(rules[k]) for k in AUDIT_LISTS},
            "hold_on_star_flags": list(rules["hold_on_star_flags"]),
            "presale_lead_h": f"{lead:g}", "amount_threshold": yuan(rules["amount_threshold_fen"])}


def audit_typed(form: Any) -> dict[str, Any]:
    return {**{k: bool(form.get(k)) for k in AUDIT_FLAGS},
            **{k: str(form.get(k, "")) for k in AUDIT_LISTS},
            "hold_on_star_flags": [int(v) for v in form.getlist("hold_on_star_flags")
                                   if str(v).isdigit()],
            "presale_lead_h": str(form.get("presale_lead_h", "")),
            "amount_threshold": str(form.get("amount_threshold", ""))}


def audit_changes(typed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    problems: dict[str, str] = {}
    rules: dict[str, Any] = {**{k: typed[k] for k in AUDIT_FLAGS},
                             **{k: lines(typed[k]) for k in AUDIT_LISTS},
                             "hold_on_star_flags": typed["hold_on_star_flags"]}
    lead = typed["presale_lead_h"].strip()
    if not _HOURS.fullmatch(lead):
        problems["audit_rules.presale_lead_s"] = f"请写小时数，如 48，收到 {lead!r}"
    else:
        rules["presale_lead_s"] = int(Decimal(lead) * 3600)
    rules["amount_threshold_fen"] = _fen(typed["amount_threshold"],
                                         "audit_rules.amount_threshold_fen", problems)
    return rules, problems
