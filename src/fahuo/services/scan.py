"""Scan-to-ship at the packing station: one scan, one answer the packer can act on.

Every scan with a number is stored with its answer (``uow.scans``): the desk's counter of
parcels let go today (the shop's day) and its list of recent scans are read back from there,
so they survive a reload and two desks see the same figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fahuo.domain.clock import shop_day, shop_time
from fahuo.domain.couriers import normalize_tracking_no
from fahuo.domain.holds import open_after_sale
from fahuo.domain.names import PACK_STATE, SCAN_VERDICT, courier_name, name
from fahuo.domain.packs import PackState
from fahuo.services.shipping import Pipeline
from fahuo.services.ports import PlatformFactory, UowFactory


@dataclass(frozen=True)
class ScanResult:
    ok: bool  # True: put the parcel on the outbound pile
    verdict: str  # shipped | intercepted | held | already_shipped | unknown | not_ready | failed
    message: str  # what the packer reads (Chinese first)
    order_ids: tuple[str, ...] = ()


RECENT = 20  # scans the desk lists


def scan(uow_factory: UowFactory, platform_for: PlatformFactory,
         raw_code: str, actor: str = "scanner",
         clock: Callable[[], float] = time.time) -> ScanResult:
    track_no = normalize_tracking_no(raw_code or "")
    if not track_no:  # a stray Enter: nothing to record
        return ScanResult(False, "unknown", "条码为空 (empty scan)")
    at = int(clock())
    result, pack = _judge(uow_factory, platform_for, track_no, actor)
    with uow_factory() as u:  # after the answer: a confirmation is its own unit of work
        u.scans.add(at=at, actor=actor, code=track_no,
                    pack_id=pack["id"] if pack else None,
                    courier_code=(pack or {}).get("courier_code") or "",
                    order_ids=result.order_ids, verdict=result.verdict, ok=result.ok,
                    message=result.message)
    return result


def _judge(uow_factory: UowFactory, platform_for: PlatformFactory, track_no: str,
           actor: str) -> tuple[ScanResult, dict[str, Any] | None]:
    with uow_factory() as u:
        pack = u.pipeline.pack_by_track_no(track_no)
        if pack is None:
            return ScanResult(False, "unknown",
                              f"未知运单号 {track_no} (not a fahuo waybill)"), None
        lines = u.pipeline.lines([pack["id"]])[pack["id"]]
        ids = tuple(sorted({ln["order_id"] for ln in lines}))
        loaded = u.pipeline.load_orders(list(ids))
        u.audit.add(actor=actor, action="pack.scan", subject_type="pack",
                    subject_id=str(pack["id"]), detail={"track_no": track_no})
    if pack["state"] == "confirmed":
        return ScanResult(True, "already_shipped", "已发货，可放行 (already confirmed)",
                          ids), pack
    dead = [oid for oid, (_, st, o) in loaded.items()
            if st in ("cancelled", "refunded") or any(open_after_sale(s) for s in o.sub_orders)]
    if dead or pack["state"] == "cancelled":
        return ScanResult(False, "intercepted",
                          "拦截！买家已退款/取消，不要发货 (intercepted — do not ship)", ids), pack
    waiting = [oid for oid, (_, st, _) in loaded.items() if st == "held"]
    if waiting:
        return ScanResult(False, "held", "挂起中，不要发货：请先在异常挂起里处理 (order on hold)",
                          ids), pack
    if pack["state"] not in ("waybill_taken", "printed", "scanned"):
        state = f"{name(PACK_STATE, pack['state'])} ({pack['state']})"
        return ScanResult(False, "not_ready", f"包裹状态 {state}，不能发货", ids), pack
    with uow_factory() as u:  # still waiting to go out (read above, outside this unit)
        u.pipeline.move_packs_from([pack["id"]], frozenset({PackState.WAYBILL_TAKEN,
                                                            PackState.PRINTED}),
                                   PackState.SCANNED)
    Pipeline(uow_factory, platform_for).confirm(pack_ids_only=[pack["id"]])
    with uow_factory() as u:
        after = u.pipeline.pack_by_track_no(track_no)
    if after and after["state"] == "confirmed":
        return ScanResult(True, "shipped", "发货成功 (shipped)", ids), pack
    if after and after["state"] == "cancelled":
        return ScanResult(False, "intercepted",
                          "拦截！买家已申请退款，不要发货 (intercepted — do not ship)", ids), pack
    why = (after or {}).get("last_error") or "稍后重试"
    return ScanResult(False, "failed", f"回传失败：{why}", ids), pack


# ---- what the desk shows: today's counter and the recent scans ----------------------------

@dataclass(frozen=True)
class ScanDay:
    day: str  # the shop's date, 2024-03-11
    actor: str
    mine: int  # parcels this person let go today (each parcel once)
    total: int  # parcels everyone let go today
    refused: int  # scans that stopped a parcel or found no parcel


@dataclass(frozen=True)
class ScanLine:
    at: int
    time: str  # shop time, as the packer reads it
    actor: str
    code: str
    order_ids: tuple[str, ...]
    pack_id: int | None
    courier_code: str
    courier: str  # 中通快递 (zhongtong)
    verdict: str
    verdict_name: str  # Chinese
    ok: bool
    message: str  # the answer the packer got (the refusal's reason)


@dataclass(frozen=True)
class Station:
    today: ScanDay
    recent: tuple[ScanLine, ...]


def scans_today(uow_factory: UowFactory, actor: str, *, now: float | None = None) -> ScanDay:
    at = time.time() if now is None else now
    start, end = shop_day(at)
    with uow_factory(readonly=True) as u:
        c = u.scans.day_counts(start, end, actor)
    return ScanDay(day=shop_time(at, "%Y-%m-%d"), actor=actor, mine=c["mine"],
                   total=c["total"], refused=c["refused"])


def recent_scans(uow_factory: UowFactory, limit: int = RECENT) -> tuple[ScanLine, ...]:
    with uow_factory(readonly=True) as u:
        rows = u.scans.recent(limit)
    return tuple(ScanLine(
        at=r["at"], time=shop_time(r["at"], "%m-%d %H:%M:%S"), actor=r["actor"], code=r["code"],
        order_ids=tuple(r["order_ids"]), pack_id=r["pack_id"], courier_code=r["courier_code"],
        courier=courier_name(r["courier_code"]) or "—", verdict=r["verdict"],
        verdict_name=name(SCAN_VERDICT, r["verdict"]), ok=bool(r["ok"]), message=r["message"],
    ) for r in rows)


def station(uow_factory: UowFactory, actor: str, *, now: float | None = None,
            limit: int = RECENT) -> Station:
    """What the scan page shows beside the input: today's figures and the recent scans."""
    return Station(scans_today(uow_factory, actor, now=now), recent_scans(uow_factory, limit))
