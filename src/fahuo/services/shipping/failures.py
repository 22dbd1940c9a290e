"""One bad order never stops a pass.

A step that raises for one order holds that order (处理出错, with the error's words) and goes
on with the rest. Isolation needs evidence that the step itself works: when every order it
tried raised, nothing is held (the orders flow again once the cause is fixed) and the step
raises; the pass lets the other steps run and raises it at the end. Packs that cannot go on
for a known reason (no number, a refused confirmation) are failed here too, their orders held
with the platform's words."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from fahuo.domain.holds import HoldReason
from fahuo.domain.names import PIPELINE_STEP
from fahuo.domain.orders import HOLDABLE, ORDER, OrderState
from fahuo.domain.packs import GOING_OUT, PackState
from fahuo.services.shipping.context import Lines, Pack, Shipping
from fahuo.services.shipping.report import StepReport

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

STEP_ZH = PIPELINE_STEP


def words(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def isolated(step: str, errors: dict[str, BaseException], went_through: int) -> None:
    """Re-raise the first error when orders failed and none went through: the step itself
    is broken (a bug, the database, a changed platform answer), not one order. Its own type
    is kept, so callers still tell a lost database from a bug."""
    if errors and not went_through:
        oid, exc = next(iter(errors.items()))
        exc.add_note(f"pipeline step {step} failed for every order it tried ({len(errors)}), "
                     f"e.g. {oid}; nothing was held for it")
        raise exc


def hold_for_error(u: UnitOfWork, step: str, errors: dict[str, BaseException],
                   r: StepReport) -> None:
    """Hold each order that raised (处理出错, with the error's words), once; logged with
    the traceback."""
    if not errors:
        return
    ids = sorted(errors)
    u.pipeline.lock_orders(ids)
    current = u.pipeline.order_states(ids)
    already = u.pipeline.open_holds(ids)
    states = ORDER.moves_to(current, OrderState.HELD, HOLDABLE)
    rows = []
    for oid in ids:
        exc = errors[oid]
        log.error("pipeline_order_failed", step=step, order_id=oid, error=words(exc),
                  exc_info=exc)
        if oid not in current:
            continue
        held = oid in states or current[oid] == OrderState.HELD.value
        if held and not any(h["reason"] == HoldReason.PIPELINE_ERROR.value
                            for h in already.get(oid, [])):
            rows.append({"order_id": oid, "reason": HoldReason.PIPELINE_ERROR.value,
                         "detail": f"{STEP_ZH[step]}：{words(exc)}",
                         "source": "pipeline"})
    u.pipeline.add_holds(rows)
    u.pipeline.move_orders(states)
    r.failed += len(rows)


def fail_packs(ctx: Shipping, packs: list[Pack], lines: Lines, reason: HoldReason, why: str,
               r: StepReport) -> None:
    """These packs failed (a pack voided or shipped meanwhile keeps that state); their
    orders are held with ``why``."""
    with ctx.uow() as u:
        ids = sorted({ln["order_id"] for p in packs for ln in lines[p["id"]]})
        u.pipeline.lock_orders(ids)
        u.pipeline.move_packs_from([p["id"] for p in packs], GOING_OUT, PackState.FAILED,
                                   last_error=why)
        u.pipeline.add_holds([{"order_id": oid, "reason": reason.value, "detail": why,
                               "source": "pipeline"} for oid in ids])
        u.pipeline.move_orders_from(ids, HOLDABLE, OrderState.HELD)
    r.failed += len(packs)

