"""`fahuo print …`: labels, pick lists and packing slips in batches, with print records."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import typer

from fahuo.bootstrap import get_app
from fahuo.entrypoints.cli_common import _fail, out, who

print_cli = typer.Typer(help="Labels and documents, in batches, with print records.",
                        no_args_is_help=True)


@print_cli.command("labels")
def print_labels_cmd(
    packs: list[int] = typer.Option([], "--pack", help="pack #s (default: all waiting)"),
    orders: list[str] = typer.Option([], "--order", help="order ids: their live packs"),
    batch: Optional[int] = typer.Option(None, help="an earlier batch # again (reprint)"),
    shop: Optional[int] = typer.Option(None, help="filter: shop #"),
    courier: Optional[str] = typer.Option(None, help="filter: courier (中通 / zhongtong)"),
    due_within_h: Optional[float] = typer.Option(
        None, "--due-within-h", help="filter: shipping deadline within this many hours"),
    due_before: Optional[str] = typer.Option(
        None, "--due-before", help="filter: deadline before '2024-06-01 18:00' (Beijing time)"),
    include_printed: bool = typer.Option(
        False, "--include-printed", help="filter: printed packs too (a reprint: --reason)"),
    fmt: str = typer.Option("pdf", "--format", help="pdf or zpl"),
    size: str = typer.Option("76x130", help="76x130, 100x150, 100x180 or 4x6"),
    order_by: str = typer.Option("deadline", help="deadline or route (pick order)"),
    dpi: int = typer.Option(203, help="ZPL printer resolution: 203 or 300"),
    zpl_font: Optional[str] = typer.Option(
        None, "--zpl-font", help="ZPL printer-resident font for this print, e.g. E:ANMDS.TTF "
                                 "(default: the shop's zpl_font setting)"),
    printer: str = typer.Option("", help="printer name, for the print record"),
    reason: str = typer.Option("", help="why, when reprinting"),
    out_file: Optional[Path] = typer.Option(None, "--out", help="copy the file here"),
    tasks_out: Optional[Path] = typer.Option(
        None, "--tasks-out", help="write the print component's tasks (JSON) for the platform "
                                  "e-waybills here, for a desktop agent to relay"),
    plain_receiver: bool = typer.Option(
        False, help="print the receiver's name and phone in plain text where the shop's "
                    "policy allows it (the server's operator holds the keys; default masked; "
                    "the address is always whole)"),
) -> None:
    """Print waybill labels: a selection or a filter, split by itself. Douyin platform
    e-waybills print only through the Douyin print component (console /print/component, or
    --tasks-out); other numbers are drawn here as PDF/ZPL with the whole address
    (decrypted through the platform, audited)."""
    from fahuo.services.print_jobs import Selection, parse_shop_time, print_selection
    from fahuo.services.printing import PrintError, hand_out
    app = get_app()
    app.migrate()
    try:
        sel = Selection(pack_ids=tuple(packs), order_ids=tuple(orders), batch=batch,
                        shop_ref=shop, courier=courier, due_within_h=due_within_h,
                        due_before=parse_shop_time(due_before) if due_before else None,
                        not_printed=not include_printed)
        plan = print_selection(app.uow, app.platform_for, sel, fmt=fmt, size=size,
                               order_by=order_by, actor=who(), printer=printer,
                               reason=reason, dpi=dpi, out_dir=app.settings.data_dir / "prints",
                               may_see_receiver=plain_receiver,
                               plain_keep_s=app.settings.plain_label_keep_s,
                               zpl_font=zpl_font)
    except PrintError as exc:
        _fail(str(exc))
    r = plan.result
    if r is not None:
        if out_file:  # handed out: fahuo's own copy (plain address) goes
            out_file.write_bytes(hand_out(r))
        flag = ("（同一批次已打印过：文件相同，未新增记录）" if r.already_printed
                else "（补打）" if r.reprint else "")
        out.print(f"批次 #{r.batch_id}：{r.packs} 张自绘面单 → {out_file or r.path}{flag}")
    for pid, why in sorted(plan.refused.items()):
        out.print(f"包裹 {pid} 未打印：{why}")
    if plan.platform:
        ids = ",".join(map(str, plan.platform))
        out.print(f"{len(plan.platform)} 个抖音平台电子面单须由抖音打印组件打印（fahuo 不绘制平台面单）")
        if tasks_out:
            _write_tasks(app, plan.platform, printer, tasks_out)
        else:
            out.print(f"  在装有打印组件的电脑上打开控制台：/print/component?packs={ids}"
                      + (f"&reason={quote(reason)}" if reason.strip() else "")
                      + "\n  或用 --tasks-out 保存打印任务")


def _write_tasks(app, pack_ids: list[int], printer: str, path: Path) -> None:
    from fahuo.services.print_component import ComponentTaskError, component_tasks
    try:
        got = component_tasks(app.uow, app.platform_for, pack_ids, printer=printer)
    except ComponentTaskError as exc:
        _fail(str(exc))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it carries a token
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(got, f, ensure_ascii=False)
    n = sum(len(t["task"]["documents"]) for t in got["tasks"])
    out.print(f"  {len(got['tasks'])} 个打印任务（{n} 张）→ {path}")
    for pid, why in got["problems"].items():
        out.print(f"  包裹 {pid}：{why}")


def _batch_packs(batch: Optional[int]) -> list[int]:
    if batch is None:
        return []
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        found = uow.prints.batch(batch)
    if found is None:
        _fail(f"没有打印批次 #{batch} (no such batch)")
    return found["pack_ids"]


def _print_docs(kind: str, packs: list[int], fmt: str, printer: str, reason: str,
                out_file: Optional[Path], batch: Optional[int] = None) -> None:
    from fahuo.services.printing import PrintError, print_documents
    packs = packs or _batch_packs(batch)
    app = get_app()
    app.migrate()
    try:
        r = print_documents(app.uow, kind, packs or None, fmt=fmt, actor=who(), printer=printer,
                            reason=reason, out_dir=app.settings.data_dir / "prints")
    except PrintError as exc:
        _fail(str(exc))
    if out_file:
        out_file.write_bytes(r.path.read_bytes())
    flag = " — already printed: the same file again" if r.already_printed else \
        (" (reprint)" if r.reprint else "")
    out.print(f"batch #{r.batch_id}: {kind} for {r.packs} packs → {out_file or r.path}{flag}")


@print_cli.command("picklist")
def print_picklist(packs: list[int] = typer.Option([], "--pack", help="pack #s"),
                   batch: Optional[int] = typer.Option(None, help="packs of batch #"),
                   fmt: str = typer.Option("pdf", "--format", help="pdf or xlsx"),
                   printer: str = "", reason: str = "",
                   out_file: Optional[Path] = typer.Option(None, "--out")) -> None:
    """Pick list (拣货单): SKUs summed, in pick-route order, with their orders."""
    _print_docs("picklist", packs, fmt, printer, reason, out_file, batch)


@print_cli.command("slips")
def print_slips(packs: list[int] = typer.Option([], "--pack", help="pack #s"),
                batch: Optional[int] = typer.Option(None, help="packs of batch #"),
                printer: str = "", reason: str = "",
                out_file: Optional[Path] = typer.Option(None, "--out")) -> None:
    """Packing slips (发货单), one per pack."""
    _print_docs("slips", packs, "pdf", printer, reason, out_file, batch)


def register(cli: typer.Typer) -> None:
    cli.add_typer(print_cli, name="print")
