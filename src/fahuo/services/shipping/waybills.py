"""E-waybill numbers: packs are marked pending *before* ``logistics.newCreateOrder`` (at most
``WAYBILL_BATCH`` per call) with their fixed ``(order_id, pack_id)`` key, so a crash after
the call and a retry get the same number back. Per-item ``err_infos`` hold just that order
(10701: the balance is out); the rest of the batch goes on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import structlog

from fahuo.adapters.platforms.doudian.errors import DoudianError, WaybillItemProblem
from fahuo.adapters.platforms.doudian.shipping import WAYBILL_BATCH, PostalAddress, WaybillRequest
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import OrderState
from fahuo.domain.packs import PackState
from fahuo.services.shipping.context import TRANSIENT, Lines, Pack, Shipping
from fahuo.services.shipping.failures import STEP_ZH, fail_packs, isolated, words
from fahuo.services.shipping.report import StepReport

log = structlog.get_logger(__name__)

# newCreateOrder batches (100 numbers each) asked for at once.
WAYBILL_CALLS_IN_FLIGHT = 3


def take_waybills(ctx: Shipping, limit: int = 2000) -> StepReport:
    r = StepReport()
    with ctx.uow() as u:
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
            sender = _sender(cfgs[shop_ref], addresses[shop_ref], site)
            api = ctx.platform_for(shops[shop_ref])
        except Exception as exc:  # noqa: BLE001 - this shop's or courier's setup: its packs only
            errors += [(p, exc) for p in group]
            continue
        if isinstance(sender, str):
            fail_packs(ctx, group, lines, HoldReason.WAYBILL_FAILED, sender, r)
            continue
        if site and site["balance"] is not None and site["balance"] < len(group):
            log.warning("waybill_balance_low", shop_ref=shop_ref, courier=courier,
                        netsite=netsite, balance=site["balance"], needed=len(group))
        for i in range(0, len(group), WAYBILL_BATCH):
            chunk = group[i:i + WAYBILL_BATCH]
            reqs = {}
            for p in chunk:
                try:
                    reqs[p["id"]] = _request(p, lines[p["id"]], receivers, names)
                except Exception as exc:  # noqa: BLE001 - one pack's data: not the other 99
                    errors.append((p, exc))
            chunk = [p for p in chunk if p["id"] in reqs]
            bad = [p for p in chunk if not reqs[p["id"]].complete]
            if bad:  # one incomplete receiver must not fail the other 99
                fail_packs(ctx, bad, lines, HoldReason.WAYBILL_FAILED,
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
                fail_packs(ctx, chunk, lines, HoldReason.WAYBILL_FAILED, str(exc), r)
                continue
            except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
                if len(chunk) == 1:
                    errors.append((chunk[0], exc))
                else:
                    again.append(futures[fut])
                continue
            errors += _save_each(ctx, chunk, lines, bills, errs, r)
    for chunk, courier, fn, head, rq, netsite in again:
        # Which pack made the batch fail? Ask pack by pack: the keys are pending, so a
        # number the platform issued already comes back the same.
        for p, req in zip(chunk, rq, strict=True):
            r.calls += 1
            try:
                bills, errs = fn(*head, [req], netsite)
            except TRANSIENT as exc:
                r.notes.append(f"{courier}: {exc}")
                continue
            except DoudianError as exc:
                fail_packs(ctx, [p], lines, HoldReason.WAYBILL_FAILED, str(exc), r)
                continue
            except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
                errors.append((p, exc))
                continue
            errors += _save_each(ctx, [p], lines, bills, errs, r)
    isolated("waybills", {p["main_order_id"]: exc for p, exc in errors},
             len(packs) - len(errors))
    for p, err in errors:
        log.error("pipeline_order_failed", step="waybills", pack_id=p["id"],
                  order_id=p["main_order_id"], error=words(err), exc_info=err)
        fail_packs(ctx, [p], lines, HoldReason.PIPELINE_ERROR,
                   f"{STEP_ZH['waybills']}：{words(err)}", r)
    return r


def _save_each(ctx: Shipping, chunk: list[Pack], lines: Lines, bills: Any, errs: Any,
               r: StepReport) -> list[tuple[dict[str, Any], BaseException]]:
    """``_save_waybills``; pack by pack if the batch cannot be saved. The packs that
    still failed, with their errors."""
    try:
        _save_waybills(ctx, chunk, lines, bills, errs, r)
        return []
    except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
        if len(chunk) == 1:
            return [(chunk[0], exc)]
    failed: list[tuple[dict[str, Any], BaseException]] = []
    for p in chunk:  # each takes only the answers under its own key
        try:
            _save_waybills(ctx, [p], lines, bills, errs, r)
        except Exception as exc:  # noqa: BLE001 - isolates this failure: the rest of the batch goes on
            failed.append((p, exc))
    return failed


def _sender(cfg: dict[str, Any], addresses: list[dict[str, Any]],
            site: dict[str, Any] | None) -> tuple[PostalAddress, str, str] | str:
    """(ship-from address, name, phone), or why there is none."""
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


def _save_waybills(ctx: Shipping, chunk: list[Pack], lines: Lines, bills: Any, errs: Any,
                   r: StepReport) -> None:
    by_key = {(p["main_order_id"], p["platform_pack_id"]): p for p in chunk}
    with ctx.uow() as u:
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
            why = f"{e.code} {e.message}".strip()
            if e.kind is WaybillItemProblem.BALANCE_EXHAUSTED:
                why = f"电子面单余额不足 ({e.code} {e.message})"
                log.warning("waybill_balance_exhausted", courier=p["courier_code"],
                            netsite=p["netsite_code"])
            failed.append((p, why))
    for p, why in failed:
        fail_packs(ctx, [p], lines, HoldReason.WAYBILL_FAILED, why, r)
