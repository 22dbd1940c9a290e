"""Encrypted print data of platform waybills, fetched in batches when a print needs it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.adapters.platforms.doudian.shipping import WAYBILL_BATCH, PrintData
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.printing import live_facts


@dataclass
class PrintBatch:
    documents: list[dict] = field(default_factory=list)  # one per pack, in the asked order
    problems: dict[int, str] = field(default_factory=dict)  # pack id → why it cannot print
    calls: int = 0


def print_data(uow_factory: UowFactory, platform_for: PlatformFactory,
               pack_ids: Sequence[int]) -> PrintBatch:
    """For each pack with a live platform number (confirmed or not): its print data and
    signature (≤ 100 numbers per logistics.waybillApply call, grouped by shop). Packs without
    one say why."""
    out = PrintBatch()
    with uow_factory() as u:
        packs = {p["id"]: p for p in u.pipeline.packs_by_ids(list(pack_ids))}
        live = live_facts(u, list(packs))
        shops = {s.id: s for s in u.shops.list()}
    by_shop: dict[int, list[dict]] = defaultdict(list)
    for pid in pack_ids:
        p = packs.get(pid)
        if p is None:
            out.problems[pid] = "没有这个包裹 (no such pack)"
        elif pid not in live:
            out.problems[pid] = ("包裹没有可用的运单号（未取号、已回收、已取消或已签收） "
                                 f"(state {p['state']})")
        elif live[pid]["waybill_source"] != "ewaybill":
            out.problems[pid] = ("不是抖音平台电子面单（自有单号），请打印 PDF/ZPL 面单 "
                                 "(not a platform waybill)")
        else:
            by_shop[p["shop_ref"]].append(p)
    got: dict[str, PrintData] = {}
    for shop_ref, group in by_shop.items():
        api = platform_for(shops[shop_ref])
        for i in range(0, len(group), WAYBILL_BATCH):
            chunk = group[i:i + WAYBILL_BATCH]
            try:
                out.calls += 1
                data, errs = api.print_data([(p["courier_code"], p["track_no"]) for p in chunk])
            except DoudianError as exc:
                for p in chunk:
                    out.problems[p["id"]] = str(exc)
                continue
            got.update(data)
            for p in chunk:
                if p["track_no"] in errs:
                    out.problems[p["id"]] = errs[p["track_no"]]
    for pid in pack_ids:
        p = packs.get(pid)
        d = got.get(p["track_no"]) if p else None
        if p is not None and d is not None and pid not in out.problems:
            out.documents.append({"pack_id": pid, "track_no": d.track_no, "courier_code":
                                  p["courier_code"], "encrypted_data": d.print_data,
                                  "signature": d.sign, "pack_no": f"{p['seq']}/{p['of']}"})
    return out
