"""Courier strategy (快递策略): which courier takes a parcel, and why.

How a decision is made (simple on purpose, so a merchant can predict it):

1. Rules are read in the merchant's order. A rule matches when every condition it sets holds;
   an unset condition (empty set, None) matches anything. Disabled rules are ignored.
2. A matching rule whose courier cannot reach the receiver is skipped and recorded.
3. Without a cost table the first reachable matching rule wins.
   With a cost table every reachable matching rule competes and the cheapest courier wins
   (ties: the earlier rule). Couriers the table cannot price only win when nothing is priced.
4. No rule won: the default courier, if it is reachable.
5. Otherwise no courier: the caller holds the order as out of range (超区).

Every decision carries the winning rule's name, a Chinese reason and the list of couriers
considered and why each lost, for the order's history.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from fahuo.domain.couriers import courier_code, courier_name
from fahuo.domain.money import yuan_text
from fahuo.domain.regions import city_key, province_of
from fahuo.domain.rule_errors import FieldErrors

_CODE = re.compile(r"[a-z][a-z0-9_]*")
# What a rule's fields are called on the settings form (and in its errors).
RULE_FIELD_NAMES = {
    "name": "规则名称", "courier_code": "快递公司", "provinces": "省份", "cities": "城市",
    "min_weight_g": "最低重量（克）", "max_weight_g": "最高重量（克）",
    "sku_codes": "商家编码", "product_tags": "商品标签", "min_amount_fen": "最低金额",
    "max_amount_fen": "最高金额", "enabled": "启用",
}


@dataclass(frozen=True, slots=True)
class ParcelFacts:
    province: str
    city: str
    weight_g: int | None  # None: some SKU has no weight, so weight rules cannot be judged
    sku_codes: frozenset[str] = frozenset()
    product_tags: frozenset[str] = frozenset()
    amount_fen: int = 0


@dataclass(frozen=True, slots=True)
class CourierRule:
    name: str
    courier_code: str
    provinces: frozenset[str] = frozenset()  # full names (see regions.province_of)
    cities: frozenset[str] = frozenset()
    min_weight_g: int | None = None  # inclusive: "3公斤及以上"
    max_weight_g: int | None = None  # inclusive: "1公斤以内"
    sku_codes: frozenset[str] = frozenset()  # any of the parcel's merchant codes
    product_tags: frozenset[str] = frozenset()  # any of the parcel's tags
    min_amount_fen: int | None = None  # inclusive
    max_amount_fen: int | None = None  # inclusive
    enabled: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CourierRule:
        """A rule from stored settings. Bad input raises ``FieldErrors`` (a ValueError) naming
        the rule and, per field, what is wrong, every field at once. Province names are
        normalised ("广东" → "广东省"); courier names become codes."""
        if not isinstance(data, Mapping):
            raise FieldErrors({"": f"快递规则应为对象（键值对），收到 {type(data).__name__}"})
        label = f"快递规则 {data.get('name')!r}"
        problems: dict[str, str] = {}

        def bad(key: str, what: str) -> None:
            problems.setdefault(key, f"{label}：{RULE_FIELD_NAMES.get(key, key)}（{key}）{what}")

        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            problems[""] = f"{label}：未知字段 {'、'.join(unknown)}"
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            bad("name", "不能为空")
        raw_courier = data.get("courier_code")
        code: str | None = None
        if not isinstance(raw_courier, str) or not raw_courier.strip():
            bad("courier_code", "不能为空")
        else:
            code = courier_code(raw_courier)
            if code is None:
                if _CODE.fullmatch(raw_courier.strip()):
                    code = raw_courier.strip()  # a code from the platform's runtime list
                else:
                    bad("courier_code", f"{raw_courier!r} 不是已知的快递公司或平台快递编码")
        texts: dict[str, list[str]] = {}
        for key in ("provinces", "cities", "sku_codes", "product_tags"):
            try:
                texts[key] = _texts(data.get(key, ()))
            except ValueError as exc:
                bad(key, str(exc))
                texts[key] = []
        provinces = set()
        for p in texts["provinces"]:
            full = province_of(p)
            if full is None:
                bad("provinces", f"中有未知省份 {p!r}")
            provinces.add(full)
        kw: dict[str, Any] = {
            "name": name.strip() if isinstance(name, str) else "", "courier_code": code,
            "provinces": frozenset(provinces), "cities": frozenset(texts["cities"]),
            "sku_codes": frozenset(texts["sku_codes"]),
            "product_tags": frozenset(texts["product_tags"]),
        }
        for key in ("min_weight_g", "max_weight_g", "min_amount_fen", "max_amount_fen"):
            v = data.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                bad(key, f"应为 ≥ 0 的整数或留空，收到 {v!r}")
                v = None
            kw[key] = v
        for lo, hi in (("min_weight_g", "max_weight_g"), ("min_amount_fen", "max_amount_fen")):
            if kw[lo] is not None and kw[hi] is not None and kw[lo] > kw[hi]:
                bad(lo, f"({kw[lo]}) 大于{RULE_FIELD_NAMES[hi]}（{hi}）({kw[hi]})")
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            bad("enabled", f"应为 true 或 false，收到 {enabled!r}")
        kw["enabled"] = enabled
        if problems:
            raise FieldErrors(problems)
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = sorted(v) if isinstance(v, frozenset) else v
        return out

    def mismatch(self, facts: ParcelFacts) -> str | None:
        """Why the rule does not apply to the parcel; None when it matches."""
        if self.provinces and province_of(facts.province) not in self.provinces:
            return f"省份{facts.province or '空'}不在规则内"
        if self.cities and city_key(facts.city) not in {city_key(c) for c in self.cities}:
            return f"城市{facts.city or '空'}不在规则内"
        if self.min_weight_g is not None or self.max_weight_g is not None:
            if facts.weight_g is None:
                return "有商品未设置重量，无法按重量匹配"
            if self.min_weight_g is not None and facts.weight_g < self.min_weight_g:
                return f"重量{facts.weight_g}g低于{self.min_weight_g}g"
            if self.max_weight_g is not None and facts.weight_g > self.max_weight_g:
                return f"重量{facts.weight_g}g高于{self.max_weight_g}g"
        if self.sku_codes and not self.sku_codes & facts.sku_codes:
            return "不含规则指定的商品编码"
        if self.product_tags and not self.product_tags & facts.product_tags:
            return "不含规则指定的商品标签"
        if self.min_amount_fen is not None and facts.amount_fen < self.min_amount_fen:
            return f"金额{yuan_text(facts.amount_fen)}低于{yuan_text(self.min_amount_fen)}"
        if self.max_amount_fen is not None and facts.amount_fen > self.max_amount_fen:
            return f"金额{yuan_text(facts.amount_fen)}高于{yuan_text(self.max_amount_fen)}"
        return None

    def why_matched(self, facts: ParcelFacts) -> str:
        parts = []
        if self.provinces:
            parts.append(f"省份{province_of(facts.province)}")
        if self.cities:
            parts.append(f"城市{facts.city}")
        if self.min_weight_g is not None or self.max_weight_g is not None:
            parts.append(f"重量{facts.weight_g}g在{_range(self.min_weight_g, self.max_weight_g, 'g')}")
        if self.sku_codes:
            parts.append("含商品" + "、".join(sorted(self.sku_codes & facts.sku_codes)))
        if self.product_tags:
            parts.append("含标签" + "、".join(sorted(self.product_tags & facts.product_tags)))
        if self.min_amount_fen is not None or self.max_amount_fen is not None:
            parts.append(f"金额{yuan_text(facts.amount_fen)}在"
                         f"{_range(self.min_amount_fen, self.max_amount_fen, '分')}")
        return "，".join(parts) or "适用所有包裹"


def _range(lo: int | None, hi: int | None, unit: str) -> str:
    return f"{'' if lo is None else lo}–{'' if hi is None else hi}{unit}"


def _texts(v: Any) -> list[str]:
    if isinstance(v, str) or not isinstance(v, Iterable):
        raise ValueError(f"应为文本列表，收到 {v!r}")
    out = []
    for item in v:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"中有空的或非文本的项 {item!r}")
        out.append(item.strip())
    return out


# (first weight g, first-weight fee fen, fee per started extra kg fen)
CostRow = tuple[int, int, int]
ANY_PROVINCE = "*"


@dataclass(frozen=True, slots=True)
class CostTable:
    """Shipping price per courier and province, as couriers quote it to merchants:
    首重 (first weight and its fee) plus 续重 per started kilogram. Province keys are full
    names; the "*" row prices provinces the courier's table does not list."""

    rows: Mapping[str, Mapping[str, CostRow]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostTable:
        if not isinstance(data, Mapping):
            raise ValueError("运费表应为 快递公司 → {省份: 价格行} 的对象")
        rows: dict[str, dict[str, CostRow]] = {}
        for raw_courier, table in data.items():
            code = courier_code(str(raw_courier)) or str(raw_courier)
            if not isinstance(table, Mapping):
                raise ValueError(f"运费表 {raw_courier!r}：应为 省份 → "
                                 "[首重克数 first_weight_g, 首重费用（分）first_fee_fen, 续重每公斤（分）extra_fee_per_kg_fen]")
            out: dict[str, CostRow] = {}
            for raw_province, row in table.items():
                province = ANY_PROVINCE if raw_province == ANY_PROVINCE else province_of(
                    str(raw_province))
                if province is None:
                    raise ValueError(f"运费表 {raw_courier!r}：未知省份 "
                                     f"{raw_province!r}")
                if (not isinstance(row, (list, tuple)) or len(row) != 3
                        or any(isinstance(x, bool) or not isinstance(x, int) or x < 0
                               for x in row) or row[0] == 0):
                    raise ValueError(f"运费表 {raw_courier!r} {raw_province!r}：价格行应为 "
                                     "[首重克数 > 0, 首重费用（分）≥ 0, "
                                     f"续重每公斤（分）≥ 0]，收到 {row!r}")
                out[province] = (row[0], row[1], row[2])
            rows[code] = out
        return cls(rows)

    def to_dict(self) -> dict[str, dict[str, list[int]]]:
        return {c: {p: list(r) for p, r in t.items()} for c, t in self.rows.items()}

    def cost(self, courier: str, province: str, weight_g: int | None) -> int | None:
        """Fee in fen, or None when the table cannot price it (courier or province missing,
        weight unknown)."""
        table = self.rows.get(courier)
        if table is None or weight_g is None:
            return None
        row = table.get(province_of(province) or "") or table.get(ANY_PROVINCE)
        if row is None:
            return None
        first_g, first_fee, per_kg = row
        extra_kg = -(-max(0, weight_g - first_g) // 1000)  # every started kg is charged
        return first_fee + extra_kg * per_kg


@dataclass(frozen=True, slots=True)
class CourierDecision:
    courier_code: str | None
    rule_name: str | None  # None: the default courier, or no courier
    reason_zh: str
    considered: tuple[tuple[str, str], ...] = ()  # (courier, why it was not chosen)

    @property
    def out_of_range(self) -> bool:
        return self.courier_code is None


def choose_courier(facts: ParcelFacts, rules: Sequence[CourierRule], default_courier: str | None,
                   *, reachable: Callable[[str], bool] = lambda c: True,
                   costs: CostTable | None = None) -> CourierDecision:
    """Pick the courier for one parcel (see the module docstring for the order of play)."""
    considered: list[tuple[str, str]] = []
    candidates: list[tuple[int, CourierRule]] = []
    reach_cache: dict[str, bool] = {}

    def can_reach(code: str) -> bool:
        if code not in reach_cache:
            reach_cache[code] = bool(reachable(code))
        return reach_cache[code]

    for index, rule in enumerate(rules):
        if not rule.enabled or rule.mismatch(facts) is not None:
            continue
        if not can_reach(rule.courier_code):
            considered.append((rule.courier_code, f"规则「{rule.name}」匹配，但{courier_name(rule.courier_code)}超区"))
            continue
        candidates.append((index, rule))
        if costs is None:
            break

    if candidates:
        if costs is None:
            _, winner = candidates[0]
            return CourierDecision(winner.courier_code, winner.name,
                                   f"规则「{winner.name}」：{winner.why_matched(facts)}",
                                   tuple(considered))
        priced = [(costs.cost(r.courier_code, facts.province, facts.weight_g), i, r)
                  for i, r in candidates]
        with_price = sorted((p, i, r) for p, i, r in priced if p is not None)
        if with_price:
            fee, _, winner = with_price[0]
            for p, _i, r in priced:
                if r is winner:
                    continue
                considered.append((r.courier_code, f"规则「{r.name}」匹配，" + (
                    f"运费{yuan_text(p)}不是最低" if p is not None else "运费表无法计价")))
            return CourierDecision(winner.courier_code, winner.name,
                                   f"规则「{winner.name}」：{winner.why_matched(facts)}；"
                                   f"运费最低{yuan_text(fee)}", tuple(considered))
        _, winner = candidates[0]
        for _, r in candidates[1:]:
            considered.append((r.courier_code, f"规则「{r.name}」匹配，排在后面"))
        return CourierDecision(winner.courier_code, winner.name,
                               f"规则「{winner.name}」：{winner.why_matched(facts)}（运费表无法计价，"
                               "按规则顺序）", tuple(considered))

    if default_courier:
        if can_reach(default_courier):
            return CourierDecision(default_courier, None,
                                   f"没有规则适用，用默认快递{courier_name(default_courier)}",
                                   tuple(considered))
        considered.append((default_courier, f"默认快递{courier_name(default_courier)}超区"))
        return CourierDecision(None, None, "规则和默认快递都无法送达，请换快递或联系买家",
                               tuple(considered))
    return CourierDecision(None, None, "没有规则适用，也没有设置默认快递", tuple(considered))
