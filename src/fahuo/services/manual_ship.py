"""Shipping by hand: import tracking numbers from a file, or ship selected orders in a batch.

Preview first (nothing changes), then apply. Invalid rows are reported one by one and never
applied; valid rows apply idempotently, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fahuo.domain.imports import parse_import
from fahuo.domain.jobs import JobItemState, JobState
from fahuo.domain.holds import OPEN_AFTER_SALE_STATUSES
from fahuo.domain.names import HOLD_REASON, ORDER_STATE
from fahuo.domain.orders import PLATFORM_STATUS_NAMES, PRE_SHIPMENT, OrderState
from fahuo.domain.packs import PACK, PackState, is_line_shippable, units_to_ship
from fahuo.domain.packs import receiver_key
from fahuo.services.ports import PlatformFactory, Table, TableReader, UowFactory
from fahuo.services.shipping import Pipeline
from fahuo.services.uploads import UploadLimits, UploadRefused, chunks
from fahuo.domain.waybills import WaybillState

Progress = Callable[[int, int], None]


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, missing column)."""


def read_rows(name: str, data: bytes, limits: UploadLimits | None = None, *,
              files: TableReader) -> Table:
    """The file's table (read by the file port); a file refused whole is an ImportFileError."""
    try:
        return files.read_table(name, data, limits or UploadLimits())
    except UploadRefused as exc:
        raise ImportFileError(str(exc)) from exc


def table_rows(table: Table) -> tuple[list[dict[str, str]], list[int]]:
    """Rows as header → text, and each row's line number as the merchant sees it."""
    keys = ["" if h is None else str(h).strip() for h in table.header]
    return ([{k: _cell(v) for k, v in zip(keys, values, strict=False) if k} for _, values in table.rows],
            [line_no for line_no, _ in table.rows])


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # Excel numbers: 6919…0.0 → the digits, not scientific notation
    return str(v).strip()


@dataclass
class RowOutcome:
    line_no: int
    order_id: str
    courier_code: str
    track_no: str
    status: str  # ready | invalid | already_shipped | shipped | failed
    message: str = ""


