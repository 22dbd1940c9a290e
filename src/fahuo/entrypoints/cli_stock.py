"""`fahuo stock` and `fahuo aftersales`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from fahuo.entrypoints.cli_tracking import _app, _fail, _t, out

stock_cli = typer.Typer(help="Stock: levels, moves, count files, sync to the shops.",
                        no_args_is_help=True)
aftersales_cli = typer.Typer(help="After-sale cases, interceptions and returns.",
                             no_args_is_help=True)


@stock_cli.command("show")
def stock_show(code: Optional[str] = typer.Argument(None, help="part of a SKU code"),
               limit: int = 100) -> None:
    """On hand, reserved, available, safety and damaged per SKU code."""
    with _app().uow(readonly=True) as u:
        total, rows = u.stock.levels(code_like=code, limit=limit)
    t = Table("code", "warehouse", "on hand", "reserved", "available", "safety", "damaged")
    for r in rows:
        t.add_row(r["sku_code"], r["warehouse"], str(r["on_hand"]), str(r["reserved"]),
                  str(r["available"]), str(r["safety"]), str(r["damaged"]))
    out.print(t)
    out.print(f"{len(rows)} of {total}")


@stock_cli.command("adjust", context_settings={"ignore_unknown_options": True})
def stock_adjust(sku_code: str, quantity: int = typer.Argument(..., help="± units (count: "
                                                                          "the counted figure)"),
                 move: str = typer.Option("adjust", help="receive, count, adjust, damage, "
                                                         "return_good, return_damaged"),
                 reason: str = typer.Option("", help="why (kept in the journal)")) -> None:
    """One stock move; held orders waiting for this stock are released deadline-first."""
    from fahuo.services.stock import StockInputError, StockLine, move_stock
    app = _app()
    try:
        moved = move_stock(app.uow, move, [StockLine(sku_code, quantity)], actor="cli",
                           reason=reason)
    except StockInputError as exc:
        _fail(str(exc))
    (lv,) = moved.levels
    out.print(f"{sku_code}: on hand {lv['on_hand']}, reserved {lv['reserved']}, available "
              f"{lv['available']}" + (f"; {len(moved.released)} held orders released"
                                      if moved.released else ""))


@stock_cli.command("import")
def stock_import(file: Path = typer.Argument(..., exists=True, dir_okay=False),
                 move: str = typer.Option("count", help="count (盘点) or receive (入库)")) -> None:
    """A count or receipt file (.xlsx/.csv with 商家编码 and 数量), all rows or none."""
    from fahuo.services.stock import StockInputError, move_stock, parse_stock_file
    from fahuo.services.uploads import UploadLimits, UploadRefused, check_size
    if move not in ("count", "receive"):
        _fail("move must be count or receive")
    app = _app()
    limits = UploadLimits.from_settings(app.settings)
    try:
        try:  # a file over the limit is not even read
            check_size(file.name, file.stat().st_size, limits)
        except UploadRefused as exc:
            raise StockInputError([str(exc)]) from exc
        lines = parse_stock_file(file.name, file.read_bytes(), limits)
        moved = move_stock(app.uow, move, lines, actor="cli", ref_type="import",
                           ref_id=file.name)
    except StockInputError as exc:
        for p in exc.problems:
            out.print(f"[red]{p}[/red]")
        _fail(f"{len(exc.problems)} problems; nothing was applied")
    out.print(f"{len(lines)} lines applied ({move})"
              + (f"; {len(moved.released)} held orders released" if moved.released else ""))


@stock_cli.command("set")
def stock_set(sku_code: str, safety: Optional[int] = None,
              percent: Optional[int] = None, add: Optional[int] = None,
              minimum: Optional[int] = None, maximum: Optional[int] = None) -> None:
    """Safety stock and the shop sync rule (percent, add, minimum, maximum) of a SKU code."""
    import json
    from fahuo.services.stock import StockInputError, set_item
    app = _app()
    rule = None
    if any(v is not None for v in (percent, add, minimum, maximum)):
        with app.uow(readonly=True) as u:
            cur = next((r for r in u.stock.levels(code_like=sku_code)[1]
                        if r["sku_code"] == sku_code), None)
        rule = dict((cur or {}).get("sync_rule") or {})
        rule.update({k: v for k, v in dict(percent=percent, add=add, minimum=minimum,
                                           maximum=maximum).items() if v is not None})
    try:
        row = set_item(app.uow, sku_code, actor="cli", safety=safety, sync_rule=rule)
    except StockInputError as exc:
        _fail(str(exc))
    out.print(f"{sku_code}: safety {row['safety']}, rule {json.loads(row['sync_rule'])}")


@stock_cli.command("bundle")
def stock_bundle(bundle_code: str,
                 part: list[str] = typer.Option(..., help="CODE=QTY, once per part")) -> None:
    """Define a bundle (组套): orders of it reserve and ship its parts."""
    from fahuo.services.stock import StockInputError, set_bundle
    parts = {}
    for it in part:
        code, _, qty = it.partition("=")
        if not code or not qty.isdigit():
            _fail(f"{it!r}: write CODE=QTY, e.g. CUP-A=2")
        parts[code] = int(qty)
    try:
        set_bundle(_app().uow, bundle_code, parts, actor="cli")
    except StockInputError as exc:
        _fail(str(exc))
    out.print(f"{bundle_code} = " + " + ".join(f"{q}×{c}" for c, q in parts.items()))


@stock_cli.command("sync")
def stock_sync_cmd(full: bool = typer.Option(False, help="every SKU, not just changed ones")
                   ) -> None:
    """Push sellable quantities to the shops now."""
    from fahuo.services.stock_sync import sync_stock
    app = _app()
    r = sync_stock(app.uow, app.platform_for, full=full)
    out.print(f"{r.items} items, {r.skus} shop SKUs in {r.calls} calls, {r.unchanged} unchanged")
    for k, v in r.failed.items():
        out.print(f"[red]{k}: {v}[/red]")


@aftersales_cli.command("sync")
def aftersales_sync(shop: Optional[int] = typer.Option(None, help="shop #")) -> None:
    """Read changed after-sale cases from the platform; offer interceptions."""
    from fahuo.services.aftersales import sync_after_sales
    app = _app()
    with app.uow(readonly=True) as u:
        refs = [s.id for s in u.shops.list(enabled_only=True) if shop in (None, s.id)]
    for ref in refs:
        r = sync_after_sales(app.uow, app.platform_for, ref)
        out.print(f"shop #{ref}: {r.cases} cases, {r.offered} interceptions offered, "
                  f"{r.returns_tracked} returns tracked, {r.intercept_outcomes} interception "
                  "outcomes from tracking")


@aftersales_cli.command("list")
def aftersales_list(status: str = typer.Option("open", help="open, closed, intercept or all"),
                    limit: int = 50) -> None:
    from fahuo.services.aftersales import list_cases
    if status not in ("open", "closed", "intercept", "all"):
        _fail("status must be open, closed, intercept or all")
    t = Table("case", "order", "type", "status", "stage", "return parcel", "intercept",
              "via", "updated")
    for r in list_cases(_app().uow, status=status, limit=limit):
        t.add_row(r["aftersale_id"], r["order_id"], str(r["aftersale_type"]),
                  str(r["aftersale_status"]), r["stage"],
                  f"{r['return_company']} {r['return_tracking_no']}".strip(),
                  f"{r['intercept_state']} {r['intercept_detail']}".strip(),
                  r["intercept_via"], _t(r["update_time"]))
    out.print(t)


@aftersales_cli.command("intercept")
def aftersales_intercept(aftersale_id: str,
                         via: str = typer.Option("auto", help="auto (Douyin, then Kuaidi100 for "
                                                 "what Douyin refuses), douyin or kuaidi100")
                         ) -> None:
    """Ask the courier to bring a shipped parcel back (Douyin or Kuaidi100 快递拦截)."""
    from fahuo.services.aftersales import VIAS, AfterSaleError, intercept
    if via not in VIAS:
        _fail(f"--via must be one of {', '.join(VIAS)}, got {via!r}")
    app = _app()
    try:
        r = intercept(app.uow, app.platform_for, aftersale_id, actor="cli", via=via,
                      http=app.http)
    except AfterSaleError as exc:
        _fail(str(exc))
    out.print(f"{aftersale_id}: {r['intercept_state']} via {r['via'] or 'nobody'} — "
              f"{r['detail']}")


@aftersales_cli.command("receive")
def aftersales_receive(aftersale_id: str,
                       good: list[str] = typer.Option([], help="CODE=QTY back on hand"),
                       damaged: list[str] = typer.Option([], help="CODE=QTY damaged")) -> None:
    """The return arrived and was inspected."""
    from fahuo.services.aftersales import AfterSaleError, receive_return

    def parse(items: list[str]) -> dict[str, int]:
        outd = {}
        for it in items:
            code, _, qty = it.partition("=")
            if not code or not qty.isdigit():
                _fail(f"{it!r}: write CODE=QTY, e.g. TEE-RED-M=1")
            outd[code] = int(qty)
        return outd
    app = _app()
    try:
        receive_return(app.uow, aftersale_id, good=parse(good), damaged=parse(damaged),
                       actor="cli")
    except AfterSaleError as exc:
        _fail(str(exc))
    out.print(f"{aftersale_id}: received")


wms_cli = typer.Typer(help="A third-party warehouse that exchanges files.",
                      no_args_is_help=True)


def _warehouse(folder: Optional[Path]):
    from fahuo.adapters.wms import FileWarehouse
    app = _app()
    root = folder or app.settings.wms_dir
    if root is None:
        _fail("give --dir or set FAHUO_WMS_DIR")
    return app, FileWarehouse(root)


@wms_cli.command("export")
def wms_export(folder: Optional[Path] = typer.Option(None, "--dir")) -> None:
    """Write parcels with a label (not sent before) to <dir>/outbound as JSON and CSV."""
    from fahuo.services.wms import export_outbound
    app, port = _warehouse(folder)
    r = export_outbound(app.uow, port)
    out.print(f"{r.exported} parcels out, {r.cancelled} called back → "
              f"{', '.join(r.files) or 'nothing new'}")
    for n in r.notes:
        out.print(f"[yellow]{n}[/yellow]")


@wms_cli.command("import")
def wms_import(folder: Optional[Path] = typer.Option(None, "--dir")) -> None:
    """Confirm on the platform what the warehouse says it shipped (<dir>/inbound files)."""
    from fahuo.services.wms import import_confirmations
    app, port = _warehouse(folder)
    r = import_confirmations(app.uow, app.platform_for, port,
                             concurrency=app.settings.platform_concurrency)
    out.print(f"{r.confirmed} parcels confirmed")
    for where, why in r.refused.items():
        out.print(f"[red]{where}: {why}[/red]")


def register(cli: typer.Typer) -> None:
    cli.add_typer(stock_cli, name="stock")
    cli.add_typer(aftersales_cli, name="aftersales")
    cli.add_typer(wms_cli, name="wms")
