"""`fahuo handover …`: 交接单 — what waits per courier, make the list, print it, mark it
handed over."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from fahuo.entrypoints.cli_common import _app, _fail, _t, out, who
from fahuo.services.handover import HandoverError

handover_cli = typer.Typer(help="交接单: hand-over lists for each courier's pickup.",
                           no_args_is_help=True)


def _lists_table(lists: list[dict], title: str) -> Table:
    t = Table(title=title)
    for col in ("交接单", "快递公司", "网点", "包裹数", "生成", "状态", "交接"):
        t.add_column(col)
    for x in lists:
        handed = (f"{_t(x['handed_over_at'])} {x['handed_over_by']}" if x["handed_over_at"]
                  else "未交接")
        t.add_row(f"#{x['id']}", x["courier"], x["netsite"], str(x["packs"]),
                  f"{_t(x['created_at'])} {x['created_by']}", x["state_name"], handed)
    return t


@handover_cli.command("waiting")
def handover_waiting(shop: int = typer.Option(..., help="shop #")) -> None:
    """How many parcels wait for each courier's pickup (scanned or confirmed, on no list)."""
    try:
        groups = _app().handover.waiting(shop)
    except HandoverError as exc:
        _fail(str(exc))
    t = Table(title="待交接")
    for col in ("快递公司", "网点", "包裹数", "运单号"):
        t.add_column(col)
    for g in groups:
        more = f" 等 {g.count} 件" if g.count > 5 else ""
        t.add_row(g.courier, g.netsite, str(g.count), "、".join(g.track_nos[:5]) + more)
    out.print(t if groups else "没有待交接的包裹")


@handover_cli.command("create")
def handover_create(shop: int = typer.Option(..., help="shop #"),
                    courier: str = typer.Option(..., help="zhongtong, 中通 or 中通快递"),
                    netsite: Optional[str] = typer.Option(
                        None, help="one branch (网点) code only; default one list per branch")
                    ) -> None:
    """Make the courier's hand-over list of every parcel waiting for it."""
    try:
        made = _app().handover.create(shop, courier, netsite=netsite, actor=who())
    except HandoverError as exc:
        _fail(str(exc))
    for x in made:
        out.print(f"已生成交接单 #{x['id']}：{x['courier']} {x['netsite']}，{x['packs']} 件")
        for it in x["items"]:
            out.print(f"  {it['seq']:>3}  {it['track_no']}  订单 {it['order_id']}")


@handover_cli.command("list")
def handover_list(shop: Optional[int] = typer.Option(None, help="shop # (default all)"),
                  state: Optional[str] = typer.Option(
                      None, help="open (待交接) or handed_over (已交接)"),
                  limit: int = typer.Option(50, min=1, max=500)) -> None:
    """Hand-over lists, newest first."""
    try:
        total, lists = _app().handover.lists(shop, state=state, limit=limit)
    except HandoverError as exc:
        _fail(str(exc))
    out.print(_lists_table(lists, f"交接单（共 {total} 张）") if lists else "还没有交接单")


@handover_cli.command("show")
def handover_show(list_id: int = typer.Argument(..., help="list #")) -> None:
    """One list with its parcels."""
    try:
        x = _app().handover.get(list_id)
    except HandoverError as exc:
        _fail(str(exc))
    out.print(_lists_table([x], f"交接单 #{list_id}"))
    t = Table()
    for col in ("序号", "运单号", "订单号", "物流状态"):
        t.add_column(col)
    for it in x["items"]:
        t.add_row(str(it["seq"]), it["track_no"], it["order_id"], it["tracker_state_name"])
    out.print(t)


@handover_cli.command("print")
def handover_print(list_id: int = typer.Argument(..., help="list #"),
                   fmt: str = typer.Option("pdf", "--format", help="pdf or xlsx"),
                   out_file: Optional[Path] = typer.Option(
                       None, "--out", help="where to write it (default: handover-N-….pdf "
                                          "in the current folder)")) -> None:
    """Write the list as PDF or Excel, to print and have signed."""
    try:
        r = _app().handover.export(list_id, fmt, actor=who())
    except HandoverError as exc:
        _fail(str(exc))
    path = out_file or Path(r.file_name)
    path.write_bytes(r.data)
    out.print(f"交接单 #{list_id} → {path}")


@handover_cli.command("done")
def handover_done(list_id: int = typer.Argument(..., help="list #")) -> None:
    """Mark the list handed over to the courier now (by --as NAME, else you)."""
    try:
        x = _app().handover.done(list_id, actor=who())
    except HandoverError as exc:
        _fail(str(exc))
    out.print(f"交接单 #{list_id} 已标记交接：{_t(x['handed_over_at'])} {x['handed_over_by']}，"
              f"{x['packs']} 件")


def register(cli: typer.Typer) -> None:
    cli.add_typer(handover_cli, name="handover")
