"""One pass: its lease, its rounds, the order of the steps, and a step that fails as a whole
kept from stopping the others. ``Pipeline`` is the one entry point the API, the CLI and the
worker call; its step methods are there for the callers that run one step (scan, imports,
batch ship, the warehouse: ``confirm`` of given packs) and for tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from fahuo.services.shipping import audit, confirm, plan, recycle, refunds, waybills
from fahuo.services.shipping.context import Shipping
from fahuo.services.shipping.failures import STEP_ZH, words
from fahuo.services.shipping.report import PipelineReport, StepReport, add
from fahuo.services.stock.orders import retry_short_in, settle_in

log = structlog.get_logger(__name__)

# Orders per round of a pass: small enough that confirmations of one round overlap the
# preparation of the next, big enough to keep every step batched.
ROUND = 500


class Pipeline(Shipping):
    def stop_refunds(self, limit: int = 2000) -> StepReport:
        return refunds.stop_refunds(self, limit)

    def audit_new(self, limit: int = 2000, *, reaudit: int | None = None) -> StepReport:
        return audit.audit_new(self, limit, reaudit=reaudit)

    def plan(self, limit: int = 2000) -> StepReport:
        return plan.plan(self, limit)

    def take_waybills(self, limit: int = 2000) -> StepReport:
        return waybills.take_waybills(self, limit)

    def confirm(self, limit: int = 2000, *, pack_ids_only: list[int] | None = None
                ) -> StepReport:
        return confirm.confirm(self, limit, pack_ids_only=pack_ids_only)

    def recycle(self, limit: int = 2000) -> StepReport:
        return recycle.recycle(self, limit)

    def run(self, limit: int = 2000) -> PipelineReport:
        """One pass over at most ``limit`` orders, in rounds of ``ROUND``: each round audits,
        packs and numbers its orders, then starts their confirmations, which run on while the
        next round is prepared. The pass ends when every answer is in and saved.

        One pass at a time per install, whoever starts it (API, CLI, any worker): the pass
        holds the ``pipeline`` lease, renewed while it runs, and a second caller gets
        ``LeaseHeld`` without running anything. A holder that dies frees it within a lease."""
        from fahuo.adapters.store.leases import hold
        with hold(self.uow, "pipeline"):
            rep = PipelineReport()
            rep.recycle = self.recycle()
            stopped = self.stop_refunds()
            rep.recycle.held += stopped.held
            rep.recycle.calls += stopped.calls
            with self.uow() as u:  # reservations of orders shipped or called off elsewhere
                settle_in(u)
                # what a cancellation or a refund freed (here, or as it was stored) goes to
                # who waits for it
                retry_short_in(u)
            self.memo = {}
            try:
                self._rounds(rep, limit)
            finally:
                self.memo = None
            return rep

    def _rounds(self, rep: PipelineReport, limit: int) -> None:
        # A step that fails as a whole (see failures.isolated, or anything it did not
        # isolate) is not run again this pass, the other steps still run, and the pass
        # raises the first failure once every confirmation is saved: the rest ship, and the
        # failure is seen.
        failures: list[Exception] = []
        broken: set[str] = set()

        def step(name: str, total: StepReport, fn: Callable[..., Any], *args: Any,
                 **kw: Any) -> Any:
            if name in broken:
                return StepReport() if name != "confirm" else 0
            try:
                got = fn(*args, **kw)
            except Exception as exc:
                log.error("pipeline_step_failed", step=name, error=words(exc), exc_info=exc)
                total.notes.append(f"{STEP_ZH[name]}：{words(exc)}")
                broken.add(name)
                failures.append(exc)
                return StepReport() if name != "confirm" else 0
            if isinstance(got, StepReport):
                add(total, got)
            return got

        try:
            with confirm.Confirmations(self, rep.confirm) as shipping:
                size = max(1, min(ROUND, limit))
                for i in range(max(1, -(-limit // size))):
                    a = step("audit", rep.audit, self.audit_new, size,
                             reaudit=limit if i == 0 else 0)
                    p = step("plan", rep.plan, self.plan, size)
                    w = step("waybills", rep.waybills, self.take_waybills, size)
                    started = step("confirm", rep.confirm, shipping.submit, size)
                    if not (a.seen or p.seen or w.seen or started):
                        break
        except Exception as exc:  # leaving the block: the confirmations' own failure
            log.error("pipeline_step_failed", step="confirm", error=words(exc), exc_info=exc)
            failures.append(exc)
        if failures:
            raise failures[0]