@dataclass
class ImportPreview:
    rows: list[RowOutcome] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def ready(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.status == "ready"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def preview_import(uow_factory: UowFactory, name: str, data: bytes,
                   limits: UploadLimits | None = None, *, files: TableReader) -> ImportPreview:
    """Check every row of the file against the file rules and the store. Changes nothing."""
    return preview_table(uow_factory, read_rows(name, data, limits, files=files))


def preview_table(uow_factory: UowFactory, table: Table) -> ImportPreview:
    """``preview_import`` of a file already read."""
    name = table.name
    rows, line_nos = table_rows(table)
    try:
        plan = parse_import(rows, line_nos=line_nos)
    except ImportFileError:
        raise
    except ValueError as exc:  # a missing column: the domain names it
        raise ImportFileError(f"{name}: {exc}") from exc
    out = ImportPreview(fingerprint=table.digest)
    for p in plan.invalid:
        out.rows.append(RowOutcome(p.line_no, p.order_id or "", "", "", "invalid", p.reason_zh))
    ids = [r.order_id for r in plan.valid]
    loaded: dict[str, Any] = {}
    packs: list[dict[str, Any]] = []
    by_number: dict[str, dict[str, Any]] = {}
    with uow_factory() as u:
        holds: dict[str, list[dict[str, Any]]] = {}
        refund_open: set[str] = set()
        for part in chunks(ids):  # a long file must not become one statement
            loaded.update(u.pipeline.load_orders(part))
            packs += u.pipeline.packs_of_orders(part)
            holds.update(u.pipeline.open_holds(part))
            refund_open |= u.pipeline.refund_asked(part, sorted(OPEN_AFTER_SALE_STATUSES))
        for nos in chunks(sorted({r.tracking_no for r in plan.valid})):
            by_number.update(u.pipeline.packs_by_track_nos(nos))
        others = sorted({p["main_order_id"] for p in by_number.values()} - set(loaded))
        for part in chunks(others):
            loaded.update(u.pipeline.load_orders(part))
    # One parcel, one receiver: a number may cover several orders only as a merged parcel
    # (same shop, same person at the same address), never two buyers' orders.
    orders_of_number: dict[str, set[str]] = {}
    for r in plan.valid:
        orders_of_number.setdefault(r.tracking_no, set()).add(r.order_id)
    shipped_with = {(p["main_order_id"], p["track_no"]) for p in packs
                    if p["state"] == "confirmed"}
    for row in plan.valid:
        base = RowOutcome(row.line_no, row.order_id, row.courier_code, row.tracking_no, "ready")
        got = loaded.get(row.order_id)
        other = _used_by_other_order(by_number.get(row.tracking_no), row.order_id, loaded)
        if not other and len(orders_of_number[row.tracking_no]) > 1 and not _one_parcel(
                [loaded.get(o) for o in orders_of_number[row.tracking_no]]):
            other = (f"快递单号 {row.tracking_no} 在文件中用于不同收件人的订单 "
                     f"{'、'.join(sorted(orders_of_number[row.tracking_no] - {row.order_id}))}，"
                     "一个单号只能发一个包裹 (one number for two receivers' orders)")
        if got is None:
            base.status, base.message = "invalid", "订单不在fahuo中 (order not synced into fahuo)"
        elif other:
            base.status, base.message = "invalid", other
        elif (row.order_id, row.tracking_no) in shipped_with:
            base.status, base.message = "already_shipped", "已用此单号发货 (already shipped)"
        elif why := not_shippable(got, holds.get(row.order_id, []),
                                  row.order_id in refund_open):
            base.status, base.message = "invalid", why
        out.rows.append(base)
    out.rows.sort(key=lambda r: r.line_no)
    return out


def _one_parcel(orders: Sequence[tuple[int, str, Any] | None]) -> bool:
    """Whether these loaded orders may travel in one parcel: same shop, same receiver."""
    if any(o is None for o in orders):
        return False
    keys = {(o[0], receiver_key(o[2])) for o in orders if o is not None}
    return len(keys) == 1 and all(k for _, k in keys)


def _used_by_other_order(pack: dict[str, Any] | None, order_id: str,
                         loaded: dict[str, tuple[int, str, Any]]) -> str:
    """Why this number cannot ship ``order_id`` ("" if it can): a number already on another
    order's parcel, unless both orders are one merged parcel."""
    if pack is None or pack["state"] == "cancelled" or pack["main_order_id"] == order_id:
        return ""
    if _one_parcel([loaded.get(order_id), loaded.get(pack["main_order_id"])]):
        return ""
    return (f"快递单号 {pack['track_no']} 已用于订单 {pack['main_order_id']}，一个单号只能发一个"
            "包裹 (tracking number already used by another order)")


def apply_import(uow_factory: UowFactory, platform_for: PlatformFactory, name: str,
                 data: bytes, actor: str, progress: Progress | None = None,
                 limits: UploadLimits | None = None, *, files: TableReader) -> dict[str, Any]:
    """Ship every ready row of the file (one job; invalid and shipped rows recorded)."""
    return apply_table(uow_factory, platform_for, read_rows(name, data, limits, files=files),
                       actor, progress)


def not_shippable(got: tuple[int, str, Any], holds: list[dict[str, Any]],
                  refund_open: bool) -> str:
    """Why an imported number cannot ship this order now ("" when it can). The preview shows
    it and the apply checks it again, so a row previewed ready is never refused blank."""
    st, order = got[1], got[2]
    if st == OrderState.HELD.value:
        why = "、".join(HOLD_REASON.get(h["reason"], h["reason"]) for h in holds) or "人工挂起"
        return f"订单已挂起（{why}）：请先处理挂起再导入 (order is held)"
    if refund_open:
        return "买家已申请售后（退款），请先处理售后再发货 (an after-sale is open)"
    if not any(is_line_shippable(sub) for sub in order.sub_orders):
        return "订单商品已全部退款或关闭，无需发货 (nothing left to ship)"
    if OrderState(st) not in PRE_SHIPMENT or order.order_status != 2:
        ps = order.order_status
        return (f"订单状态不可发货：{ORDER_STATE.get(st, st)} ({st}) / 平台"
                f"{PLATFORM_STATUS_NAMES.get(ps, ps)} ({ps}) (order is not waiting to ship)")
    return ""


def apply_table(uow_factory: UowFactory, platform_for: PlatformFactory, table: Table,
                actor: str, progress: Progress | None = None) -> dict[str, Any]:
    """``apply_import`` of a file already read."""
    name = table.name
    preview = preview_table(uow_factory, table)
    with uow_factory() as u:
        job_id = u.pipeline.add_job(kind="import", status=JobState.RUNNING, source=name,
                                    fingerprint=preview.fingerprint, total=len(preview.rows),
                                    created_by=actor)
        items = [
            {"line_no": r.line_no, "order_id": r.order_id, "courier_code": r.courier_code,
             "track_no": r.track_no, "status": JobItemState.PENDING if r.status == "ready" else
             (JobItemState.SKIPPED if r.status == "already_shipped" else JobItemState.INVALID),
             "message": r.message} for r in preview.rows]
        for part in chunks(items):
            u.pipeline.add_job_items(job_id, list(part))
        u.audit.add(actor=actor, action="ship.import", subject_type="ship_job",
                    subject_id=str(job_id), detail={"file": name, **preview.counts()})
    _ship_rows(uow_factory, platform_for, job_id, preview.ready, progress)
    with uow_factory() as u:
        job = u.pipeline.job(job_id)
    assert job is not None  # made above, jobs are never deleted
    return job


def _ship_rows(uow_factory: UowFactory, platform_for: PlatformFactory, job_id: int,
               rows: Sequence[RowOutcome], progress: Progress | None) -> None:
    """Record each row as a manual pack with its number, then confirm it on the platform."""
    pipe = Pipeline(uow_factory, platform_for)
    ok = failed = 0
    for i, row in enumerate(rows, start=1):
        with uow_factory() as u:
            used = u.pipeline.packs_by_track_nos([row.track_no]).get(row.track_no)
            other = _used_by_other_order(used, row.order_id, u.pipeline.load_orders(
                [row.order_id] + ([used["main_order_id"]] if used else [])))
            loaded = u.pipeline.load_orders([row.order_id])
            # held, refunded or shipped since the preview: refused with the same words
            other = other or not_shippable(
                loaded[row.order_id], u.pipeline.open_holds([row.order_id]).get(row.order_id, []),
                bool(u.pipeline.refund_asked([row.order_id], sorted(OPEN_AFTER_SALE_STATUSES))))
            if other:  # taken or changed since the preview (another import, another person)
                u.pipeline.settle_job_item(job_id, row.line_no, JobItemState.FAILED, other)
                failed += 1
                continue
            shop_ref, state, order = loaded[row.order_id]
            # "manual": only this call confirms it; the automatic pass never picks it up.
            pack_id = u.pipeline.add_pack({
                "shop_ref": shop_ref, "kind": "whole", "state": "manual",
                "main_order_id": row.order_id, "platform_pack_id": f"m{uuid.uuid4().hex[:8]}",
                "courier_code": row.courier_code, "courier_rule": "import",
                "courier_reason": "导入单号", "track_no": row.track_no,
                "request_id": uuid.uuid4().hex, "exp_ship_time": order.exp_ship_time},
                [{"order_id": row.order_id, "sku_order_id": s.sku_order_id,
                  "quantity": units_to_ship(s)} for s in order.sub_orders
                 if is_line_shippable(s)])  # what the order still sends, refunds left out
            u.pipeline.add_waybills([{"courier_code": row.courier_code,
                                      "track_no": row.track_no, "shop_ref": shop_ref,
                                      "pack_id": pack_id, "status": "live",
                                      "source": "manual"}])
        rep = pipe.confirm(pack_ids_only=[pack_id])
        with uow_factory() as u:
            pack = next(p for p in u.pipeline.packs_of_orders([row.order_id])
                        if p["id"] == pack_id)
            good = pack["state"] == "confirmed"
            ok += good
            failed += not good
            if not good:  # a failed row leaves nothing live behind to ship later
                u.pipeline.move_packs_from(
                    [pack_id], PACK.sources(PackState.CANCELLED), PackState.CANCELLED,
                    last_error=pack["last_error"] or "; ".join(rep.notes))
                u.pipeline.move_waybills([(row.courier_code, row.track_no)], WaybillState.UNUSED)
            u.pipeline.settle_job_item(
                job_id, row.line_no, JobItemState.SHIPPED if good else JobItemState.FAILED,
                "" if good else (pack["last_error"] or "; ".join(rep.notes)
                                 or "平台未确认发货，请查看订单 (not confirmed)"))
        if progress:
            progress(i, len(rows))
    with uow_factory() as u:
        u.pipeline.finish_job(job_id, ok=ok, failed=failed,
                              finished_at=int(time.time()))


def ship_selected(uow_factory: UowFactory, platform_for: PlatformFactory,
                  order_ids: Sequence[str], actor: str,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Batch ship: confirm the given orders' packs that already carry a number, now."""
    with uow_factory() as u:
        loaded = u.pipeline.load_orders(list(order_ids))
        packs = u.pipeline.packs_of_orders(list(order_ids))
        pack_lines = u.pipeline.lines([p["id"] for p in packs])
        orders_of = {p["id"]: {ln["order_id"] for ln in pack_lines[p["id"]]} for p in packs}
        job_id = u.pipeline.add_job(kind="batch", status=JobState.RUNNING, source="selection",
                                    total=len(order_ids), created_by=actor)
        items: list[dict[str, Any]] = []
        ready: dict[str, list[int]] = {}
        for n, oid in enumerate(order_ids, start=1):
            mine = [p for p in packs if oid in orders_of[p["id"]]]
            live = [p for p in mine if p["track_no"] and p["state"] in
                    ("waybill_taken", "printed", "scanned")]
            if oid not in loaded:
                items.append({"line_no": n, "order_id": oid, "status": "invalid",
                              "message": "订单不在fahuo中 (order not in fahuo)"})
            elif any(p["state"] == "confirmed" for p in mine):
                items.append({"line_no": n, "order_id": oid, "status": "skipped",
                              "message": "已发货 (already shipped)"})
            elif not live:
                items.append({"line_no": n, "order_id": oid, "status": "invalid",
                              "message": "没有运单号：先取号或导入单号 (no tracking number yet)"})
            else:
                ready[oid] = [p["id"] for p in live]
                items.append({"line_no": n, "order_id": oid, "status": "pending",
                              "courier_code": live[0]["courier_code"],
                              "track_no": live[0]["track_no"], "message": ""})
        u.pipeline.add_job_items(job_id, items)
        u.audit.add(actor=actor, action="ship.batch", subject_type="ship_job",
                    subject_id=str(job_id), detail={"orders": len(order_ids)})
    pipe = Pipeline(uow_factory, platform_for)
    ok = failed = 0
    for i, (oid, ids) in enumerate(ready.items(), start=1):
        pipe.confirm(pack_ids_only=ids)
        with uow_factory() as u:
            states = [p["state"] for p in u.pipeline.packs_of_orders([oid]) if p["id"] in ids]
            good = bool(states) and all(s == "confirmed" for s in states)
            err = next((p["last_error"] for p in u.pipeline.packs_of_orders([oid])
                        if p["id"] in ids and p["last_error"]), "")
            line = next(it["line_no"] for it in items if it["order_id"] == oid)
            u.pipeline.settle_job_item(
                job_id, line, JobItemState.SHIPPED if good else JobItemState.FAILED,
                "" if good else err)
        ok += good
        failed += not good
        if progress:
            progress(i, len(ready))
    with uow_factory() as u:
        u.pipeline.finish_job(job_id, ok=ok, failed=failed,
                              finished_at=int(time.time()))
        job = u.pipeline.job(job_id)
    assert job is not None  # written in this unit of work
    return job

