"""Shipment confirmation, per the shop's mode (when the number is taken, printed, scanned):
``order.logisticsAdd`` for a whole order, ``logisticsAddSinglePack`` for a merged pack,
``logisticsAddMultiPack`` (one call, every pack) for a split order. ``Confirmations`` keeps
up to ``concurrency`` calls in flight while the pass goes on; a refused confirmation is read
back (``order_packages``, ``order.orderDetail``) before anything waits for a person."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import structlog

from fahuo.adapters.platforms.doudian.errors import AfterSaleOpen, DoudianError
from fahuo.adapters.platforms.doudian.shipping import ShippedLine
from fahuo.domain.holds import OPEN_AFTER_SALE_STATUSES, HoldReason
from fahuo.domain.orders import OrderState
from fahuo.domain.packs import is_line_shippable
from fahuo.services.orders import store_platform_orders
from fahuo.services.shipping.context import (
    TRANSIENT, Lines, Pack, Shipping, lines_of, order_ids,
)
from fahuo.services.shipping.failures import STEP_ZH, fail_packs, isolated, words
from fahuo.services.shipping.recycle import refunded_since_packed
from fahuo.services.shipping.refunds import (
    refunding, stop_for_refund, void_labels,
)
from fahuo.services.shipping.report import StepReport
from fahuo.services.shipping.shipped import save_confirmed

log = structlog.get_logger(__name__)

# Confirmed shipments are saved this many units per transaction. A crash before a save only
# means the next pass repeats those calls: a whole order answers "already shipped" and is
# checked against its packages (`_already_shipped`), pack calls replay by `request_id`.
CONFIRM_SAVE_BATCH = 200
READY = ("waybill_taken", "printed", "scanned", "manual")


def confirm(ctx: Shipping, limit: int = 2000, *, pack_ids_only: list[int] | None = None
            ) -> StepReport:
    """Confirm ready packs on the platform and wait for every answer."""
    r = StepReport()
    with Confirmations(ctx, r) as shipping:
        shipping.submit(limit, pack_ids_only=pack_ids_only)
    return r


class Confirmations:
    """Shipment confirmations in flight. Units are chosen and checked in the caller's thread
    (that touches the store), only the platform calls run in the pool, and their outcomes are
    saved back in the caller's thread, in batches. Calls keep going while the caller does other
    work (the next batch's audit, packs and numbers): the platform and fahuo then work at the
    same time instead of taking turns. Packs in flight are never chosen twice; leaving the
    ``with`` block waits for every answer and saves it."""

    def __init__(self, ctx: Shipping, r: StepReport) -> None:
        self.ctx, self.r = ctx, r
        self.pool: ThreadPoolExecutor | None = None
        self.futures: dict[Any, tuple[list[Pack], Lines]] = {}
        self.in_flight: set[int] = set()
        self.shipped: list[tuple[list[Pack], list[str]]] = []
        # Units that raised (held at the end, see _settle_broken) and units that did not.
        self.broken: list[tuple[list[Pack], Lines, BaseException]] = []
        self.went = 0

    def __enter__(self) -> Confirmations:
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
                        self.shipped.append((unit, order_ids(unit, lines)))
                self.futures.clear()
            elif self.pool is not None:
                self.pool.shutdown(wait=True)
            self._save()
        if clean:
            self._settle_broken()

    def _break(self, unit: list[Pack], lines: Lines, exc: BaseException) -> None:
        self.broken.append((unit, lines, exc))
        self.in_flight.update(p["id"] for p in unit)  # not chosen again this pass

    def _settle_broken(self) -> None:
        broken, self.broken = self.broken, []
        if not broken:
            return
        isolated("confirm", {oid: exc for unit, lines, exc in broken
                             for oid in order_ids(unit, lines) or [unit[0]["main_order_id"]]},
                 self.went)
        for unit, lines, exc in broken:
            log.error("pipeline_order_failed", step="confirm", order_ids=order_ids(unit, lines),
                      error=words(exc), exc_info=exc)
            fail_packs(self.ctx, unit, lines, HoldReason.PIPELINE_ERROR,
                       f"{STEP_ZH['confirm']}：{words(exc)}", self.r)
            self.in_flight.difference_update(p["id"] for p in unit)

    def submit(self, limit: int = 2000, *, pack_ids_only: list[int] | None = None) -> int:
        """Start the calls for ready packs not in flight yet; save what has finished. Returns
        the number of units started."""
        self.collect(wait=False)
        ctx, r = self.ctx, self.r
        with ctx.uow() as u:
            ready_states = {"on_waybill": "waybill_taken", "on_print": "printed",
                            "on_scan": "scanned"}
            shops = {s.id: s for s in u.shops.list()}
            cfgs = {ref: u.settings.get(ref) for ref in shops}
            if pack_ids_only is not None:  # a scan, an import row, a batch: exactly these
                packs = [p for p in u.pipeline.packs_by_ids(pack_ids_only)
                         if p["state"] in READY]
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
            ids = sorted({ln["order_id"] for ls in lines.values() for ln in ls})
            states = u.pipeline.order_states(ids)
            refund_asked = u.pipeline.refund_asked(ids, sorted(OPEN_AFTER_SALE_STATUSES))
            # Lines refunded after their pack was made (asked and agreed between two syncs,
            # so never seen open), in whole or in part: a parcel carrying more of a line than
            # it still sends must not be confirmed.
            gone = refunded_since_packed(u, [*packs, *siblings], lines, ids)
        units: list[list[Pack]] = []
        split_groups: dict[str, list[Pack]] = defaultdict(list)
        for p in siblings:
            if p["state"] != "cancelled":
                split_groups[p["main_order_id"]].append(p)
        done_split = set()
        for p in packs:
            if p["kind"] != "split":
                units.append([p])
            elif p["main_order_id"] not in done_split:
                group = split_groups[p["main_order_id"]]
                if (all(x["track_no"] and x["state"] in READY for x in group)
                        and not any(x["id"] in self.in_flight for x in group)):
                    units.append(sorted(group, key=lambda x: x["seq"]))
                done_split.add(p["main_order_id"])
        started = 0
        for unit in units:  # checks and refund stops touch the store: this thread only
            r.seen += len(unit)
            try:
                call = _prepare_unit(ctx, unit, lines, states, refund_asked, shops, cfgs, r,
                                     gone=gone)
            except Exception as exc:  # noqa: BLE001 - this unit only: the others still ship
                self._break(unit, lines, exc)
                continue
            if call is None:
                self.went += 1
                continue
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=ctx.concurrency,
                                               thread_name_prefix="fahuo-confirm")
            self.futures[self.pool.submit(_ship_on_platform, *call)] = (unit, lines)
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
            save_confirmed(self.ctx, list(units), self.r)
            self.went += len(units)
        except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
            # Shipped on the platform, not saved here: unit by unit, so one row that cannot
            # be written does not lose the others (a held one is found shipped by the sync).
            for one in units if len(units) > 1 else []:
                try:
                    save_confirmed(self.ctx, [one], self.r)
                    self.went += 1
                except Exception as exc1:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
                    self._break(one[0], lines_of(*one), exc1)
            if len(units) == 1:
                self._break(units[0][0], lines_of(*units[0]), exc)
        broken = {p["id"] for unit, _, _ in self.broken for p in unit}
        self.in_flight.difference_update(  # confirmed in the store now
            p["id"] for unit, _ in units for p in unit if p["id"] not in broken)

    def _collect_done(self) -> None:
        for fut in [f for f in self.futures if f.done() and not f.cancelled()]:
            self._outcome(fut)

    def _outcome(self, fut: Any) -> None:
        unit, lines = self.futures.pop(fut)
        ctx, r = self.ctx, self.r
        try:
            outcome, text, n_calls, fresh = fut.result()
        except Exception as exc:  # noqa: BLE001 - not a platform answer: a bug on our side, this unit only
            r.calls += 1
            self._break(unit, lines, exc)
            return
        r.calls += n_calls
        if outcome == "ok":
            self.shipped.append((unit, order_ids(unit, lines)))
            if len(self.shipped) >= CONFIRM_SAVE_BATCH:
                self._save()
            return
        try:
            if outcome == "transient":
                r.notes.append(text)  # try again next pass; nothing changed
            elif outcome == "after_sale":
                stop_for_refund(ctx, unit, lines, refunding(unit, lines, text), r)
            elif not _explained(ctx, unit, lines, fresh, r):
                fail_packs(ctx, unit, lines, HoldReason.SHIP_FAILED, text, r)
        except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
            self._break(unit, lines, exc)
            return
        self.went += 1
        # Saved (or left as it was, for a retry): free to be chosen again.
        self.in_flight.difference_update(p["id"] for p in unit)


def _prepare_unit(ctx: Shipping, unit: list[Pack], lines: Lines, states: dict[str, str],
                  refund_asked: Any, shops: dict[int, Any], cfgs: dict[int, Any],
                  r: StepReport, *, gone: set[str] | frozenset[str] = frozenset()
                  ) -> tuple[Any, list[Pack], Lines, list[str], Any, bool] | None:
    """Checks before shipping one unit; the platform call to make, or None to skip.
    ``gone``: sku_order_ids refunded since they were packed."""
    first = unit[0]
    ids = order_ids(unit, lines)
    cfg = cfgs[first["shop_ref"]]
    if any(OrderState(states[oid]) in (OrderState.CANCELLED, OrderState.REFUNDED)
           for oid in ids):
        return None  # recycle() takes the number back
    if any(states[oid] == OrderState.HELD.value for oid in ids):
        return None  # a person is looking at it: nothing leaves until it is released
    if any(ln["sku_order_id"] in gone for p in unit for ln in lines[p["id"]]):
        with ctx.uow() as u:
            void_labels(u, unit, r)
        return None
    refund_open = [oid for oid in ids if oid in refund_asked]
    reject_refund = False
    if refund_open:
        if cfg["refund_policy"] != "reject":
            stop_for_refund(ctx, unit, lines, refund_open, r)
            return None
        reject_refund = True
    api = ctx.platform_for(shops[first["shop_ref"]])
    return api, unit, lines, ids, cfg, reject_refund


def _explained(ctx: Shipping, unit: list[Pack], lines: Lines, fresh: list[dict[str, Any]],
               r: StepReport) -> bool:
    """A refused confirmation, checked against the unit's orders as the platform shows
    them now (``fresh``, read back after the refusal). They are stored (the sync would
    bring the same), and when they explain the refusal nothing waits for a person: a
    line refunded since the last sync voids the label (``void_labels``); an order
    cancelled, refunded or shipped meanwhile is recycle()'s. False: hold it."""
    ids = order_ids(unit, lines)
    if not fresh or {str(d.get("order_id")) for d in fresh} != set(ids):
        return False  # not every order could be read: a person looks
    with ctx.uow() as u:
        u.orders.lock(ids)  # lock order: the orders first, then their packs
        store_platform_orders(u, unit[0]["shop_ref"], fresh)
        loaded = u.pipeline.load_orders(ids)
        packed = {ln["sku_order_id"] for p in unit for ln in lines[p["id"]]}
        if any(not is_line_shippable(s) for _, _, o in loaded.values()
               for s in o.sub_orders if s.sku_order_id in packed):
            void_labels(u, unit, r)
            return True
        return any(OrderState(st) not in (OrderState.WAYBILL_TAKEN, OrderState.PRINTED,
                                          OrderState.APPROVED, OrderState.HELD)
                   for _, st, _ in loaded.values())


def _ship_on_platform(api: Any, unit: list[Pack], lines: Lines, ids: list[str],
                      cfg: Any, reject_refund: bool
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
            api.ship_single_pack(ids, [ShippedLine(ln["sku_order_id"], ln["quantity"])
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
    except AfterSaleOpen as exc:
        return "after_sale", str(exc), 1, []  # a refund we had not heard of yet
    except DoudianError as exc:
        if first["kind"] == "whole" and _already_shipped(api, first):
            return "ok", "", 2, []  # the platform has this very number: that is success
        # Something changed since the last sync, maybe: what do the orders say now?
        fresh, reads = [], 0
        for oid in ids:
            reads += 1
            try:
                fresh.append(api.order_detail(oid))
            except DoudianError:
                break
        return "failed", str(exc), 1 + (first["kind"] == "whole") + reads, fresh
    return "ok", "", 1, []


def _already_shipped(api: Any, pack: Pack) -> bool:
    try:
        return bool(api.order_packages(pack["main_order_id"]).carries(pack["track_no"]))
    except DoudianError:
        return False
