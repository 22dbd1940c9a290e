"""The auto-ship pipeline: audit → packs and courier → e-waybills → shipment confirmed.

Every step works on a batch, deadline first (`exp_ship_time` ascending), and is safe to run
again after a crash at any point:
- a pack's platform key (order_id, pack_id) is stored before newCreateOrder is called, so a
  retry gets the same number back and a pack never has two live numbers;
- pack-shaped confirmations carry a stored `request_id`; a whole-order confirmation that fails
  is checked against the order's packages on the platform, so "already shipped with this
  number" counts as success;
- platform calls happen outside transactions; what they return is saved in the next one.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import structlog

from fahuo.adapters.platforms.doudian.errors import (
    DoudianError, ServiceUnavailable, Throttled, TransportError,
)
from fahuo.adapters.platforms.doudian.shipping import (
    WAYBILL_BATCH, OrderPackages, PostalAddress, ShippedLine, WaybillRequest,
)
from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.holds import (
    OPEN_AFTER_SALE_STATUSES, AuditRules, HoldReason, audit,
)
from fahuo.domain.orders import HOLDABLE, ORDER, SENT, Order, OrderState
from fahuo.domain.packs import (
    GOING_OUT, PACK, MergeCandidate, PackState, SkuFacts, SplitRules, closing_state,
    is_line_shippable, one_pack, pack_ids, plan_merges, plan_split, receiver_key, units_to_ship,
)
from fahuo.domain.routing import CostTable, CourierRule, ParcelFacts, choose_courier
from fahuo.services.orders import store_platform_orders
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.stock import (
    STOCK_HOLD_SOURCE, reserve_in, retry_short_in, settle_in, ship_in,
)

log = structlog.get_logger(__name__)

TRANSIENT = (Throttled, ServiceUnavailable, TransportError)
BALANCE_EXHAUSTED = "10701"
# Confirmed shipments are saved this many units per transaction. A crash before a save only
# means the next pass repeats those calls: a whole order answers "already shipped" and is
# checked against its packages (`_already_shipped`), pack calls replay by `request_id`.
CONFIRM_SAVE_BATCH = 200
# A held order is judged again when it changes, when the shop's rules change, and at least
# this often (time alone clears some holds: a presale comes due).
REAUDIT_EVERY_S = 600
# newCreateOrder batches (100 numbers each) asked for at once.
WAYBILL_CALLS_IN_FLIGHT = 3
# Orders per round of a pass: small enough that confirmations of one round overlap the
# preparation of the next, big enough to keep every step batched.
ROUND = 500
OUT_OF_RANGE_TTL_S = 6 * 3600
# Per shop API session (so two installs or databases in one process never share answers):
# (courier, sender, region) → (out, until).
_OUT_OF_RANGE: "weakref.WeakKeyDictionary[Any, dict[tuple, tuple[bool, float]]]" = (
    weakref.WeakKeyDictionary())


@dataclass
class StepReport:
    seen: int = 0
    done: int = 0
    held: int = 0
    failed: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class PipelineReport:
    audit: StepReport = field(default_factory=StepReport)
    plan: StepReport = field(default_factory=StepReport)
    waybills: StepReport = field(default_factory=StepReport)
    confirm: StepReport = field(default_factory=StepReport)
    recycle: StepReport = field(default_factory=StepReport)

    def summary(self) -> dict[str, dict[str, int]]:
        return {k: {"seen": v.seen, "done": v.done, "held": v.held, "failed": v.failed,
                    "calls": v.calls}
                for k, v in self.__dict__.items()}


# Every state write below goes through the repository's ``move_orders`` / ``move_packs``
# (checked against the lifecycle, conditional on the state read, in this unit of work): a
# step states which rows it applies to (``among``), and a move the table forbids raises.
_LABELLED_ORDERS = frozenset({OrderState.WAYBILL_TAKEN, OrderState.PRINTED})
Moves = dict[str, tuple[str, str]]


# The platform refuses to ship an order with an open after-sale: isv.business-failed:5,
# naming the sku order ids in sub_msg.
AFTER_SALE_REFUSAL = ":5"


def _refunding(unit: list[dict[str, Any]], lines: dict[int, list[dict[str, Any]]],
               message: str) -> list[str]:
    """The orders of a unit the platform named as having an after-sale (all if unsure)."""
    named = {ln["order_id"] for p in unit for ln in lines[p["id"]]
             if ln["sku_order_id"] in message}
    return sorted(named) or _order_ids(unit, lines)


def _order_ids(unit: list[dict[str, Any]], lines: dict[int, list[dict[str, Any]]]) -> list[str]:
    return sorted({ln["order_id"] for p in unit for ln in lines[p["id"]]})


# ---- one bad order never stops a pass ----------------------------------------------------
# A step that raises for one order holds that order (处理出错, with the error's words) and goes
# on with the rest. Isolation needs evidence that the step itself works: when every order it
# tried raised, nothing is held (the orders flow again once the cause is fixed) and the step
# raises; the pass lets the other steps run and raises it at the end.
_STEP_ZH = {"audit": "审单", "reaudit": "复审", "plan": "分包", "waybills": "取号",
            "confirm": "发货"}


def _isolated(step: str, errors: dict[str, BaseException], went_through: int) -> None:
    """Re-raise the first error when orders failed and none went through: the step itself
    is broken (a bug, the database, a changed platform answer), not one order. Its own type
    is kept, so callers still tell a lost database from a bug."""
    if errors and not went_through:
        oid, exc = next(iter(errors.items()))
        exc.add_note(f"pipeline step {step} failed for every order it tried ({len(errors)}), "
                     f"e.g. {oid}; nothing was held for it")
        raise exc


def _lines_of(unit: list[dict[str, Any]], order_ids: list[str]) -> dict[int, list[dict[str, Any]]]:
    """Line rows enough to hold a unit's orders (``_fail_packs`` reads their order ids)."""
    lines: dict[int, list[dict[str, Any]]] = {p["id"]: [] for p in unit}
    lines[unit[0]["id"]] = [{"order_id": oid} for oid in order_ids]
    return lines


def _refunded_since_packed(u: UnitOfWork, packs: list[dict[str, Any]],
                           lines: dict[int, list[dict[str, Any]]], order_ids: list[str]
                           ) -> set[str]:
    """sku_order_ids that these live packs carry more of than the line still sends: refunded
    (in whole or in part) after the pack was made, maybe asked and agreed between two syncs
    and so never seen open. Such a label is void."""
    refunded = u.pipeline.refund_asked(order_ids, [12])
    if not refunded:
        return set()
    packed: dict[str, int] = defaultdict(int)
    for p in {x["id"]: x for x in packs}.values():
        if p["state"] != "cancelled":
            for ln in lines.get(p["id"], []):
                packed[ln["sku_order_id"]] += ln["quantity"]
    return {s.sku_order_id for _, (_, subs) in u.pipeline.stock_lines(sorted(refunded)).items()
            for s in subs if packed.get(s.sku_order_id, 0) > units_to_ship(s)}


