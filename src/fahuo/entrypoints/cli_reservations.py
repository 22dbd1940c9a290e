"""`fahuo stock reservations`, `fahuo stock release` and `fahuo stock unpack` (拆包放回)."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from fahuo.entrypoints.cli_stock import stock_cli
from fahuo.entrypoints.cli_common import _app, _fail, _t, out, who


@stock_cli.command("reservations")
def stock_reservations(limit: int = 500) -> None:
    """Reserved stock by order, parcels waiting to be unpacked, the latest releases."""
    from fahuo.services.reservations import reserved_view
    view = reserved_view(_app().uow, limit=limit)
    t = Table("订单", "状态", "占用", "挂起原因")
    for o in view["orders"]:
        t.add_row(o["order_id"], o["state_zh"],
                  ", ".join(f"{ln['sku_code']}×{ln['quantity']}" for ln in o["lines"]),
                  "; ".join(o["holds"]))
    out.print(t)
    if view["boxes"]:
        b = Table("包裹", "快递单号", "状态", "订单", "件数", title="待拆包")
        for x in view["boxes"]:
            b.add_row(str(x["id"]), x["track_no"], x["state_zh"], ", ".join(x["orders"]),
                      str(x["units"]))
        out.print(b)
    r = Table("时间", "商家编码", "件数", "订单", "原因", "操作人", title="最近释放")
    for j in view["releases"][:20]:
        r.add_row(_t(j["at"]), j["sku_code"], str(-j["reserved"]), j["ref_id"], j["reason"],
                  j["actor"])
    out.print(r)


@stock_cli.command("release")
def stock_release(order_id: str,
                  note: str = typer.Option(..., help="why (required; kept in the journal)"),
                  actor: Optional[str] = typer.Option(
                      None, help="who releases (default: the global --as, else the OS user)")
                  ) -> None:
    """Give an order's reserved stock back by hand (手工释放)."""
    from fahuo.services.reservations import ReservationError, release_by_hand
    try:
        got = release_by_hand(_app().uow, order_id, note=note, actor=actor or who())
    except ReservationError as exc:
        _fail(str(exc))
    out.print(got.message)


@stock_cli.command("unpack")
def stock_unpack(track_no: Optional[str] = typer.Argument(None, help="the parcel's tracking no"),
                 pack: Optional[int] = typer.Option(None, "--pack", help="or fahuo's pack id"),
                 note: str = typer.Option("", help="what was done"),
                 actor: Optional[str] = typer.Option(
                     None, help="who unpacked it (default: the global --as, else the OS user)")
                 ) -> None:
    """A printed parcel that will not ship was unpacked and its goods put back (拆包放回)."""
    from fahuo.services.reservations import ReservationError, unpack
    if (track_no is None) == (pack is None):
        _fail("请给出快递单号或 --pack 包裹号（二选一）")
    try:
        got = unpack(_app().uow, track_no=track_no, pack_id=pack, actor=actor or who(),
                     note=note)
    except ReservationError as exc:
        _fail(str(exc))
    out.print(got.message)
