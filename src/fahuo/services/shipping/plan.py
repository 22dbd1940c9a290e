"""Plan: approved orders become packs — merged (``domain/packs.plan_merges``), split
(``plan_split``) or whole — each with a courier from the shop's rules
(``domain/routing.choose_courier``), skipping couriers out of reach (``reachability``). Stock
is reserved as the pack is stored. Platform calls happen between two short transactions: the
write re-checks that nobody planned or held the orders meanwhile."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, TYPE_CHECKING

import structlog

from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import Order, OrderState
from fahuo.domain.packs import (
    MergeCandidate, SkuFacts, SplitRules, closing_state, one_pack, pack_ids, plan_merges,
    plan_split, receiver_key,
)
from fahuo.domain.routing import CostTable, CourierRule, ParcelFacts, choose_courier
from fahuo.services.shipping.context import Moves, Shipping
from fahuo.services.shipping.failures import hold_for_error, isolated
from fahuo.services.shipping.reachability import reachability
from fahuo.services.shipping.report import StepReport
from fahuo.services.stock.orders import STOCK_HOLD_SOURCE, reserve_in

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

# (order ids of a group, its packs as (pack row, line rows))
Planned = list[tuple[list[str], list[tuple[dict, list]]]]
Refused = list[tuple[list[str], str]]


def plan(ctx: Shipping, limit: int = 2000) -> StepReport:
    """Packs (whole, merged, split) with a courier each. Couriers are checked against the
    platform between two short transactions, never inside one. An order with no line
    left to ship (however it came to be approved) is closed instead of packed."""
    r = StepReport()
    with ctx.uow() as u:
        ids = u.pipeline.unpacked_in_state(OrderState.APPROVED.value, limit)
        loaded, errors = ctx.load_each(u, ids)
        # (order_id, pack_id) keys already used: a re-planned pack needs a fresh key, or
        # the platform would hand back the number we recycled.
        used = {(p["main_order_id"], p["platform_pack_id"])
                for p in u.pipeline.packs_of_orders(ids)}
        by_shop: dict[int, list[tuple[str, Order]]] = defaultdict(list)
        closing: dict[str, OrderState] = {}
        for oid, (shop_ref, _state, order) in loaded.items():
            closed = closing_state(order.sub_orders)
            if closed is not None:
                closing[oid] = closed
            elif order.order_status == 2:
                by_shop[shop_ref].append((oid, order))
        shops = {ref: (u.shops.require(ref), u.settings.get(ref), u.settings.netsites(ref))
                 for ref in by_shop}
    planned: Planned = []
    refused: Refused = []
    for shop_ref, orders in by_shop.items():
        try:
            shop, cfg, sites = shops[shop_ref]
            reachable_couriers = {x["courier_code"] for x in sites
                                  if x["balance"] is None or x["balance"] > 0}
            rules = [CourierRule.from_dict(x) for x in cfg["courier_rules"]]
            costs = CostTable.from_dict(cfg["cost_table"]) if cfg["cost_table"] else None
            facts = {k: SkuFacts.from_dict(v) for k, v in cfg["sku_facts"].items()}
            split_rules = SplitRules.from_dict(cfg["split_rules"])
            api = ctx.platform_for(shop)
            groups = merge_groups(orders, cfg["merge_window_s"], loaded)
        except Exception as exc:  # noqa: BLE001 - this shop's settings: its orders, not the others'
            errors.update({oid: exc for oid, _ in orders})
            continue

        def pack_group(group: list[Order]) -> None:
            packs, why_not = [], None
            for pack, lines, _ in packs_for(group, facts, split_rules):
                r.seen += 1
                decision = choose_courier(
                    parcel(group, lines, facts), rules, cfg["default_courier"],
                    reachable=reachability(ctx.clock, api, sites, reachable_couriers,
                                           group[0].receiver, r), costs=costs)
                if decision.courier_code is None:
                    why_not = decision.reason_zh
                    break
                key, n = pack["platform_pack_id"], 1
                while (pack["main_order_id"], key) in used:
                    n += 1
                    key = f"{pack['platform_pack_id'] or 'r'}{n}"
                used.add((pack["main_order_id"], key))
                pack.update(shop_ref=shop_ref, courier_code=decision.courier_code,
                            platform_pack_id=key, courier_rule=decision.rule_name or "",
                            courier_reason=decision.reason_zh,
                            netsite_code=netsite(sites, decision.courier_code))
                packs.append((pack, lines))
            group_ids = [o.order_id for o in group]
            if why_not is None:
                planned.append((group_ids, packs))
            else:
                refused.append((group_ids, why_not))

        for group in groups:
            try:
                pack_group(group)
            except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
                if len(group) == 1:
                    errors[group[0].order_id] = exc
                    continue
                for o in group:  # one bad order of a merged group: the others alone
                    try:
                        pack_group([o])
                    except Exception as exc1:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
                        errors[o.order_id] = exc1
    # The write, all at once; if it fails, group by group, so that one order whose pack
    # cannot be stored does not keep the others from theirs.
    went = 0
    try:
        with ctx.uow() as u:
            saved = save_plan(u, planned, refused, closing)
        went = saved.seen
        r.held, r.done = r.held + saved.held, r.done + saved.done
    except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
        parts: list[tuple[Planned, Refused, dict[str, OrderState]]] = (
            [([g], [], {}) for g in planned] + [([], [g], {}) for g in refused]
            + [([], [], {oid: st}) for oid, st in closing.items()])
        if len(parts) == 1:
            errors.update({oid: exc for oid in
                           [o for g, _ in planned + refused for o in g] + list(closing)})
            parts = []
        for p_, f_, c_ in parts:
            try:
                with ctx.uow() as u:
                    saved = save_plan(u, p_, f_, c_)
                went += saved.seen
                r.held, r.done = r.held + saved.held, r.done + saved.done
            except Exception as exc1:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
                errors.update({oid: exc1 for oid in
                               [o for g, _ in p_ + f_ for o in g] + list(c_)})
    isolated("plan", errors, went)
    if errors:
        with ctx.uow() as u:
            hold_for_error(u, "plan", errors, r)
    return r


def save_plan(u: UnitOfWork, planned: Planned, refused: Refused,
              closing: dict[str, OrderState]) -> StepReport:
    """Store what ``plan`` decided, re-checking that nobody planned or held the orders
    meanwhile. Returns the counts (``seen``: orders handled) for the caller to add once
    the transaction is in."""
    mine = StepReport()
    involved = [oid for g, _ in planned + refused for oid in g] + list(closing)
    still = set(unpacked(u, involved))
    current = u.pipeline.order_states(involved)
    ok = {oid for oid in still if current.get(oid) == OrderState.APPROVED.value}
    states: Moves = {}
    holds = []
    for oid, closed in closing.items():  # nothing left to ship: over, never packed
        if oid in ok:
            states[oid] = (current[oid], closed.value)
            log.info("order_closed_nothing_to_ship", order_id=oid, state=closed.value)
    # Stock is reserved as the pack is made (every way to "approved" passes here);
    # an order stock cannot cover waits, held, and its group is planned again.
    stock = reserve_in(u, [oid for g, _ in planned if set(g) <= ok for oid in g])
    for oid, missing in stock.short.items():
        mine.held += 1
        states[oid] = (current[oid], OrderState.HELD.value)
        holds.append({"order_id": oid, "reason": HoldReason.STOCK_SHORT.value,
                      "detail": missing, "source": STOCK_HOLD_SOURCE})
    new_packs = [pl for group_ids, packs in planned
                 if set(group_ids) <= ok and not set(group_ids) & stock.short.keys()
                 for pl in packs]
    u.pipeline.add_packs(new_packs)
    mine.done += len(new_packs)
    for group_ids, why_not in refused:
        if set(group_ids) <= ok:
            for oid in group_ids:
                mine.held += 1
                states[oid] = (current[oid], OrderState.HELD.value)
                # "pipeline", not "rule": the audit does not judge reach, so a
                # re-audit must not clear it (planning would hold it again, forever).
                holds.append({"order_id": oid, "reason": HoldReason.OUT_OF_RANGE.value,
                              "detail": why_not, "source": "pipeline"})
    u.pipeline.add_holds(holds)
    u.pipeline.move_orders(states)
    mine.seen = len(involved)
    return mine


def unpacked(u: UnitOfWork, ids: list[str]) -> list[str]:
    """The orders among ids that no live pack carries yet."""
    live = [p["id"] for p in u.pipeline.packs_of_orders(ids) if p["state"] != "cancelled"]
    busy = {ln["order_id"] for ls in u.pipeline.lines(live).values() for ln in ls}
    return [i for i in ids if i not in busy]


def merge_groups(orders: list[tuple[str, Order]], window_s: int,
                 loaded: dict[str, tuple[int, str, Order]]) -> list[list[Order]]:
    """One shop's approved orders as groups to pack: merged ones, then each other alone.
    The shop is the store's (an Order read from the store carries no platform shop id)."""
    if window_s <= 0:
        return [[o] for _, o in orders]
    cands = [MergeCandidate(order_id=oid, shop_id=str(loaded[oid][0]), buyer_id=o.buyer_id,
                            receiver_key=receiver_key(o), pay_time=o.pay_time or 0,
                            held=False, state=OrderState.APPROVED) for oid, o in orders]
    merged = plan_merges(cands, window_s)
    in_group = {oid for g in merged for oid in g}
    by_id = dict(orders)
    return [[by_id[i] for i in g] for g in merged] + [[o] for oid, o in orders
                                                      if oid not in in_group]


