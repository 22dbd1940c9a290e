"""Audit: reasons on each new order as holds (``domain/holds.audit``), no reason → approved;
and the held orders judged again, whose rule holds clear when their facts change."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from fahuo.domain.holds import AuditRules, Hold, HoldReason, audit, reaudit
from fahuo.domain.orders import OrderState
from fahuo.domain.packs import closing_state
from fahuo.services.shipping.context import Moves, Shipping
from fahuo.services.shipping.failures import hold_for_error, isolated
from fahuo.services.shipping.report import StepReport

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

# A held order is judged again when it changes, when the shop's rules change, and at least
# this often (time alone clears some holds: a presale comes due).
REAUDIT_EVERY_S = 600


def audit_new(ctx: Shipping, limit: int = 2000, *, reaudit: int | None = None) -> StepReport:
    """Audit up to ``limit`` synced orders; then re-audit up to ``reaudit`` held ones
    (default ``limit``; 0: none). An order with no line left to ship is closed (refunded
    or cancelled), never approved."""
    r = StepReport()
    now = int(ctx.clock())
    rules: dict[int, AuditRules] = {}
    with ctx.uow() as u:
        ids = u.pipeline.orders_to_audit(limit)
        # Lock order (docs/architecture.md): the held orders judged again below are
        # locked with these, in one statement, not after them.
        u.pipeline.lock_orders_to_judge(ids, limit if reaudit is None else reaudit,
                                        judged_before=now - REAUDIT_EVERY_S)
        loaded, errors = ctx.load_each(u, ids)
        states: Moves = {}
        holds = []
        r.seen += len(errors)
        for oid, (shop_ref, state, order) in loaded.items():
            r.seen += 1
            try:
                closed = closing_state(order.sub_orders)
                if closed is None:
                    if shop_ref not in rules:
                        rules[shop_ref] = AuditRules.from_dict(
                            u.settings.get(shop_ref)["audit_rules"])
                    found = audit(order, rules[shop_ref], now)
            except Exception as exc:  # noqa: BLE001 - this order only
                errors[oid] = exc
                continue
            if closed is not None:  # every line refunded or closed: over, not a parcel
                states[oid] = (state, closed.value)
                log.info("order_closed_nothing_to_ship", order_id=oid, state=closed.value)
                continue
            if order.order_status != 2 and not found:
                continue  # unpaid or risk-checked orders wait for the platform
            if found:
                r.held += 1
                states[oid] = (state, OrderState.HELD.value)
                holds += [{"order_id": oid, "reason": str(h.reason), "detail": h.detail,
                           "source": "rule"} for h in found]
            else:
                r.done += 1
                states[oid] = (state, OrderState.APPROVED.value)
        isolated("audit", errors, len(ids) - len(errors))
        u.pipeline.add_holds(holds)
        u.pipeline.move_orders(states)
        u.pipeline.mark_audited(ids)
        hold_for_error(u, "audit", errors, r)
    if reaudit != 0:  # its own transaction: a re-audit that fails keeps the audit's work
        with ctx.uow() as u:
            reaudit_held(ctx, u, rules, now, limit if reaudit is None else reaudit, r)
    return r


def reaudit_held(ctx: Shipping, u: UnitOfWork, rules: dict[int, AuditRules], now: int,
                 limit: int, r: StepReport) -> None:
    """Holds the rules set clear themselves when their facts change: the platform ends its
    risk review, a presale comes due, the buyer fixes the address or drops the refund.
    Holds set by a person or an event stay until a person releases them. A held order
    with no line left to ship (the refund went through) is closed, whatever holds it."""
    ids = u.pipeline.held_to_reaudit(limit, judged_before=now - REAUDIT_EVERY_S)
    u.pipeline.mark_audited(ids)
    stock_lines = u.pipeline.stock_lines(ids)
    closing: Moves = {}
    for oid in ids:  # held_to_reaudit read them held, in this unit of work
        closed = closing_state(stock_lines.get(oid, (None, []))[1])
        if closed is not None:
            closing[oid] = (OrderState.HELD.value, closed.value)
    if closing:
        u.pipeline.release_holds(sorted(closing), "system: nothing left to ship")
        u.pipeline.move_orders(closing)
        log.info("held_orders_closed_nothing_to_ship", orders=sorted(closing))
        r.done += len(closing)
    open_holds = u.pipeline.open_holds(ids)
    # Only orders held by the audit's rules alone are judged here. Reach and stock are
    # judged by planning (not the audit's to clear); a hold by a person or an event (and
    # so any hold not from a rule) keeps the order for a person.
    judged = {HoldReason.OUT_OF_RANGE, HoldReason.STOCK_SHORT}
    ids = [oid for oid in ids if oid not in closing and open_holds.get(oid) and all(
        h["source"] == "rule" and HoldReason(h["reason"]).from_audit
        and HoldReason(h["reason"]) not in judged for h in open_holds[oid])]
    if not ids:
        return
    loaded, errors = ctx.load_each(u, ids)
    cleared: list[str] = []
    for oid, (shop_ref, _state, order) in loaded.items():
        try:
            if shop_ref not in rules:
                rules[shop_ref] = AuditRules.from_dict(
                    u.settings.get(shop_ref)["audit_rules"])
            current = [Hold(HoldReason(h["reason"]), h["detail"] or "")
                       for h in open_holds[oid]]
            # Released when nothing is left after the re-audit; otherwise the holds stand
            # as they are until the facts clear them all.
            clear = order.order_status == 2 and not reaudit(
                current, audit(order, rules[shop_ref], now))
        except Exception as exc:  # noqa: BLE001 - this order only
            errors[oid] = exc
            continue
        if clear:
            cleared.append(oid)
    isolated("reaudit", errors, len(ids) - len(errors))
    if cleared:
        u.pipeline.release_holds(cleared, "system: re-audit")
        u.pipeline.move_orders({oid: (OrderState.HELD.value, OrderState.APPROVED.value)
                                for oid in cleared})
        r.done += len(cleared)
    hold_for_error(u, "reaudit", errors, r)
