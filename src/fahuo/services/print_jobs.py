"""What people print: a selection (packs, orders, a batch) or a filter, split by itself.

Douyin platform e-waybills (numbers taken through ``logistics.newCreateOrder``, stored with
``waybills.source = 'ewaybill'``) go to the print component, which decrypts the receiver;
fahuo never draws them. Every other number (imported, the merchant's own account) is drawn
by fahuo as PDF/ZPL (``printing.print_labels``). The console, CLI and API all come here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fahuo.domain.clock import SHOP_TZ
from fahuo.domain.couriers import courier_code
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.printing import (
    PLAIN_KEEP_S, PLATFORM_SOURCE, AddressRefused, NothingToPrint, PrintError, PrintResult, _ids,
    check_label_options, check_zpl_font, live_facts, live_packs, print_labels, reprint_refusal,
)

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

PLATFORM = PLATFORM_SOURCE


@dataclass(frozen=True)
class Selection:
    """Named packs, orders or an earlier batch; or else a filter (all of it: what waits)."""

    pack_ids: tuple[int, ...] = ()
    order_ids: tuple[str, ...] = ()
    batch: int | None = None
    shop_ref: int | None = None
    courier: str | None = None
    due_before: int | None = None  # Unix seconds: the deadline (最晚发货时间) before this
    due_within_h: float | None = None  # or within this many hours from now
    not_printed: bool = True  # a filter takes only packs never printed (False: reprints too)

    @property
    def named(self) -> bool:
        return bool(self.pack_ids or self.order_ids or self.batch is not None)

    @property
    def filtered(self) -> bool:
        return any(v is not None for v in (self.shop_ref, self.courier, self.due_before,
                                           self.due_within_h))


def choose(u: UnitOfWork, sel: Selection, now: float | None = None) -> list[dict]:
    """The packs the selection names (each must have a live number) or the filter finds,
    deadline first, each with ``waybill_source``. Raises PrintError in Chinese."""
    if sel.named and sel.filtered:
        raise PrintError("按包裹、订单或批次打印时不能再加筛选条件 (selection or filter)")
    if sum(map(bool, (sel.pack_ids, sel.order_ids, sel.batch is not None))) > 1:
        raise PrintError("包裹、订单、批次只能选一种 (one of packs, orders, batch)")
    if not sel.named:
        code = None
        if sel.courier:
            code = courier_code(sel.courier)
            if code is None:
                raise PrintError(f"不认识的快递公司：{sel.courier} (courier)")
        if sel.due_within_h is not None and not 0 < sel.due_within_h <= 24 * 30:
            raise PrintError("截止时间窗应在 0 到 720 小时之间 (due_within_h)")
        due = sel.due_before
        if sel.due_within_h is not None:
            within = int((time.time() if now is None else now) + sel.due_within_h * 3600)
            due = within if due is None else min(due, within)
        return live_packs(u, shop_ref=sel.shop_ref, courier=code, due_before=due,
                          not_printed=sel.not_printed)
    if sel.batch is not None:
        found = u.prints.batch(sel.batch)
        if found is None:
            raise PrintError(f"没有打印批次 #{sel.batch} (no such batch)")
        ids = list(dict.fromkeys(found["pack_ids"]))
    elif sel.order_ids:
        packs = u.pipeline.packs_of_orders(list(sel.order_ids))
        lines = u.pipeline.lines([p["id"] for p in packs])
        live = live_facts(u, [p["id"] for p in packs])
        ids = sorted(live)
        has = {ln["order_id"] for pid in ids for ln in lines.get(pid, [])}
        bad = [o for o in sel.order_ids if o not in has]
        if bad:
            raise PrintError(f"订单 {_ids(bad)} 没有可打印的包裹（未取号、已回收或已签收）"
                             " (no pack with a live number)")
    else:
        ids = list(dict.fromkeys(sel.pack_ids))
    live = live_facts(u, ids)
    known = {p["id"] for p in u.pipeline.packs_by_ids(ids)}
    missing = [i for i in ids if i not in known]
    if missing:
        raise PrintError(f"没有这些包裹：{_ids(missing)} (no such packs)")
    bad = [i for i in ids if i not in live]
    if bad:
        raise PrintError(f"包裹 {_ids(bad)} 没有可用的运单号（未取号、已回收、已取消或已签收），"
                         "不能打印 (no live waybill number)")
    return sorted((live[i] for i in ids),
                  key=lambda p: (p["exp_ship_time"] is None, p["exp_ship_time"] or 0, p["id"]))


def split(packs: Sequence[dict]) -> tuple[list[int], list[int]]:
    """(platform e-waybills for the print component, self-drawn labels), in order."""
    platform = [p["id"] for p in packs if p.get("waybill_source") == PLATFORM]
    return platform, [p["id"] for p in packs if p.get("waybill_source") != PLATFORM]


@dataclass
class PrintPlan:
    platform: list[int] = field(default_factory=list)  # for the print component's tasks
    self_drawn: list[int] = field(default_factory=list)
    result: PrintResult | None = None  # the self-drawn labels' file, when there were any
    fmt: str = "pdf"
    refused: dict[int, str] = field(default_factory=dict)  # self-drawn, not printed: why

    @property
    def message(self) -> str:
        parts = []
        if self.platform:
            parts.append(f"{len(self.platform)} 个平台电子面单已交给打印组件")
        refused = self.refused
        if self.result:
            parts.append(f"{self.result.packs} 个自绘面单已生成 {self.fmt.upper()}"
                         + ("（同一批次，文件相同）" if self.result.already_printed else ""))
        if refused:
            parts.append(f"{len(refused)} 个自绘面单未打印（取不到完整收件地址）："
                         + "；".join(f"包裹 {k}：{v}" for k, v in sorted(refused.items())[:20]))
        return "，".join(parts)


def plan_print(uow_factory: UowFactory, sel: Selection, *, reason: str = "",
               now: float | None = None) -> PrintPlan:
    """Which packs the selection prints and how, without printing anything. A pack printed
    before (either way) needs a reason."""
    with uow_factory(readonly=True) as u:
        packs = choose(u, sel, now)
        if not packs:
            raise NothingToPrint("没有待打印的面单：没有符合条件、有可用运单号的包裹"
                                 " (nothing to print)")
        platform, drawn = split(packs)
        before = u.prints.printed_before(platform, "labels")
    if before and not reason.strip():
        raise PrintError(reprint_refusal(before))
    return PrintPlan(platform=platform, self_drawn=drawn)


def check_reprint(uow_factory: UowFactory, pack_ids: Sequence[int], reason: str) -> None:
    """A label printed before (either way) is printed again only with a reason."""
    with uow_factory(readonly=True) as u:
        before = u.prints.printed_before(list(pack_ids), "labels")
    if before and not reason.strip():
        raise PrintError(reprint_refusal(before))


def print_selection(uow_factory: UowFactory, platform_for: PlatformFactory, sel: Selection,
                    *, fmt: str = "pdf", size: str = "76x130", order_by: str = "deadline",
                    actor: str, printer: str = "", reason: str = "", dpi: int = 203,
                    out_dir: Path, may_see_receiver: bool = False,
                    plain_keep_s: float = PLAIN_KEEP_S, zpl_font: str | None = None,
                    now: float | None = None) -> PrintPlan:
    """Draw the self-drawn labels of the selection now (their addresses decrypted through
    ``platform_for``); the platform waybills are left for the print component
    (``print_component.component_tasks`` on ``plan.platform``). A self-drawn pack whose
    address the platform refuses stays waiting, named in ``plan.result.refused``; when it
    was the only one, the PrintError says why."""
    check_label_options(fmt, size, order_by)
    check_zpl_font(zpl_font)
    plan = plan_print(uow_factory, sel, reason=reason, now=now)
    plan.fmt = fmt
    if plan.self_drawn:
        try:
            plan.result = print_labels(
                uow_factory, platform_for, plan.self_drawn, fmt=fmt, size=size,
                order_by=order_by, actor=actor, printer=printer, reason=reason, dpi=dpi,
                out_dir=out_dir, may_see_receiver=may_see_receiver,
                plain_keep_s=plain_keep_s, zpl_font=zpl_font)
            plan.refused = dict(plan.result.refused)
        except AddressRefused as exc:
            if not plan.platform:
                raise
            plan.refused = dict(exc.refused)  # the platform waybills still go to the component
    return plan


def parse_shop_time(text: str) -> int:
    """"2024-06-01 18:00" (or 2024-06-01T18:00, a date alone: its midnight) in the shop's
    time zone, as Unix seconds."""
    raw = text.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(raw, fmt).replace(tzinfo=SHOP_TZ).timestamp())
        except ValueError:
            continue
    raise PrintError(f"截止时间 {text!r} 看不懂：请写成 2024-06-01 18:00（北京时间）(due_before)")


def print_page(uow_factory: UowFactory) -> dict:
    """The print page: what waits (platform e-waybills and self-drawn), the shops and
    couriers a filter may name, the latest batches."""
    with uow_factory(readonly=True) as u:
        waiting = live_packs(u, not_printed=True)
        shops = u.shops.list()
        batches = u.prints.batches(30)
    platform, drawn = split(waiting)
    return {"waiting": len(waiting), "waiting_platform": len(platform),
            "waiting_self": len(drawn), "batches": batches,
            "shops": [(s.id, s.shop_name or s.shop_id) for s in shops],
            "couriers": sorted({p["courier_code"] for p in waiting if p["courier_code"]})}