def packs_for(group: list[Order], facts: dict[str, SkuFacts], rules: SplitRules
              ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], list[Order]]]:
    """(pack row, line rows) for one order or one merged group."""
    deadline = min((o.exp_ship_time for o in group if o.exp_ship_time), default=None)
    main = group[0].order_id
    # The domain plans every pack: none comes out empty (packs.NothingToShip).
    if len(group) > 1:
        owner = {s.sku_order_id: o.order_id for o in group for s in o.sub_orders}
        lines = [{"order_id": owner[ln.sku_order_id], "sku_order_id": ln.sku_order_id,
                  "quantity": ln.quantity} for ln in one_pack(group, "合单").lines]
        yield ({"kind": "merged", "state": "planned", "main_order_id": main,
                "platform_pack_id": "", "seq": 1, "of": 1, "exp_ship_time": deadline,
                "request_id": uuid.uuid4().hex}, lines, group)
        return
    order = group[0]
    plans = plan_split(order, facts, rules) if facts else []
    if len(plans) <= 1:
        lines = [{"order_id": order.order_id, "sku_order_id": ln.sku_order_id,
                  "quantity": ln.quantity} for ln in one_pack([order]).lines]
        yield ({"kind": "whole", "state": "planned", "main_order_id": main,
                "platform_pack_id": "", "seq": 1, "of": 1, "exp_ship_time": deadline,
                "request_id": uuid.uuid4().hex}, lines, group)
        return
    keys = pack_ids(order.order_id, len(plans))
    request_id = uuid.uuid4().hex  # one MultiPack call ships every pack of the order
    for n, (split, key) in enumerate(zip(plans, keys, strict=True), start=1):
        lines = [{"order_id": order.order_id, "sku_order_id": ln.sku_order_id,
                  "quantity": ln.quantity} for ln in split.lines]
        yield ({"kind": "split", "state": "planned", "main_order_id": main,
                "platform_pack_id": key, "seq": n, "of": len(plans),
                "exp_ship_time": deadline, "request_id": request_id}, lines, group)