def _words(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


class _Confirmations:
    """Shipment confirmations in flight. Units are chosen and checked in the caller's thread
    (that touches the store), only the platform calls run in the pool, and their outcomes are
    saved back in the caller's thread, in batches. Calls keep going while the caller does other
    work (the next batch's audit, packs and numbers): the platform and fahuo then work at the
    same time instead of taking turns. Packs in flight are never chosen twice; leaving the
    ``with`` block waits for every answer and saves it."""

    def __init__(self, pipe: "Pipeline", r: StepReport) -> None:
        self.pipe, self.r = pipe, r
        self.pool: ThreadPoolExecutor | None = None
        self.futures: dict[Any, tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]] = {}
        self.in_flight: set[int] = set()
        self.shipped: list[tuple[list[dict[str, Any]], list[str]]] = []
        # Units that raised (held at the end, see _settle_broken) and units that did not.
        self.broken: list[tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]],
                                BaseException]] = []
        self.went = 0

    def __enter__(self) -> "_Confirmations":
        return self

    def __exit__(self, exc_type: Any, *rest: object) -> None:
        clean = False
        try:
            if exc_type is None:
                self.collect(wait=True)
                clean = True
        finally:
            if not clean:
                # Something raised: stop what has not started, keep what the platform has
                # accepted. A call that finishes unsaved is found shipped (same number /
                # request_id) next pass.
                for fut in self.futures:
                    fut.cancel()
                if self.pool is not None:
                    self.pool.shutdown(wait=True)
                for fut, (unit, lines) in list(self.futures.items()):
                    if (fut.done() and not fut.cancelled() and fut.exception() is None
                            and fut.result()[0] == "ok"):
                        self.shipped.append((unit, _order_ids(unit, lines)))
                self.futures.clear()
            elif self.pool is not None:
                self.pool.shutdown(wait=True)
            self._save()
        if clean:
            self._settle_broken()

    def _break(self, unit, lines, exc: BaseException) -> None:
        self.broken.append((unit, lines, exc))
        self.in_flight.update(p["id"] for p in unit)  # not chosen again this pass

    def _settle_broken(self) -> None:
        broken, self.broken = self.broken, []
        if not broken:
            return
        _isolated("confirm", {oid: exc for unit, lines, exc in broken
                              for oid in _order_ids(unit, lines) or [unit[0]["main_order_id"]]},
                  self.went)
        for unit, lines, exc in broken:
            log.error("pipeline_order_failed", step="confirm", order_ids=_order_ids(unit, lines),
                      error=_words(exc), exc_info=exc)
            self.pipe._fail_packs(unit, lines, HoldReason.PIPELINE_ERROR,
                                  f"{_STEP_ZH['confirm']}：{_words(exc)}", self.r)
            self.in_flight.difference_update(p["id"] for p in unit)

    def submit(self, limit: int = 2000, *, pack_ids_only: list[int] | None = None) -> int:
        """Start the calls for ready packs not in flight yet; save what has finished. Returns
        the number of units started."""
        self.collect(wait=False)
        pipe, r = self.pipe, self.r
        with pipe.uow() as u:
            ready_states = {"on_waybill": "waybill_taken", "on_print": "printed",
                            "on_scan": "scanned"}
            shops = {s.id: s for s in u.shops.list()}
            cfgs = {ref: u.settings.get(ref) for ref in shops}
            if pack_ids_only is not None:  # a scan, an import row, a batch: exactly these
                packs = [p for p in u.pipeline.packs_by_ids(pack_ids_only)
                         if p["state"] in ("waybill_taken", "printed", "scanned", "manual")]
            else:  # per shop, its own ready states: one shop's unprinted labels must not
                # fill the window and starve the others
                packs = sorted((p for ref, cfg in cfgs.items() for p in u.pipeline.packs_in_state(
                    sorted({ready_states[cfg["confirm_mode"]], "scanned"}), shop_ref=ref,
                    limit=limit + len(self.in_flight))),
                    key=lambda p: (p["exp_ship_time"] is None, p["exp_ship_time"] or 0, p["id"]))
            packs = [p for p in packs if p["id"] not in self.in_flight][:limit]
            # A split order ships in one call, so all of its packs must be ready.
            siblings = u.pipeline.packs_of_orders(sorted({p["main_order_id"] for p in packs
                                                          if p["kind"] == "split"}))
            lines = u.pipeline.lines([p["id"] for p in packs] + [p["id"] for p in siblings])
            order_ids = sorted({ln["order_id"] for ls in lines.values() for ln in ls})
            states = u.pipeline.order_states(order_ids)
            refund_asked = u.pipeline.refund_asked(order_ids, sorted(OPEN_AFTER_SALE_STATUSES))
            # Lines refunded after their pack was made (asked and agreed between two syncs,
            # so never seen open), in whole or in part: a parcel carrying more of a line than
            # it still sends must not be confirmed.
            gone = _refunded_since_packed(u, [*packs, *siblings], lines, order_ids)
        units: list[list[dict[str, Any]]] = []
        split_groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for p in siblings:
            if p["state"] != "cancelled":
                split_groups[p["main_order_id"]].append(p)
        done_split = set()
        for p in packs:
            if p["kind"] != "split":
                units.append([p])
            elif p["main_order_id"] not in done_split:
                group = split_groups[p["main_order_id"]]
                if (all(x["track_no"] and x["state"] in ("waybill_taken", "printed", "scanned",
                                                            "manual") for x in group)
                        and not any(x["id"] in self.in_flight for x in group)):
                    units.append(sorted(group, key=lambda x: x["seq"]))
                done_split.add(p["main_order_id"])
        started = 0
        for unit in units:  # checks and refund stops touch the store: this thread only
            r.seen += len(unit)
            try:
                call = pipe._prepare_unit(unit, lines, states, refund_asked, shops, cfgs, r,
                                          gone=gone)
            except Exception as exc:  # this unit only: the others still ship
                self._break(unit, lines, exc)
                continue
            if call is None:
                self.went += 1
                continue
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=pipe.concurrency,
                                               thread_name_prefix="fahuo-confirm")
            self.futures[self.pool.submit(pipe._ship_on_platform, *call)] = (unit, lines)
            self.in_flight.update(p["id"] for p in unit)
            started += 1
        return started

    def collect(self, *, wait: bool) -> None:
        """Save the answers that are in (all of them, waiting, with ``wait``)."""
        if wait:
            for fut in as_completed(list(self.futures)):
                self._outcome(fut)
        else:
            self._collect_done()
        if wait or len(self.shipped) >= CONFIRM_SAVE_BATCH:
            self._save()

    def _save(self) -> None:
        units, self.shipped = self.shipped, []
        if not units:
            return
        try:
            self.pipe._save_confirmed(list(units), self.r)
            self.went += len(units)
        except Exception as exc:
            # Shipped on the platform, not saved here: unit by unit, so one row that cannot
            # be written does not lose the others (a held one is found shipped by the sync).
            for one in units if len(units) > 1 else []:
                try:
                    self.pipe._save_confirmed([one], self.r)
                    self.went += 1
                except Exception as exc1:
                    self._break(one[0], _lines_of(*one), exc1)
            if len(units) == 1:
                self._break(units[0][0], _lines_of(*units[0]), exc)
        broken = {p["id"] for unit, _, _ in self.broken for p in unit}
        self.in_flight.difference_update(  # confirmed in the store now
            p["id"] for unit, _ in units for p in unit if p["id"] not in broken)

    def _collect_done(self) -> None:
        for fut in [f for f in self.futures if f.done() and not f.cancelled()]:
            self._outcome(fut)

    def _outcome(self, fut: Any) -> None:
        unit, lines = self.futures.pop(fut)
        pipe, r = self.pipe, self.r
        try:
            outcome, text, n_calls, fresh = fut.result()
        except Exception as exc:  # not a platform answer: a bug on our side, this unit only
            r.calls += 1
            self._break(unit, lines, exc)
            return
        r.calls += n_calls
        if outcome == "ok":
            self.shipped.append((unit, _order_ids(unit, lines)))
            if len(self.shipped) >= CONFIRM_SAVE_BATCH:
                self._save()
            return
        try:
            if outcome == "transient":
                r.notes.append(text)  # try again next pass; nothing changed
            elif outcome == "after_sale":
                pipe._stop_for_refund(unit, lines, _refunding(unit, lines, text), r)
            elif not pipe._explained(unit, lines, fresh, r):
                pipe._fail_packs(unit, lines, HoldReason.SHIP_FAILED, text, r)
        except Exception as exc:
            self._break(unit, lines, exc)
            return
        self.went += 1
        # Saved (or left as it was, for a retry): free to be chosen again.
        self.in_flight.difference_update(p["id"] for p in unit)


