"""Working with a third-party warehouse: parcels with a label go out to it once; its shipment
confirmations come back and are confirmed on the platform like a scan at the packing table."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fahuo.adapters.wms.base import OutboundLine, OutboundOrder, WarehousePort
from fahuo.domain.packs import PackState
from fahuo.services.shipping import Pipeline
from fahuo.services.ports import PlatformFactory, UowFactory

READY = ("waybill_taken", "printed")
READY_ORDERS = ("waybill_taken", "printed")  # a held, cancelled or refunded order waits


@dataclass
class WmsReport:
    exported: int = 0
    cancelled: int = 0
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    confirmed: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # where → why


def export_outbound(uow: UowFactory, port: WarehousePort, limit: int = 5000) -> WmsReport:
    """Labelled parcels not handed over yet, and a cancellation for handed-over ones that
    were stopped since (refund, cancel). Parcels of held orders wait."""
    r = WmsReport()
    with uow() as u:
        ids = u.wms.unsent_packs(READY, limit)
        packs = u.pipeline.packs_by_ids(ids)
        lines = u.pipeline.lines([x["id"] for x in packs])
        loaded = u.pipeline.load_orders(sorted({ln["order_id"] for ls in lines.values()
                                                for ln in ls}))
        packs = [x for x in packs if all(loaded[ln["order_id"]][1] in READY_ORDERS
                                         for ln in lines[x["id"]])]
        stopped = u.wms.stopped_after_export((PackState.CANCELLED.value,
                                              PackState.STALE.value))
        for ref in {x["shop_ref"] for x in packs}:
            if u.settings.get(ref)["confirm_mode"] == "on_waybill":
                r.notes.append(f"店铺 #{ref} 取号即回传发货：请把发货回传时机设为 扫描后发货 "
                               "(confirm_mode=on_scan)，仓库确认出库时才回传发货")
        now = int(time.time())
        if stopped:
            r.cancelled = len(stopped)
            r.files.append(port.send_cancellations([(i, t) for i, t in stopped]))
            u.wms.mark_cancel_sent([i for i, _ in stopped], now)
        if not packs:
            return r
        subs = {s.sku_order_id: s for _, _, o in loaded.values() for s in o.sub_orders}
        orders = []
        for x in packs:
            rc = loaded[x["main_order_id"]][2].receiver
            orders.append(OutboundOrder(
                pack_id=x["id"], order_ids=tuple(sorted({ln["order_id"] for ln in lines[x["id"]]})),
                courier_code=x["courier_code"], track_no=x["track_no"],
                deadline=x["exp_ship_time"], receiver=f"{rc.name_mask} {rc.phone_mask}",
                region=" ".join(filter(None, (rc.province, rc.city, rc.district))),
                lines=tuple(OutboundLine(subs[ln["sku_order_id"]].merchant_code,
                                         subs[ln["sku_order_id"]].product_name, ln["quantity"])
                            for ln in lines[x["id"]])))
        # Written inside the transaction: if recording fails, the file is rewritten next time
        # with the same packs, and the warehouse sees the pack ids twice rather than never.
        ref = port.send_outbound(orders)
        u.wms.record_exported([o.pack_id for o in orders], ref, now)
    r.exported = len(orders)
    r.files.append(ref)
    return r


def import_confirmations(uow: UowFactory, platform_for: PlatformFactory,
                         port: WarehousePort, *, concurrency: int = 8) -> WmsReport:
    r = WmsReport()
    for ref, rows, problems in port.read_confirmations():
        for p in problems:
            r.refused[p] = "unreadable row"
        ids: list[int] = []
        with uow() as u:
            by_id = {p["id"]: p for p in u.pipeline.packs_by_ids(
                sorted({c.pack_id for c in rows if c.pack_id}))}
            by_no = u.pipeline.packs_by_track_nos([c.track_no for c in rows if not c.pack_id])
            # The file's parcels in one lock (their orders, then the packs), not one by one.
            u.pipeline.lock_packs([*by_id, *(p["id"] for p in by_no.values())])
            for c in rows:
                pack = by_id.get(c.pack_id) if c.pack_id else by_no.get(c.track_no)
                if pack is None:
                    r.refused[c.source] = "unknown parcel"
                elif c.track_no and pack["track_no"] != c.track_no:
                    r.refused[c.source] = (f"pack {pack['id']} has number {pack['track_no']}, "
                                           f"not {c.track_no}")
                elif pack["state"] == "confirmed":
                    continue  # confirmed already: a repeated file changes nothing
                elif pack["state"] not in READY:
                    r.refused[c.source] = f"pack {pack['id']} is {pack['state']}: not shipped"
                else:
                    u.pipeline.move_packs({pack["id"]: (pack["state"], PackState.SCANNED.value)})
                    ids.append(pack["id"])
        if ids:
            Pipeline(uow, platform_for, concurrency=concurrency).confirm(pack_ids_only=ids)
            with uow() as u:
                after = u.pipeline.packs_by_ids(ids)
                done = [a["id"] for a in after if a["state"] == "confirmed"]
                u.wms.mark_confirmed(done, int(time.time()))
                for a in after:
                    if a["state"] != "confirmed":
                        r.refused[f"pack {a['id']}"] = a["last_error"] or a["state"]
            r.confirmed += len(done)
        port.done(ref)
    return r


__all__ = ["WmsReport", "export_outbound", "import_confirmations"]
