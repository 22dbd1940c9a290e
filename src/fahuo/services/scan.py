"""Scan-to-ship at the packing station: one scan, one answer the packer can act on."""

from __future__ import annotations

from dataclasses import dataclass

from fahuo.domain.couriers import normalize_tracking_no
from fahuo.domain.holds import open_after_sale
from fahuo.domain.packs import PackState
from fahuo.services.shipping import Pipeline
from fahuo.services.ports import PlatformFactory, UowFactory


@dataclass(frozen=True)
class ScanResult:
    ok: bool  # True: put the parcel on the outbound pile
    verdict: str  # shipped | intercepted | held | already_shipped | unknown | not_ready | failed
    message: str  # what the packer reads (Chinese first)
    order_ids: tuple[str, ...] = ()


def scan(uow_factory: UowFactory, platform_for: PlatformFactory,
         raw_code: str, actor: str = "scanner") -> ScanResult:
    track_no = normalize_tracking_no(raw_code or "")
    if not track_no:
        return ScanResult(False, "unknown", "条码为空 (empty scan)")
    with uow_factory() as u:
        pack = u.pipeline.pack_by_track_no(track_no)
        if pack is None:
            return ScanResult(False, "unknown", f"未知运单号 {track_no} (not a fahuo waybill)")
        lines = u.pipeline.lines([pack["id"]])[pack["id"]]
        ids = tuple(sorted({ln["order_id"] for ln in lines}))
        loaded = u.pipeline.load_orders(list(ids))
        u.audit.add(actor=actor, action="pack.scan", subject_type="pack",
                    subject_id=str(pack["id"]), detail={"track_no": track_no})
    if pack["state"] == "confirmed":
        return ScanResult(True, "already_shipped", "已发货，可放行 (already confirmed)", ids)
    dead = [oid for oid, (_, st, o) in loaded.items()
            if st in ("cancelled", "refunded") or any(open_after_sale(s) for s in o.sub_orders)]
    if dead or pack["state"] == "cancelled":
        return ScanResult(False, "intercepted",
                          "拦截！买家已退款/取消，不要发货 (intercepted — do not ship)", ids)
    waiting = [oid for oid, (_, st, _) in loaded.items() if st == "held"]
    if waiting:
        return ScanResult(False, "held", "挂起中，不要发货：请先在异常挂起里处理 (order on hold)",
                          ids)
    if pack["state"] not in ("waybill_taken", "printed", "scanned"):
        return ScanResult(False, "not_ready", f"包裹状态 {pack['state']}，不能发货", ids)
    with uow_factory() as u:  # still waiting to go out (read above, outside this unit)
        u.pipeline.move_packs_from([pack["id"]], frozenset({PackState.WAYBILL_TAKEN,
                                                            PackState.PRINTED}),
                                   PackState.SCANNED)
    Pipeline(uow_factory, platform_for).confirm(pack_ids_only=[pack["id"]])
    with uow_factory() as u:
        after = u.pipeline.pack_by_track_no(track_no)
    if after and after["state"] == "confirmed":
        return ScanResult(True, "shipped", "发货成功 (shipped)", ids)
    if after and after["state"] == "cancelled":
        return ScanResult(False, "intercepted",
                          "拦截！买家已申请退款，不要发货 (intercepted — do not ship)", ids)
    return ScanResult(False, "failed", f"回传失败：{(after or {}).get('last_error') or '稍后重试'}",
                      ids)