def parcel(group: list[Order], lines: list[dict[str, Any]],
           facts: dict[str, SkuFacts]) -> ParcelFacts:
    """What the courier rules judge, for the pack's own lines and quantities; the amount
    is the group's orders'."""
    subs = {s.sku_order_id: s for o in group for s in o.sub_orders}
    codes: set[str] = set()
    tags: set[str] = set()
    weight: int | None = 0
    for ln in lines:
        s = subs[ln["sku_order_id"]]
        codes.add(s.merchant_code)
        f = facts.get(s.merchant_code)
        if f and f.weight_g and weight is not None:
            weight += f.weight_g * ln["quantity"]
        else:
            weight = None  # one SKU without a weight: weight rules cannot judge
        if f:
            tags |= set(f.tags)
    first = group[0].receiver
    return ParcelFacts(province=first.province, city=first.city, weight_g=weight,
                       sku_codes=frozenset(codes), product_tags=frozenset(tags),
                       amount_fen=sum(o.pay_amount for o in group))


def netsite(sites: list[dict[str, Any]], courier: str) -> str | None:
    """The courier's e-waybill account with the most balance (unlimited first)."""
    best = [s for s in sites if s["courier_code"] == courier]
    best.sort(key=lambda s: -(s["balance"] if s["balance"] is not None else 1 << 40))
    return best[0]["netsite_code"] if best else None