class Pipeline:
    def __init__(self, uow: UowFactory, platform_for: PlatformFactory,
                 clock: Callable[[], float] = time.time, *, concurrency: int = 8) -> None:
        """``concurrency``: shipment confirmations in flight at once. The platform answers in
        tens of milliseconds and wants one call per order, so one at a time would cap a shop
        at a few dozen orders a second; the app's rate budget still bounds the calls."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
        self.uow, self.platform_for, self.clock = uow, platform_for, clock
        self.concurrency = concurrency
        # Orders built during one run() by version (synced_at); None outside a run.
        self._memo: dict[str, tuple[tuple[int, int], Order]] | None = None

    def _load(self, u: UnitOfWork, ids: list[str]) -> dict[str, tuple[int, str, Order]]:
        """``load_orders``, reusing the Orders this pass already built (the audit's, for the
        plan right after it) while their stored version (stamp) has not moved."""
        memo = self._memo
        if memo is None:
            return u.pipeline.load_orders(ids)
        stamps = u.pipeline.order_stamps(ids)
        out: dict[str, tuple[int, str, Order]] = {}
        missing = []
        for oid, (ref, state, stamp) in stamps.items():
            hit = memo.get(oid)
            if hit is not None and hit[0] == stamp:
                out[oid] = (ref, state, hit[1])
            else:
                missing.append(oid)
        for oid, (ref, state, stamp, order) in u.pipeline.load_orders_stamped(missing).items():
            memo[oid] = (stamp, order)
            out[oid] = (ref, state, order)
        return out

    # ---- 0. refunds asked before the parcel left ----------------------------------------
    def stop_refunds(self, limit: int = 2000) -> StepReport:
        """截停 at once: an order whose buyer asked for a refund stops wherever it is. Numbers
        not printed yet are given back; a printed parcel keeps its label and is refused at the
        scanner ("intercepted — do not ship")."""
        r = StepReport()
        with self.uow() as u:
            ids = u.pipeline.open_after_sale_orders(
                [OrderState.APPROVED.value, OrderState.WAYBILL_TAKEN.value,
                 OrderState.PRINTED.value], sorted(OPEN_AFTER_SALE_STATUSES), limit)
            if not ids:
                return r
            loaded = u.pipeline.load_orders(ids)
            cfgs = {ref: u.settings.get(ref) for ref in {v[0] for v in loaded.values()}}
            ids = [oid for oid in ids if cfgs[loaded[oid][0]]["refund_policy"] != "reject"]
            packs = [p for p in u.pipeline.packs_of_orders(ids)
                     if p["state"] not in ("cancelled", "confirmed", "stale", "failed")]
            lines = u.pipeline.lines([p["id"] for p in packs])
        r.seen = len(ids)
        units: dict[str, list[dict[str, Any]]] = {}
        for p in packs:  # a split order's packs (same main order) stop together
            units.setdefault(p["main_order_id"], []).append(p)
        printed_orders: set[str] = set()
        for unit in units.values():
            refunding = sorted({ln["order_id"] for p in unit for ln in lines[p["id"]]} & set(ids))
            if any(p["state"] in ("printed", "scanned") for p in unit):
                printed_orders.update(refunding)
                continue
            self._stop_for_refund(unit, lines, refunding, r)
        packed = {ln["order_id"] for ls in lines.values() for ln in ls}
        hold_only = sorted((set(ids) - packed) | printed_orders)
        if hold_only:
            with self.uow() as u:
                u.pipeline.lock_orders(hold_only)
                moves = ORDER.moves_to(u.pipeline.order_states(hold_only), OrderState.HELD,
                                       HOLDABLE)
                u.pipeline.add_holds([{
                    "order_id": oid, "reason": HoldReason.AFTER_SALE_OPEN.value,
                    "detail": ("面单已打印：扫描发货时会拦截，请勿发出" if oid in printed_orders
                               else "买家申请退款，已截停"), "source": "pipeline"}
                    for oid in hold_only if oid in moves])
                u.pipeline.move_orders(moves)
                r.held += len(moves)
        return r

    # ---- 1. audit ---------------------------------------------------------------------
    def audit_new(self, limit: int = 2000, *, reaudit: int | None = None) -> StepReport:
        """Audit up to ``limit`` synced orders; then re-audit up to ``reaudit`` held ones
        (default ``limit``; 0: none). An order with no line left to ship is closed (refunded
        or cancelled), never approved."""
        r = StepReport()
        now = int(self.clock())
        rules: dict[int, AuditRules] = {}
        with self.uow() as u:
            ids = u.pipeline.orders_to_audit(limit)
            # Lock order (docs/architecture.md): the held orders judged again below are
            # locked with these, in one statement, not after them.
            u.pipeline.lock_orders_to_judge(ids, limit if reaudit is None else reaudit,
                                            judged_before=now - REAUDIT_EVERY_S)
            loaded, errors = self._load_each(u, ids)
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
                except Exception as exc:  # this order only
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
            _isolated("audit", errors, len(ids) - len(errors))
            u.pipeline.add_holds(holds)
            u.pipeline.move_orders(states)
            u.pipeline.mark_audited(ids)
            self._hold_for_error(u, "audit", errors, r)
        if reaudit != 0:  # its own transaction: a re-audit that fails keeps the audit's work
            with self.uow() as u:
                self._reaudit_held(u, rules, now, limit if reaudit is None else reaudit, r)
        return r

    def _load_each(self, u: UnitOfWork, ids: list[str]
                   ) -> tuple[dict[str, tuple[int, str, Order]], dict[str, BaseException]]:
        """``_load``, then one order at a time if the batch fails: an order that cannot be
        read must not keep the others from being judged. (order_id → row, order_id → error)"""
        try:
            return self._load(u, ids), {}
        except Exception as exc:
            if len(ids) <= 1:
                return {}, {oid: exc for oid in ids}
        loaded: dict[str, tuple[int, str, Order]] = {}
        errors: dict[str, BaseException] = {}
        for oid in ids:
            try:
                loaded.update(self._load(u, [oid]))
            except Exception as exc:
                errors[oid] = exc
        return loaded, errors

    @staticmethod
    def _hold_for_error(u: UnitOfWork, step: str, errors: dict[str, BaseException],
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
            log.error("pipeline_order_failed", step=step, order_id=oid, error=_words(exc),
                      exc_info=exc)
            if oid not in current:
                continue
            held = oid in states or current[oid] == OrderState.HELD.value
            if held and not any(h["reason"] == HoldReason.PIPELINE_ERROR.value
                                for h in already.get(oid, [])):
                rows.append({"order_id": oid, "reason": HoldReason.PIPELINE_ERROR.value,
                             "detail": f"{_STEP_ZH[step]}：{_words(exc)}",
                             "source": "pipeline"})
        u.pipeline.add_holds(rows)
        u.pipeline.move_orders(states)
        r.failed += len(rows)

    def _reaudit_held(self, u: UnitOfWork, rules: dict[int, AuditRules], now: int, limit: int,
                      r: StepReport) -> None:
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
        judged = {HoldReason.OUT_OF_RANGE, HoldReason.STOCK_SHORT}  # not the audit's to clear
        ids = [oid for oid in ids if oid not in closing and open_holds.get(oid) and all(
            h["source"] == "rule" and HoldReason(h["reason"]).from_audit
            and HoldReason(h["reason"]) not in judged for h in open_holds[oid])]
        if not ids:
            return
        loaded, errors = self._load_each(u, ids)
        cleared: list[str] = []
        for oid, (shop_ref, _state, order) in loaded.items():
            try:
                if shop_ref not in rules:
                    rules[shop_ref] = AuditRules.from_dict(
                        u.settings.get(shop_ref)["audit_rules"])
                clear = order.order_status == 2 and not audit(order, rules[shop_ref], now)
            except Exception as exc:  # this order only
                errors[oid] = exc
                continue
            if clear:
                cleared.append(oid)
        _isolated("reaudit", errors, len(ids) - len(errors))
        if cleared:
            u.pipeline.release_holds(cleared, "system: re-audit")
            u.pipeline.move_orders({oid: (OrderState.HELD.value, OrderState.APPROVED.value)
                                    for oid in cleared})
            r.done += len(cleared)
        self._hold_for_error(u, "reaudit", errors, r)

    # ---- 2. packs and courier ------------------------------------------------------------
    def plan(self, limit: int = 2000) -> StepReport:
        """Packs (whole, merged, split) with a courier each. Couriers are checked against the
        platform between two short transactions, never inside one. An order with no line
        left to ship (however it came to be approved) is closed instead of packed."""
        r = StepReport()
        with self.uow() as u:
            ids = u.pipeline.unpacked_in_state(OrderState.APPROVED.value, limit)
            loaded, errors = self._load_each(u, ids)
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
        planned: list[tuple[list[str], list[tuple[dict, list]]]] = []
        refused: list[tuple[list[str], str]] = []
        for shop_ref, orders in by_shop.items():
            try:
                shop, cfg, sites = shops[shop_ref]
                reachable_couriers = {x["courier_code"] for x in sites
                                      if x["balance"] is None or x["balance"] > 0}
                rules = [CourierRule.from_dict(x) for x in cfg["courier_rules"]]
                costs = CostTable.from_dict(cfg["cost_table"]) if cfg["cost_table"] else None
                facts = {k: SkuFacts.from_dict(v) for k, v in cfg["sku_facts"].items()}
                split_rules = SplitRules.from_dict(cfg["split_rules"])
                api = self.platform_for(shop)
                groups = self._groups(orders, cfg["merge_window_s"], loaded)
            except Exception as exc:  # this shop's settings: its orders, not the others'
                errors.update({oid: exc for oid, _ in orders})
                continue

            def pack_group(group: list[Order]) -> None:
                packs, why_not = [], None
                for pack, lines, _ in self._packs_for(group, facts, split_rules):
                    r.seen += 1
                    decision = choose_courier(
                        self._parcel(group, lines, facts), rules, cfg["default_courier"],
                        reachable=self._reachability(shop_ref, api, sites, reachable_couriers,
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
                                netsite_code=self._netsite(sites, decision.courier_code))
                    packs.append((pack, lines))
                group_ids = [o.order_id for o in group]
                if why_not is None:
                    planned.append((group_ids, packs))
                else:
                    refused.append((group_ids, why_not))

            for group in groups:
                try:
                    pack_group(group)
                except Exception as exc:
                    if len(group) == 1:
                        errors[group[0].order_id] = exc
                        continue
                    for o in group:  # one bad order of a merged group: the others alone
                        try:
                            pack_group([o])
                        except Exception as exc1:
                            errors[o.order_id] = exc1
        # The write, all at once; if it fails, group by group, so that one order whose pack
        # cannot be stored does not keep the others from theirs.
        went = 0
        try:
            with self.uow() as u:
                saved = self._save_plan(u, planned, refused, closing)
            went = saved.seen
            r.held, r.done = r.held + saved.held, r.done + saved.done
        except Exception as exc:
            parts: list[tuple[list, list, dict[str, OrderState]]] = (
                [([g], [], {}) for g in planned] + [([], [g], {}) for g in refused]
                + [([], [], {oid: st}) for oid, st in closing.items()])
            if len(parts) == 1:
                errors.update({oid: exc for oid in
                               [o for g, _ in planned + refused for o in g] + list(closing)})
                parts = []
            for p_, f_, c_ in parts:
                try:
                    with self.uow() as u:
                        saved = self._save_plan(u, p_, f_, c_)
                    went += saved.seen
                    r.held, r.done = r.held + saved.held, r.done + saved.done
                except Exception as exc1:
                    errors.update({oid: exc1 for oid in
                                   [o for g, _ in p_ + f_ for o in g] + list(c_)})
        _isolated("plan", errors, went)
        if errors:
            with self.uow() as u:
                self._hold_for_error(u, "plan", errors, r)
        return r

    def _save_plan(self, u: UnitOfWork, planned, refused,
                   closing: dict[str, OrderState]) -> StepReport:
        """Store what ``plan`` decided, re-checking that nobody planned or held the orders
        meanwhile. Returns the counts (``seen``: orders handled) for the caller to add once
        the transaction is in."""
        mine = StepReport()
        involved = [oid for g, _ in planned + refused for oid in g] + list(closing)
        still = set(self._unpacked(u, involved))
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

    @staticmethod
    def _unpacked(u: UnitOfWork, ids: list[str]) -> list[str]:
        """The orders among ids that no live pack carries yet."""
        live = [p["id"] for p in u.pipeline.packs_of_orders(ids) if p["state"] != "cancelled"]
        busy = {ln["order_id"] for ls in u.pipeline.lines(live).values() for ln in ls}
        return [i for i in ids if i not in busy]

    def _reachability(self, shop_ref, api, sites, couriers, receiver, r: StepReport):
        """Courier has an e-waybill account here and delivers to this district (getOutRange,
        remembered per district for hours: cheap, and ranges change rarely)."""
        def reach(courier: str) -> bool:
            if courier not in couriers:
                return False
            site = next((s for s in sites if s["courier_code"] == courier
                         and s["sender_address"]), None)
            if site is None:
                return True
            a = site["sender_address"][0]
            sender = PostalAddress(a.get("province_name", ""), a.get("city_name", ""),
                                   a.get("district_name", ""), a.get("street_name", ""),
                                   a.get("detail_address", ""))
            # The check covers sender and receiver, so both belong in the key.
            key = (courier, sender.province, sender.city, sender.district,
                   receiver.province, receiver.city, receiver.district)
            try:
                cache = _OUT_OF_RANGE.setdefault(api, {})
            except TypeError:  # an api object that cannot be weakly referenced: no caching
                cache = {}
            hit = cache.get(key)
            now = self.clock()
            if hit is None or hit[1] < now:
                try:
                    r.calls += 1
                    out = api.is_out_of_range(courier, sender, PostalAddress(
                        receiver.province, receiver.city, receiver.district, receiver.street,
                        receiver.detail_cipher or receiver.address_mask))
                except DoudianError as exc:
                    log.warning("out_of_range_check_failed", courier=courier, error=str(exc))
                    return True  # the waybill call will say so if it really is
                hit = cache[key] = (out, now + OUT_OF_RANGE_TTL_S)
            return not hit[0]
        return reach

    @staticmethod
    def _groups(orders: list[tuple[str, Order]], window_s: int,
                loaded: dict[str, tuple[int, str, Order]]) -> list[list[Order]]:
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

    @staticmethod
    def _packs_for(group: list[Order], facts: dict[str, SkuFacts], rules: SplitRules):
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
        for n, (plan, key) in enumerate(zip(plans, keys), start=1):
            lines = [{"order_id": order.order_id, "sku_order_id": ln.sku_order_id,
                      "quantity": ln.quantity} for ln in plan.lines]
            yield ({"kind": "split", "state": "planned", "main_order_id": main,
                    "platform_pack_id": key, "seq": n, "of": len(plans),
                    "exp_ship_time": deadline, "request_id": request_id}, lines, group)

    @staticmethod
    def _parcel(group: list[Order], lines: list[dict[str, Any]],
                facts: dict[str, SkuFacts]) -> ParcelFacts:
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

    @staticmethod
    def _netsite(sites: list[dict[str, Any]], courier: str) -> str | None:
        best = [s for s in sites if s["courier_code"] == courier]
        best.sort(key=lambda s: -(s["balance"] if s["balance"] is not None else 1 << 40))
        return best[0]["netsite_code"] if best else None

    # ---- 3. e-waybills ---------------------------------------------------------------
    def take_waybills(self, limit: int = 2000) -> StepReport:
        r = StepReport()
        with self.uow() as u:
            packs = u.pipeline.packs_in_state(["planned", "waybill_pending"], limit=limit)
            lines = u.pipeline.lines([p["id"] for p in packs])
            # A pack without lines (planned before packs were checked) can never ship: void
            # it, and its order is planned again (or closed, with nothing left to ship).
            empty = [p["id"] for p in packs if not lines[p["id"]]]
            if empty:
                log.warning("empty_packs_voided", pack_ids=empty)
                u.pipeline.move_packs_from(
                    empty, frozenset({PackState.PLANNED, PackState.WAYBILL_PENDING}),
                    PackState.CANCELLED, last_error="包裹里没有商品，已作废 (pack without lines)")
                packs = [p for p in packs if lines[p["id"]]]
            order_ids = sorted({ln["order_id"] for ls in lines.values() for ln in ls})
            receivers, names = u.pipeline.waybill_facts(order_ids)
            shops = {s.id: s for s in u.shops.list()}
            cfgs = {ref: u.settings.get(ref) for ref in {p["shop_ref"] for p in packs}}
            sites = {(s["shop_ref"], s["courier_code"], s["netsite_code"]): s
                     for ref in cfgs for s in u.settings.netsites(ref)}
            addresses = {ref: u.settings.addresses(ref) for ref in cfgs}
            held = {oid for oid, rc in receivers.items() if rc.state == OrderState.HELD.value}
            packs = [p for p in packs if not {ln["order_id"] for ln in lines[p["id"]]} & held]
            # Intent first: every pack we are about to ask a number for is marked pending.
            u.pipeline.move_packs({p["id"]: (p["state"], PackState.WAYBILL_PENDING.value)
                                   for p in packs if p["state"] == PackState.PLANNED})
        errors: list[tuple[dict[str, Any], BaseException]] = []  # packs that raised
        batches: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
        for p in packs:
            batches[(p["shop_ref"], p["courier_code"], p["netsite_code"])].append(p)
        calls: list[tuple[list[dict[str, Any]], str, Callable[..., Any], tuple,
                          list[WaybillRequest], Any]] = []
        for (shop_ref, courier, netsite), group in batches.items():
            try:
                site = sites.get((shop_ref, courier, netsite))
                sender = self._sender(cfgs[shop_ref], addresses[shop_ref], site)
                api = self.platform_for(shops[shop_ref])
            except Exception as exc:  # this shop's or courier's setup: its packs only
                errors += [(p, exc) for p in group]
                continue
            if isinstance(sender, str):
                self._fail_packs(group, lines, HoldReason.WAYBILL_FAILED, sender, r)
                continue
            if site and site["balance"] is not None and site["balance"] < len(group):
                log.warning("waybill_balance_low", shop_ref=shop_ref, courier=courier,
                            netsite=netsite, balance=site["balance"], needed=len(group))
            for i in range(0, len(group), WAYBILL_BATCH):
                chunk = group[i:i + WAYBILL_BATCH]
                reqs = {}
                for p in chunk:
                    try:
                        reqs[p["id"]] = self._request(p, lines[p["id"]], receivers, names)
                    except Exception as exc:  # one pack's data: not the other 99
                        errors.append((p, exc))
                chunk = [p for p in chunk if p["id"] in reqs]
                bad = [p for p in chunk if not reqs[p["id"]].complete]
                if bad:  # one incomplete receiver must not fail the other 99
                    self._fail_packs(bad, lines, HoldReason.WAYBILL_FAILED,
                                     "收件人姓名、电话或详细地址为空 (receiver incomplete)", r)
                    chunk = [p for p in chunk if p not in bad]
                if not chunk:
                    continue
                r.seen += len(chunk)
                calls.append((chunk, courier, api.take_waybills,
                              (courier, sender[0], sender[1], sender[2]),
                              [reqs[p["id"]] for p in chunk], netsite))
        # A few batches in flight: the platform fills one while the last one is saved here.
        # Every key was stored as pending above, so a crash anywhere still gets the same
        # numbers back next run.
        again = []  # batches that raised something other than a platform answer
        with ThreadPoolExecutor(max_workers=max(1, min(WAYBILL_CALLS_IN_FLIGHT, len(calls))),
                                thread_name_prefix="fahuo-waybills") as pool:
            futures = {pool.submit(fn, *head, rq, netsite): (chunk, courier, fn, head, rq,
                                                             netsite)
                       for chunk, courier, fn, head, rq, netsite in calls}
            for fut in as_completed(futures):
                chunk, courier = futures[fut][:2]
                r.calls += 1
                try:
                    bills, errs = fut.result()
                except TRANSIENT as exc:
                    r.notes.append(f"{courier}: {exc}")  # still pending: same keys next run
                    continue
                except DoudianError as exc:
                    self._fail_packs(chunk, lines, HoldReason.WAYBILL_FAILED, str(exc), r)
                    continue
                except Exception as exc:
                    if len(chunk) == 1:
                        errors.append((chunk[0], exc))
                    else:
                        again.append(futures[fut])
                    continue
                errors += self._save_each(chunk, lines, bills, errs, r)
        for chunk, courier, fn, head, rq, netsite in again:
            # Which pack made the batch fail? Ask pack by pack: the keys are pending, so a
            # number the platform issued already comes back the same.
            for p, req in zip(chunk, rq):
                r.calls += 1
                try:
                    bills, errs = fn(*head, [req], netsite)
                except TRANSIENT as exc:
                    r.notes.append(f"{courier}: {exc}")
                    continue
                except DoudianError as exc:
                    self._fail_packs([p], lines, HoldReason.WAYBILL_FAILED, str(exc), r)
                    continue
                except Exception as exc:
                    errors.append((p, exc))
                    continue
                errors += self._save_each([p], lines, bills, errs, r)
        _isolated("waybills", {p["main_order_id"]: exc for p, exc in errors},
                  len(packs) - len(errors))
        for p, err in errors:
            log.error("pipeline_order_failed", step="waybills", pack_id=p["id"],
                      order_id=p["main_order_id"], error=_words(err), exc_info=err)
            self._fail_packs([p], lines, HoldReason.PIPELINE_ERROR,
                             f"{_STEP_ZH['waybills']}：{_words(err)}", r)
        return r

    def _save_each(self, chunk, lines, bills, errs, r: StepReport
                   ) -> list[tuple[dict[str, Any], BaseException]]:
        """``_save_waybills``; pack by pack if the batch cannot be saved. The packs that
        still failed, with their errors."""
        try:
            self._save_waybills(chunk, lines, bills, errs, r)
            return []
        except Exception as exc:
            if len(chunk) == 1:
                return [(chunk[0], exc)]
        failed: list[tuple[dict[str, Any], BaseException]] = []
        for p in chunk:  # each takes only the answers under its own key
            try:
                self._save_waybills([p], lines, bills, errs, r)
            except Exception as exc:
                failed.append((p, exc))
        return failed

    @staticmethod
    def _sender(cfg: dict[str, Any], addresses: list[dict[str, Any]],
                site: dict[str, Any] | None):
        if site is None:
            return "没有该快递的电子面单账户 (no e-waybill account for this courier)"
        addr_list = site["sender_address"]
        if not addr_list:
            return "电子面单账户没有发货地址 (the e-waybill account has no sender address)"
        a = addr_list[0]
        book = next((x for x in addresses if x["address_id"] == cfg["ship_from_address_id"]),
                    None) or next((x for x in addresses if x["is_default_send"]), None)
        name = cfg["sender_name"] or (book or {}).get("name", "")
        phone = cfg["sender_phone"] or (book or {}).get("phone", "")
        if not name or not phone:
            return "发件人姓名或电话未设置 (set the sender name and phone in shop settings)"
        return (PostalAddress(a.get("province_name", ""), a.get("city_name", ""),
                              a.get("district_name", ""), a.get("street_name", ""),
                              a.get("detail_address", "")), name, phone)

    @staticmethod
    def _request(pack: dict[str, Any], lines: list[dict[str, Any]], receivers: dict[str, Any],
                 names: dict[str, str]) -> WaybillRequest:
        rc = receivers[pack["main_order_id"]]
        return WaybillRequest(
            order_id=pack["main_order_id"], pack_id=pack["platform_pack_id"],
            receiver=PostalAddress(rc.province, rc.city, rc.district, rc.street,
                                   rc.receiver_detail_cipher or rc.receiver_address_mask),
            receiver_name=rc.receiver_name_cipher or rc.receiver_name_mask,
            receiver_phone=rc.receiver_phone_cipher or rc.receiver_phone_mask,
            items=[(names[ln["sku_order_id"]], ln["quantity"]) for ln in lines])

    def _save_waybills(self, chunk, lines, bills, errs, r: StepReport) -> None:
        by_key = {(p["main_order_id"], p["platform_pack_id"]): p for p in chunk}
        with self.uow() as u:
            orders_of: dict[int, list[str]] = {}
            waybill_rows = []
            taken = []
            for b in bills:
                p = by_key.get((b.order_id, b.pack_id)) or by_key.get((b.order_id, ""))
                if p is None:
                    continue
                taken.append({"id": p["id"], "track_no": b.track_no, "sort_code": b.sort_code,
                              "short_address": b.short_address,
                              "package_center": b.package_center})
                waybill_rows.append({"courier_code": p["courier_code"], "track_no": b.track_no,
                                     "shop_ref": p["shop_ref"], "pack_id": p["id"],
                                     "status": "live", "source": "ewaybill"})
                orders_of[p["id"]] = [ln["order_id"] for ln in lines[p["id"]]]
                r.done += 1
            u.pipeline.lock_orders(sorted({o for ids in orders_of.values() for o in ids}))
            moved = u.pipeline.set_packs_taken(taken)  # the packs still pending
            u.pipeline.add_waybills(waybill_rows)  # every number, live: recycle may need it
            # Their approved orders have a label now; one held or voided meanwhile stays.
            u.pipeline.move_orders_from(sorted({o for pid in moved for o in orders_of[pid]}),
                                        frozenset({OrderState.APPROVED}),
                                        OrderState.WAYBILL_TAKEN)
            if waybill_rows:
                p0 = chunk[0]
                u.settings.spend_balance(p0["shop_ref"], p0["courier_code"],
                                         p0["netsite_code"] or "", len(waybill_rows))
        failed = []
        for e in errs:
            p = by_key.get((e.order_id, e.pack_id)) or by_key.get((e.order_id, ""))
            if p is not None:
                words = f"{e.code} {e.message}".strip()
                if e.code == BALANCE_EXHAUSTED:
                    words = f"电子面单余额不足 ({e.code} {e.message})"
                    log.warning("waybill_balance_exhausted", courier=p["courier_code"],
                                netsite=p["netsite_code"])
                failed.append((p, words))
        for p, words in failed:
            self._fail_packs([p], lines, HoldReason.WAYBILL_FAILED, words, r)

    def _fail_packs(self, packs, lines, reason: HoldReason, words: str,
                    r: StepReport) -> None:
        with self.uow() as u:
            ids = sorted({ln["order_id"] for p in packs for ln in lines[p["id"]]})
            u.pipeline.lock_orders(ids)
            # a pack voided or shipped meanwhile keeps that state
            u.pipeline.move_packs_from([p["id"] for p in packs], GOING_OUT, PackState.FAILED,
                                       last_error=words)
            u.pipeline.add_holds([{"order_id": oid, "reason": reason.value, "detail": words,
                                   "source": "pipeline"} for oid in ids])
            u.pipeline.move_orders_from(ids, HOLDABLE, OrderState.HELD)
        r.failed += len(packs)

    # ---- 4. shipment confirmation ------------------------------------------------------
    def confirm(self, limit: int = 2000, *, pack_ids_only: list[int] | None = None
                ) -> StepReport:
        """Confirm ready packs on the platform and wait for every answer."""
        r = StepReport()
        with _Confirmations(self, r) as shipping:
            shipping.submit(limit, pack_ids_only=pack_ids_only)
        return r

    def _save_confirmed(self, shipped: list[tuple[list[dict[str, Any]], list[str]]],
                        r: StepReport, *, partly: frozenset[str] = frozenset()) -> None:
        """Save units the platform accepted, in one transaction; empties `shipped`. Orders in
        ``partly`` are the ones the platform shows only partly shipped."""
        if not shipped:
            return
        packs = [p for unit, _ in shipped for p in unit]
        order_ids = sorted({oid for _, ids in shipped for oid in ids})
        with self.uow() as u:
            u.pipeline.lock_orders(order_ids)
            # The platform took them: confirmed from wherever they are (its word wins).
            u.pipeline.move_packs_from([p["id"] for p in packs],
                                       PACK.sources(PackState.CONFIRMED), PackState.CONFIRMED,
                                       last_error=None)
            u.pipeline.set_waybill_status([(p["courier_code"], p["track_no"]) for p in packs],
                                          "used")
            current = u.pipeline.order_states(order_ids)
            # Shipped (or partly) from wherever the table lets an order become so; one that
            # went further meanwhile (in transit, refunded) stays where it is.
            new: Moves = {}
            for target, ids in ((OrderState.PARTLY_SHIPPED, [o for o in order_ids if o in partly]),
                                (OrderState.SHIPPED, [o for o in order_ids if o not in partly])):
                new |= ORDER.moves_to({o: current[o] for o in ids if o in current}, target,
                                      ORDER.sources(target))
            u.pipeline.move_orders(new)
            ship_in(u, order_ids)  # reserved units leave the shelf with the parcel
        r.done += len(packs)
        shipped.clear()

    def _prepare_unit(self, unit, lines, states, refund_asked, shops, cfgs, r: StepReport, *,
                      gone: set[str] | frozenset[str] = frozenset()):
        """Checks before shipping one unit; the platform call to make, or None to skip.
        ``gone``: sku_order_ids refunded since they were packed."""
        first = unit[0]
        order_ids = _order_ids(unit, lines)
        cfg = cfgs[first["shop_ref"]]
        if any(OrderState(states[oid]) in (OrderState.CANCELLED, OrderState.REFUNDED)
               for oid in order_ids):
            return None  # recycle() takes the number back
        if any(states[oid] == OrderState.HELD.value for oid in order_ids):
            return None  # a person is looking at it: nothing leaves until it is released
        if any(ln["sku_order_id"] in gone for p in unit for ln in lines[p["id"]]):
            with self.uow() as u:
                self._void_labels(u, unit, r)
            return None
        refund_open = [oid for oid in order_ids if oid in refund_asked]
        reject_refund = False
        if refund_open:
            if cfg["refund_policy"] != "reject":
                self._stop_for_refund(unit, lines, refund_open, r)
                return None
            reject_refund = True
        api = self.platform_for(shops[first["shop_ref"]])
        return api, unit, lines, order_ids, cfg, reject_refund

    @staticmethod
    def _void_labels(u: UnitOfWork, unit, r: StepReport) -> None:
        """A line of the parcel was refunded after it was packed: the label is void.
        recycle() takes the number back and the orders are planned again with what is
        left, or closed when nothing is."""
        u.pipeline.move_packs_from([p["id"] for p in unit], PACK.sources(PackState.STALE),
                                   PackState.STALE,
                                   last_error="包裹中有商品已退款，面单作废 "
                                              "(a line was refunded after packing)")
        r.notes.append(f"{unit[0]['main_order_id']}: 包裹中有商品已退款，面单作废")

    def _explained(self, unit, lines, fresh: list[dict[str, Any]], r: StepReport) -> bool:
        """A refused confirmation, checked against the unit's orders as the platform shows
        them now (``fresh``, read back after the refusal). They are stored (the sync would
        bring the same), and when they explain the refusal nothing waits for a person: a
        line refunded since the last sync voids the label (``_void_labels``); an order
        cancelled, refunded or shipped meanwhile is recycle()'s. False: hold it."""
        order_ids = _order_ids(unit, lines)
        if not fresh or {str(d.get("order_id")) for d in fresh} != set(order_ids):
            return False  # not every order could be read: a person looks
        with self.uow() as u:
            u.orders.lock(order_ids)  # lock order: the orders first, then their packs
            store_platform_orders(u, unit[0]["shop_ref"], fresh)
            loaded = u.pipeline.load_orders(order_ids)
            packed = {ln["sku_order_id"] for p in unit for ln in lines[p["id"]]}
            if any(not is_line_shippable(s) for _, _, o in loaded.values()
                   for s in o.sub_orders if s.sku_order_id in packed):
                self._void_labels(u, unit, r)
                return True
            return any(OrderState(st) not in (OrderState.WAYBILL_TAKEN, OrderState.PRINTED,
                                              OrderState.APPROVED, OrderState.HELD)
                       for _, st, _ in loaded.values())

    def _ship_on_platform(self, api, unit, lines, order_ids, cfg, reject_refund
                          ) -> tuple[str, str, int, list[dict[str, Any]]]:
        """One confirmation call, in a pool thread (no store access here):
        ("ok" | "transient" | "after_sale" | "failed", the platform's words, calls made,
        the unit's orders read back after a refusal)."""
        first = unit[0]
        try:
            if first["kind"] == "whole":
                api.ship_order(first["main_order_id"], first["courier_code"], first["track_no"],
                               reject_refund=reject_refund,
                               address_id=cfg["ship_from_address_id"])
            elif first["kind"] == "merged":
                api.ship_single_pack(order_ids, [ShippedLine(ln["sku_order_id"], ln["quantity"])
                                                 for ln in lines[first["id"]]],
                                     first["courier_code"], first["track_no"],
                                     first["request_id"], reject_refund=reject_refund,
                                     address_id=cfg["ship_from_address_id"])
            else:
                api.ship_multi_pack(first["main_order_id"], [
                    (p["courier_code"], p["track_no"],
                     [ShippedLine(ln["sku_order_id"], ln["quantity"]) for ln in lines[p["id"]]])
                    for p in unit], first["request_id"], reject_refund=reject_refund,
                    address_id=cfg["ship_from_address_id"])
        except TRANSIENT as exc:
            return "transient", str(exc), 1, []
        except DoudianError as exc:
            if (exc.sub_code or "").endswith(AFTER_SALE_REFUSAL):
                return "after_sale", str(exc), 1, []  # a refund we had not heard of yet
            if first["kind"] == "whole" and self._already_shipped(api, first):
                return "ok", "", 2, []  # the platform has this very number: that is success
            # Something changed since the last sync, maybe: what do the orders say now?
            fresh, reads = [], 0
            for oid in order_ids:
                reads += 1
                try:
                    fresh.append(api.order_detail(oid))
                except DoudianError:
                    break
            return "failed", str(exc), 1 + (first["kind"] == "whole") + reads, fresh
        return "ok", "", 1, []

    @staticmethod
    def _already_shipped(api, pack: dict[str, Any]) -> bool:
        try:
            return bool(api.order_packages(pack["main_order_id"]).carries(pack["track_no"]))
        except DoudianError:
            return False

    def _stop_for_refund(self, unit, lines, refund_open, r: StepReport) -> None:
        """截停: the buyer asked for money back before the parcel left."""
        with self.uow() as u:
            shop = u.shops.require(unit[0]["shop_ref"])
        api = self.platform_for(shop)
        # A number the platform already shipped with stays live: its pack waits as stale and
        # the next recycle saves it confirmed.
        recycled, kept, live = self._cancel_numbers(api, unit, lines, r)
        kept |= set(live)
        with self.uow() as u:
            ids = sorted({ln["order_id"] for p in unit for ln in lines[p["id"]]})
            u.pipeline.lock_orders(ids)
            current = u.pipeline.order_states(ids)
            # the refunding order waits; a merged partner whose label is void is planned
            # again (one a person holds stays held)
            states = ORDER.moves_to({o: st for o, st in current.items() if o in refund_open},
                                    OrderState.HELD, HOLDABLE)
            states |= ORDER.moves_to({o: st for o, st in current.items()
                                      if o not in refund_open},
                                     OrderState.APPROVED, _LABELLED_ORDERS)
            note = "买家申请退款，已截停 (refund requested: stopped)"
            u.pipeline.move_packs_from([p["id"] for p in unit if p["id"] not in kept],
                                       PACK.sources(PackState.CANCELLED), PackState.CANCELLED,
                                       last_error=note)
            u.pipeline.move_packs_from(sorted(kept), PACK.sources(PackState.STALE),
                                       PackState.STALE, last_error=note)
            u.pipeline.set_waybill_status(recycled, "recycled")
            u.pipeline.add_holds([{"order_id": oid, "reason": HoldReason.AFTER_SALE_OPEN.value,
                                   "detail": "发货前买家申请售后，已截停并回收面单",
                                   "source": "pipeline"} for oid in refund_open])
            u.pipeline.move_orders(states)
        r.held += len(refund_open)

    @staticmethod
    def _read_back(api, order_id: str, read: dict[str, OrderPackages | None],
                   r: StepReport) -> OrderPackages | None:
        """The order's parcels on the platform, once per pass; None when it cannot say now."""
        if order_id not in read:
            try:
                r.calls += 1
                read[order_id] = api.order_packages(order_id)
            except DoudianError as exc:
                if not isinstance(exc, TRANSIENT):
                    log.warning("order_packages_read_failed", order_id=order_id, error=str(exc))
                r.notes.append(f"{order_id}: {exc}")
                read[order_id] = None
        return read[order_id]

    @classmethod
    def _numbers_in_use(cls, api, packs, lines, r: StepReport, *,
                        read: dict[str, OrderPackages | None] | None = None,
                        never_shipped: frozenset[str] = frozenset()
                        ) -> tuple[dict[int, list[OrderPackages]], set[int]]:
        """Check each pack's number against the packages of each of its orders (a merged pack
        has several orders, a split order several packs): (pack id → the orders' read-backs
        that carry its number, ids of packs the platform could not answer for)."""
        read = {} if read is None else read
        used: dict[int, list[OrderPackages]] = {}
        unsure: set[int] = set()
        for p in packs:
            if not p["track_no"]:
                continue
            ids = sorted({ln["order_id"] for ln in lines.get(p["id"], [])} - never_shipped)
            got = [cls._read_back(api, oid, read, r) for oid in ids]
            carried = [x for x in got if x is not None and x.carries(p["track_no"])]
            if carried:
                used[p["id"]] = carried
            elif any(x is None for x in got):
                unsure.add(p["id"])
        return used, unsure

    @classmethod
    def _cancel_numbers(cls, api, packs, lines, r: StepReport, *,
                        read: dict[str, OrderPackages | None] | None = None,
                        never_shipped: frozenset[str] = frozenset()
                        ) -> tuple[list[tuple[str, str]], set[int], dict[int, list[OrderPackages]]]:
        """Give numbers back, only those the platform shows unused by every order of their
        pack. Returns (recycled keys, ids of packs to try again later, pack id → read-backs
        of the orders the platform shipped with that pack's number: never cancelled)."""
        recycled: list[tuple[str, str]] = []
        # Nothing taken, or the merchant's own number: nothing to read, nothing to give back.
        ours = [p for p in packs if p["track_no"] and p["courier_rule"] != "import"]
        used, kept = cls._numbers_in_use(api, ours, lines, r, read=read,
                                         never_shipped=never_shipped)
        for p in ours:
            if p["id"] in used or p["id"] in kept:
                continue  # live on a parcel, or the platform cannot say now: never cancel
            try:
                r.calls += 1
                api.cancel_waybill(p["courier_code"], p["track_no"])
                recycled.append((p["courier_code"], p["track_no"]))
            except DoudianError as exc:
                if "已取消" in str(exc) or "already cancel" in str(exc).lower():
                    recycled.append((p["courier_code"], p["track_no"]))  # a retry after a crash
                elif isinstance(exc, TRANSIENT):
                    kept.add(p["id"])
                else:
                    log.warning("waybill_recycle_refused", track_no=p["track_no"],
                                error=str(exc))  # e.g. picked up: nothing more to do
        return recycled, kept, used

    # ---- 5. recycle numbers of orders that will not ship -----------------------------------
    def recycle(self, limit: int = 2000) -> StepReport:
        """Take back numbers that will not ship: a cancelled or refunded order in the pack, an
        address changed after the label (stale), or an order already shipped another way.
        Orders of the pack that still want their parcel are planned again. A number the
        platform shipped with (a crash after the confirmation call, or the label confirmed in
        the Douyin back office) is not given back: its pack is saved as confirmed."""
        r = StepReport()
        with self.uow() as u:
            packs = u.pipeline.packs_in_state(
                ["stale", "waybill_taken", "printed", "scanned", "failed"], limit=limit)
            lines = u.pipeline.lines([p["id"] for p in packs])
            known = u.pipeline.order_states(sorted({ln["order_id"] for ls in lines.values()
                                                    for ln in ls}))
            # a printed label waiting for a scan that will never come (the parcel was put
            # aside) is void as soon as its lines are refunded, whatever the confirm mode
            void = _refunded_since_packed(u, packs, lines, sorted(known))
            shops = {s.id: s for s in u.shops.list()}
        gone = (OrderState.CANCELLED.value, OrderState.REFUNDED.value)
        shipped = tuple(s.value for s in SENT)
        # A cancelled order never left (a refund may come after shipping: those are read).
        never_shipped = frozenset(oid for oid, st in known.items()
                                  if st == OrderState.CANCELLED.value)
        read: dict[str, OrderPackages | None] = {}  # one read-back per order per pass
        found = 0
        for p in packs:
            ids = {ln["order_id"] for ln in lines[p["id"]]}
            states = {oid: known[oid] for oid in ids if oid in known}
            dead = (p["state"] == "stale" or any(st in gone + shipped for st in states.values())
                    or any(ln["sku_order_id"] in void for ln in lines[p["id"]]))
            if not dead:
                continue
            r.seen += 1
            recycled, kept, used = self._cancel_numbers(
                self.platform_for(shops[p["shop_ref"]]), [p], lines, r, read=read,
                never_shipped=never_shipped)
            if used:
                carried = used[p["id"]]
                self._save_confirmed([([p], sorted(x.order_id for x in carried))], StepReport(),
                                     partly=frozenset(x.order_id for x in carried if x.partly))
                found += 1
                continue
            if kept:
                continue  # the platform was busy or could not say: next pass
            with self.uow() as u:
                u.pipeline.lock_orders(sorted(ids))
                u.pipeline.move_packs_from([p["id"]], PACK.sources(PackState.CANCELLED),
                                           PackState.CANCELLED,
                                           last_error="面单已回收 (number recycled)")
                u.pipeline.set_waybill_status(recycled, "recycled")
                # label voided: its orders are planned again
                u.pipeline.move_orders_from(sorted(ids), _LABELLED_ORDERS, OrderState.APPROVED)
            r.done += 1
        if found:
            r.notes.append(f"{found} pack(s) found shipped with their number: saved as confirmed")
        return r

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
            self._memo = {}
            try:
                self._rounds(rep, limit)
            finally:
                self._memo = None
            return rep

    def _rounds(self, rep: PipelineReport, limit: int) -> None:
        # A step that fails as a whole (see _isolated, or anything it did not isolate) is not
        # run again this pass, the other steps still run, and the pass raises the first
        # failure once every confirmation is saved: the rest ship, and the failure is seen.
        failures: list[Exception] = []
        broken: set[str] = set()

        def step(name: str, total: StepReport, fn: Callable[..., Any], *args: Any,
                 **kw: Any) -> Any:
            if name in broken:
                return StepReport() if name != "confirm" else 0
            try:
                got = fn(*args, **kw)
            except Exception as exc:
                log.error("pipeline_step_failed", step=name, error=_words(exc), exc_info=exc)
                total.notes.append(f"{_STEP_ZH[name]}：{_words(exc)}")
                broken.add(name)
                failures.append(exc)
                return StepReport() if name != "confirm" else 0
            if isinstance(got, StepReport):
                _add(total, got)
            return got

        try:
            with _Confirmations(self, rep.confirm) as shipping:
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
            log.error("pipeline_step_failed", step="confirm", error=_words(exc), exc_info=exc)
            failures.append(exc)
        if failures:
            raise failures[0]


def _add(total: StepReport, step: StepReport) -> None:
    total.seen += step.seen
    total.done += step.done
    total.held += step.held
    total.failed += step.failed
    total.calls += step.calls
    total.notes += step.notes
