"""The orders workbench's use cases: a page of the list with its columns, the selection
(the orders ticked, or every order the filter matches) and the batch actions on it, each
with a preview count first and a result per order (done, or refused and why).

Queries are the store's (``uow.workbench``, adapters/store/workbench_queries.py); the
actions are the existing services (holds, print_jobs, printing).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fahuo.domain import names
from fahuo.domain.clock import shop_time
from fahuo.domain.order_filter import Cursor, FilterError, OrderFilter, TooMany
from fahuo.services.holds import hold_orders, release_orders
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.print_jobs import PrintPlan, Selection, print_selection
from fahuo.services.printing import (
    LIVE_PACK_STATES, PrintError, PrintResult, live_facts, print_documents,
)

ACTIONS = {"print_labels": "打印面单", "picklist": "打印拣货单", "slips": "打印发货单",
           "hold": "挂起", "release": "放行", "export": "导出 Excel"}
MAX_BATCH = 5000  # orders one batch action takes; more is refused, never cut
WAITING = ("synced", "held", "approved", "waybill_taken", "printed")
NO_PARCEL = "没有可打印的包裹（未取号、已回收或已签收）"


@dataclass
class Row:
    """One line of the list, as the merchant reads it."""

    order: dict[str, Any]
    products: str  # first item + 等 N 件
    items: int
    parcels: list[dict[str, Any]]  # live parcels: courier, number, labels printed
    print_state: str
    countdown: str  # shop time, Chinese; empty once the order left
    holds: list[dict[str, Any]]

    @property
    def order_id(self) -> str:
        return str(self.order["order_id"])


@dataclass
class ListPage:
    rows: list[Row]
    total: int
    next: Cursor | None
    prev: Cursor | None


def countdown(deadline: int | None, now: int) -> str:
    if not deadline:
        return "无截止时间"
    left = deadline - now
    span = abs(left)
    days, hours, minutes = span // 86400, span % 86400 // 3600, span % 3600 // 60
    text = (f"{days}天{hours}小时" if days else f"{hours}小时{minutes}分" if hours
            else f"{minutes}分")
    return f"已超时 {text}" if left < 0 else f"剩 {text}"


def _print_state(parcels: Sequence[Mapping[str, Any]]) -> str:
    if not parcels:
        return "未取号"
    if not any(p["track_no"] for p in parcels):
        return "取号中"
    printed = sum(1 for p in parcels if p["prints"])
    if printed == 0:
        return "未打印"
    most = max(p["prints"] for p in parcels)
    text = "已打印" if printed == len(parcels) else f"已打印 {printed}/{len(parcels)}"
    return text + (f"（{most} 次）" if most > 1 else "")


def list_page(uow_factory: UowFactory, f: OrderFilter, *, after: Cursor | None = None,
              before: Cursor | None = None, limit: int = 50, now: int | None = None
              ) -> ListPage:
    now = int(time.time()) if now is None else now
    with uow_factory(readonly=True) as u:
        page = u.workbench.page(f, now, after=after, before=before, limit=limit)
        details = u.workbench.details([r["order_id"] for r in page.rows])
    rows = []
    for o in page.rows:
        oid = o["order_id"]
        lines = details.lines.get(oid, [])
        first = lines[0]["product_name"] if lines else "—"
        units = sum(int(ln["quantity"]) for ln in lines)
        products = first + (f" 等 {units} 件" if units > 1 else "")
        parcels = details.packs.get(oid, [])
        rows.append(Row(order=o, products=products, items=units, parcels=parcels,
                        print_state=_print_state(parcels),
                        countdown=countdown(o["exp_ship_time"], now)
                        if o["state"] in WAITING else "",
                        holds=details.holds.get(oid, [])))
    return ListPage(rows, page.total, page.next, page.prev)


def selection(uow_factory: UowFactory, f: OrderFilter, order_ids: Sequence[str],
              all_matching: bool, now: int | None = None) -> list[str]:
    """The orders a batch action acts on: every order the filter matches (``all_matching``)
    or the ones ticked. Raises FilterError when there are none or too many."""
    now = int(time.time()) if now is None else now
    if all_matching:
        with uow_factory(readonly=True) as u:
            try:
                ids = u.workbench.ids(f, now, most=MAX_BATCH)
            except TooMany as exc:
                raise FilterError("all", str(exc)) from None
    else:
        ids = list(dict.fromkeys(i for i in order_ids if i.isdigit() and len(i) <= 32))
        if len(ids) > MAX_BATCH:
            raise FilterError("order_id", f"一次最多处理 {MAX_BATCH} 单")
    if not ids:
        raise FilterError("order_id", "没有选择订单")
    return ids


@dataclass
class BatchResult:
    action: str
    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # order → why not
    message: str = ""
    labels: PrintPlan | None = None  # print_labels: the component's packs, the PDF
    document: PrintResult | None = None  # picklist / slips
    export: tuple[list[str], list[list[object]]] | None = None  # header, rows

    @property
    def name(self) -> str:
        return ACTIONS[self.action]


def check_action(action: str) -> None:
    if action not in ACTIONS:
        raise FilterError("action", f"不认识的批量操作：{action[:40]}，可选 "
                                    + "、".join(f"{k}（{v}）" for k, v in ACTIONS.items()))


def _printable(uow_factory: UowFactory, ids: Sequence[str], states: Sequence[str] | None
               ) -> tuple[dict[str, list[int]], dict[str, str]]:
    """order → its packs that can print (a live number; for documents: in ``states``)."""
    with uow_factory(readonly=True) as u:
        packs = u.pipeline.packs_of_orders(list(ids))
        lines = u.pipeline.lines([p["id"] for p in packs])
        if states is None:
            ok = set(live_facts(u, [p["id"] for p in packs]))
        else:
            ok = {p["id"] for p in packs if p["state"] in states}
    per: dict[str, list[int]] = {}
    for pid in sorted(ok):
        for ln in lines.get(pid, []):
            per.setdefault(ln["order_id"], [])
            if pid not in per[ln["order_id"]]:
                per[ln["order_id"]].append(pid)
    refused = {oid: NO_PARCEL for oid in ids if oid not in per}
    return per, refused


def run_batch(uow_factory: UowFactory, platform_for: PlatformFactory, action: str,
              ids: Sequence[str], *, actor: str, note: str = "", reason: str = "",
              out_dir: Path, may_see_receiver: bool = False, plain_keep_s: float = 600.0
              ) -> BatchResult:
    """Run one batch action on these orders. Refusals are per order; a refusal of the whole
    (a hold without a note, a reprint without a reason) raises PrintError/ValueError."""
    check_action(action)
    res = BatchResult(action)
    if action in ("hold", "release"):
        out = (hold_orders(uow_factory, ids, note, actor=actor) if action == "hold"
               else release_orders(uow_factory, ids, actor=actor, note=note))
        res.done, res.refused = list(out.changed), dict(out.refused)
    elif action == "print_labels":
        per, res.refused = _printable(uow_factory, ids, None)
        if per:
            plan = print_selection(uow_factory, platform_for,
                                   Selection(order_ids=tuple(per)), actor=actor,
                                   reason=reason, out_dir=out_dir,
                                   may_see_receiver=may_see_receiver, plain_keep_s=plain_keep_s)
            res.labels = plan
            bad = set(plan.refused)
            for oid, pids in per.items():
                why = [plan.refused[p] for p in pids if p in bad]
                if why:
                    res.refused[oid] = "未打印：" + why[0]
                else:
                    res.done.append(oid)
            res.message = plan.message
    elif action in ("picklist", "slips"):
        per, res.refused = _printable(uow_factory, ids, ("waybill_taken", "printed"))
        for oid in list(res.refused):
            res.refused[oid] = "没有待打印的包裹（未取号，或已发出）"
        if per:
            pack_ids = sorted({p for ps in per.values() for p in ps})
            res.document = print_documents(uow_factory, action, pack_ids, actor=actor,
                                           reason=reason, out_dir=out_dir)
            res.done = list(per)
    else:
        res.export = export_rows(uow_factory, ids)
        res.done = list(ids)
    if not res.message:
        res.message = f"{res.name}：完成 {len(res.done)} 单" + (
            f"，未处理 {len(res.refused)} 单" if res.refused else "")
    return res


EXPORT_HEADER = ["订单号", "店铺", "状态", "商品", "件数", "收件人", "地址", "快递",
                 "运单号", "打印", "截止时间", "付款时间", "实付金额", "挂起原因", "买家留言",
                 "卖家备注"]


def export_rows(uow_factory: UowFactory, ids: Sequence[str], now: int | None = None
                ) -> tuple[list[str], list[list[object]]]:
    """The selection as the list shows it: masked receiver, codes, no plain PII."""
    now = int(time.time()) if now is None else now
    out: list[list[object]] = []
    with uow_factory(readonly=True) as u:
        shops = {s.id: s.shop_name or s.shop_id for s in u.shops.list()}
        for i in range(0, len(ids), 500):
            part = list(ids[i:i + 500])
            rows = u.workbench.rows(part)
            d = u.workbench.details(part)
            for o in rows:
                oid = o["order_id"]
                lines = d.lines.get(oid, [])
                parcels = d.packs.get(oid, [])
                units = sum(int(ln["quantity"]) for ln in lines)
                out.append([
                    oid, shops.get(o["shop_ref"], ""), names.ORDER_STATE.get(o["state"],
                                                                             o["state"]),
                    "；".join(f"{ln['product_name']} ×{ln['quantity']}" for ln in lines),
                    units, f"{o['receiver_name_mask']} {o['receiver_phone_mask']}",
                    " ".join(filter(None, (o["province"], o["city"], o["district"],
                                           o["receiver_address_mask"]))),
                    "、".join(names.courier_name(p["courier_code"]) for p in parcels
                             if p["courier_code"]),
                    "、".join(p["track_no"] for p in parcels if p["track_no"]),
                    _print_state(parcels), shop_time(o["exp_ship_time"], empty=""),
                    shop_time(o["pay_time"], empty=""), round(o["pay_amount"] / 100, 2),
                    "、".join(names.HOLD_REASON.get(h["reason"], h["reason"])
                             for h in d.holds.get(oid, [])),
                    o["buyer_words"], o["seller_words"]])
    return EXPORT_HEADER, out


__all__ = ["ACTIONS", "BatchResult", "ListPage", "MAX_BATCH", "Row", "check_action",
           "countdown", "export_rows", "list_page", "run_batch", "selection",
           "LIVE_PACK_STATES", "PrintError"]
