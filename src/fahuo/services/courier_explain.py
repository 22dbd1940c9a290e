"""Which courier strategy rule would pick which courier for one of the shop's orders, and why.

The answer is the pipeline's own: the order is packed as ``shipping.plan`` packs it (split
by the shop's rules, ``packs_for``), each parcel is described as the plan describes it
(``parcel``: province, city, weight from the SKU facts, codes, tags, amount) and judged by
``domain/routing.choose_courier`` with the shop's stored rules, default courier, cost table
and the same reach (an e-waybill account with balance, then the platform's out-of-range
answer, ``reachability``). Only merging is left out: the order is judged alone.
Beside the decision each rule says why it did or did not take the parcel
(``CourierRule.mismatch``, and the decision's list of couriers considered).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fahuo.domain.couriers import courier_name
from fahuo.domain.packs import NothingToShip, SkuFacts, SplitRules
from fahuo.domain.routing import (
    CostTable, CourierDecision, CourierRule, ParcelFacts, choose_courier,
)
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.shipping.plan import packs_for, parcel
from fahuo.services.shipping.reachability import reachability
from fahuo.services.shipping.report import StepReport

RECENT = 10  # orders offered as samples


@dataclass(slots=True)
class RuleVerdict:
    n: int  # 1-based place in the list
    name: str
    courier_code: str
    verdict: str  # Chinese: 选中 / 不适用：… / 适用，但…
    chosen: bool = False


@dataclass(slots=True)
class ParcelExplanation:
    lines: str  # what the parcel carries, as the merchant reads it
    facts: ParcelFacts
    decision: CourierDecision
    rules: list[RuleVerdict]

    @property
    def courier_zh(self) -> str:
        c = self.decision.courier_code
        return courier_name(c) if c else "没有可用的快递（订单会挂起：超区）"


@dataclass(slots=True)
class Explanation:
    order_id: str | None
    recent: list[dict[str, Any]] = field(default_factory=list)  # order_id, created, summary
    parcels: list[ParcelExplanation] = field(default_factory=list)
    problem: str | None = None  # why there is nothing to explain (Chinese)
    accounts: list[str] = field(default_factory=list)  # couriers with an e-waybill account


def explain_courier(uow: UowFactory, platform_for: PlatformFactory, shop_ref: int,
                    order_id: str | None = None) -> Explanation:
    """For ``order_id`` (else the shop's newest order): each parcel's courier and every rule's
    verdict. ``problem`` says why there is none (no orders, another shop's order, …)."""
    with uow() as u:
        shop = u.shops.get(shop_ref)
        if shop is None:
            return Explanation(None, problem=f"店铺 #{shop_ref} 不存在")
        _, rows = u.orders.search(shop_ref=shop_ref, sort="created", limit=RECENT)
        recent = [{"order_id": r["order_id"], "create_time": r["create_time"],
                   "province": r["province"], "pay_amount": r["pay_amount"]} for r in rows]
        wanted = (order_id or "").strip() or (recent[0]["order_id"] if recent else None)
        out = Explanation(wanted, recent)
        cfg = u.settings.get(shop_ref)
        sites = u.settings.netsites(shop_ref)
        out.accounts = list(dict.fromkeys(s["courier_code"] for s in sites))
        if wanted is None:
            out.problem = "店铺还没有订单：同步订单后可在这里试算"
            return out
        loaded = u.pipeline.load_orders([wanted]) if wanted.isdigit() else {}
    if wanted not in loaded or loaded[wanted][0] != shop_ref:
        out.problem = f"本店没有订单 {wanted}"
        return out
    order = loaded[wanted][2]
    try:
        rules = [CourierRule.from_dict(x) for x in cfg["courier_rules"]]
        costs = CostTable.from_dict(cfg["cost_table"]) if cfg["cost_table"] else None
        facts = {k: SkuFacts.from_dict(v) for k, v in cfg["sku_facts"].items()}
        split = SplitRules.from_dict(cfg["split_rules"])
    except ValueError as exc:  # stored before the rules were checked: say so, do not guess
        out.problem = f"店铺设置有误，无法试算：{exc}"
        return out
    # The pipeline's reach: an account with balance left, then the platform's range answer.
    with_balance = {s["courier_code"] for s in sites if s["balance"] is None or s["balance"] > 0}
    reach = reachability(time.time, platform_for(shop), sites, with_balance, order.receiver,
                         StepReport())
    names = {s.sku_order_id: s for s in order.sub_orders}
    try:
        for _pack, lines, group in packs_for([order], facts, split):
            f = parcel(group, lines, facts)
            decision = choose_courier(f, rules, cfg["default_courier"], reachable=reach,
                                      costs=costs)
            what = "、".join(f"{_line_name(names[ln['sku_order_id']])} ×{ln['quantity']}"
                            for ln in lines)
            out.parcels.append(ParcelExplanation(what, f, decision,
                                                 _verdicts(rules, f, decision)))
    except NothingToShip:
        out.problem = f"订单 {wanted} 已没有要发的商品（已退款或取消）"
    return out


def _line_name(sub: Any) -> str:
    name = sub.product_name or sub.merchant_code or sub.sku_order_id
    return f"{name}（{sub.spec}）" if sub.spec else name


def _verdicts(rules: list[CourierRule], facts: ParcelFacts, decision: CourierDecision
              ) -> list[RuleVerdict]:
    """Each rule's part in the decision, in the merchant's order."""
    said: dict[str, str] = {}
    for _courier, why in decision.considered:  # "规则「名」匹配，但…超区" and the like
        if why.startswith("规则「"):
            said.setdefault(why[3:why.index("」")], why)
    out, chosen_seen = [], False
    for n, rule in enumerate(rules, 1):
        v = RuleVerdict(n, rule.name, rule.courier_code, "")
        miss = rule.mismatch(facts)
        if not rule.enabled:
            v.verdict = "已停用"
        elif miss is not None:
            v.verdict = f"不适用：{miss}"
        elif (not chosen_seen and decision.rule_name == rule.name
              and decision.courier_code == rule.courier_code):
            v.verdict, v.chosen, chosen_seen = f"选中：{rule.why_matched(facts)}", True, True
        elif rule.name in said:
            v.verdict = said[rule.name].replace(f"规则「{rule.name}」", "", 1).lstrip("，")
        else:
            v.verdict = "适用，但排在选中的规则之后"
        out.append(v)
    return out


__all__ = ["Explanation", "ParcelExplanation", "RuleVerdict", "explain_courier"]
