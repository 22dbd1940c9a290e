"""Working with a third-party warehouse: parcels with a label go out to it once; its shipment
confirmations come back and are confirmed on the platform like a scan at the packing table."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update

from fahuo.adapters.store import models as m
from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.adapters.wms.base import OutboundLine, OutboundOrder, WarehousePort
from fahuo.services.pipeline import Pipeline
from fahuo.services.ports import PlatformFactory

UowFactory = Callable[..., UnitOfWork]
READY = ("waybill_taken", "printed")


@dataclass
class WmsReport:
    exported: int = 0
    files: list[str] = field(default_factory=list)
    confirmed: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # where → why


def export_outbound(uow: UowFactory, port: WarehousePort, limit: int = 5000) -> WmsReport:
    r = WmsReport()
    with uow() as u:
        sent = set(u.conn.execute(select(m.wms_exports.c.pack_id)).scalars())
        packs = [p for p in u.pipeline.packs_in_state(list(READY), limit=limit)
                 if p["id"] not in sent and p["track_no"]]
        if not packs:
            return r
        lines = u.pipeline.lines([p["id"] for p in packs])
        loaded = u.pipeline.load_orders(sorted({ln["order_id"] for ls in lines.values()
                                                for ln in ls}))
        subs = {s.sku_order_id: s for _, _, o in loaded.values() for s in o.sub_orders}
        orders = []
        for p in packs:
            main = loaded[p["main_order_id"]][2]
            rc = main.receiver
            orders.append(OutboundOrder(
                pack_id=p["id"], order_ids=tuple(sorted({ln["order_id"] for ln in lines[p["id"]]})),
                courier_code=p["courier_code"], track_no=p["track_no"],
                deadline=p["exp_ship_time"], receiver=f"{rc.name_mask} {rc.phone_mask}",
                region=" ".join(filter(None, (rc.province, rc.city, rc.district))),
                lines=tuple(OutboundLine(subs[ln["sku_order_id"]].merchant_code,
                                         subs[ln["sku_order_id"]].product_name, ln["quantity"])
                            for ln in lines[p["id"]])))
        # Written inside the transaction: if recording fails, the file is rewritten next time
        # with the same packs, and the warehouse sees the pack ids twice rather than never.
        ref = port.send_outbound(orders)
        now = int(time.time())
        u.conn.execute(m.wms_exports.insert(), [{"pack_id": o.pack_id, "file_name": ref,
                                                 "exported_at": now} for o in orders])
    r.exported, r.files = len(orders), [ref]
    return r


def import_confirmations(uow: UowFactory, platform_for: PlatformFactory,
                         port: WarehousePort, *, concurrency: int = 8) -> WmsReport:
    r = WmsReport()
    for ref, rows, problems in port.read_confirmations():
        for p in problems:
            r.refused[p] = "unreadable row"
        ids: list[int] = []
        with uow() as u:
            for c in rows:
                pack = (next(iter(u.pipeline.packs_by_ids([c.pack_id])), None)
                        if c.pack_id else u.pipeline.pack_by_track_no(c.track_no))
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
                    u.pipeline.update_pack(pack["id"], state="scanned")
                    ids.append(pack["id"])
        if ids:
            Pipeline(uow, platform_for, concurrency=concurrency).confirm(pack_ids_only=ids)
            with uow() as u:
                done = [p["id"] for p in u.pipeline.packs_by_ids(ids) if p["state"] == "confirmed"]
                u.conn.execute(update(m.wms_exports).where(
                    m.wms_exports.c.pack_id.in_(done)).values(confirmed_at=int(time.time())))
                for p in u.pipeline.packs_by_ids(ids):
                    if p["state"] != "confirmed":
                        r.refused[f"pack {p['id']}"] = p["last_error"] or p["state"]
            r.confirmed += len(done)
        port.done(ref)
    return r


__all__ = ["WmsReport", "export_outbound", "import_confirmations"]
