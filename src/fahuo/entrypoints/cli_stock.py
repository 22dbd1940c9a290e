"""`fahuo stock` and `fahuo aftersales`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from fahuo.domain.aftersales import TYPE_NAMES
from fahuo.domain.names import AFTERSALE_STATUS, INTERCEPT_STATE, courier_name, name
from fahuo.entrypoints.cli_common import _app, _fail, _t, out, who


stock_cli = typer.Typer(help="Stock: levels, moves, count files, sync to the shops.",
                        no_args_is_help=True)
aftersales_cli = typer.Typer(help="After-sale cases, interceptions and returns.",
                             no_args_is_help=True)


def _rule_text(rule: dict, oversell: bool) -> str:
    """The sync rule in a merchant's words; empty when it is the default."""
    bits = []
    if rule.get("percent", 100) != 100:
        bits.append(f"比例{rule['percent']}%")
    if rule.get("add"):
        bits.append(f"加{rule['add']}")
    if rule.get("minimum"):
        bits.append(f"最低{rule['minimum']}")
    if rule.get("maximum") is not None:
        bits.append(f"最高{rule['maximum']}")
    if oversell:
        bits.append("[bold red]允许超卖[/bold red]")
    return " ".join(bits)


@stock_cli.command("show")
def stock_show(code: Optional[str] = typer.Argument(None, help="part of a SKU code or name"),
               level: Optional[str] = typer.Option(
                   None, help="low (at most the safety stock) or out (nothing available)"),
               limit: int = typer.Option(100, min=1), offset: int = typer.Option(0, min=0)
               ) -> None:
    """On hand, reserved, available, safety and damaged per SKU code, and each sync rule."""
    from fahuo.services import lists
    try:
        p = lists.stock(_app().uow, search=code, level=level,
                        paging=lists.Paging(limit=limit, offset=offset))
    except lists.ListFilterError as exc:
        _fail(str(exc))
    total, rows = p.total, p.rows
    t = Table("商家编码", "仓库", "实物", "占用", "可用", "安全库存", "残次", "同步规则")
    for r in rows:
        t.add_row(r["sku_code"], r["warehouse"], str(r["on_hand"]), str(r["reserved"]),
                  str(r["available"]), str(r["safety"]), str(r["damaged"]),
                  _rule_text(r["sync_rule"], r["oversell"]))
    out.print(t)
    out.print(f"共 {total} 个，显示第 {p.first}–{p.last} 个" if rows else f"共 {total} 个")


@stock_cli.command("bundles")
def stock_bundles() -> None:
    """Bundles (组套): parts, how many the parts can make, what the shop is told."""
    from fahuo.services.stock.bundles import parts_text
    from fahuo.services.stock_sync import bundle_levels
    with _app().uow(readonly=True) as u:
        rows = bundle_levels(u)
    t = Table("组套", "组成", "可组数量", "告诉店铺", "同步规则", "待同步")
    for r in rows:
        t.add_row(r["bundle_code"], parts_text(r["parts"]) + "".join(
            f" [yellow]({p} 无库存记录，不限制)[/yellow]" for p in r["missing_parts"]),
            "—" if r["sellable"] is None else str(r["sellable"]),
            "—" if r["pushed"] is None else str(r["pushed"]),
            _rule_text(r["sync_rule"], r["oversell"]), "是" if r["dirty"] else "")
    out.print(t)


def _echo_levels(moved) -> None:
    """Levels after the move and after held orders took what arrived."""
    for lv in moved.levels:
        out.print(f"{lv['sku_code']}：实物 {lv['on_hand']}，占用 {lv['reserved']}，"
                  f"可用 {lv['available']}")
    if moved.released:
        out.print(f"{len(moved.released)} 个缺货挂起的订单占到了库存，已放行："
                  + "、".join(moved.released[:20]) + (" …" if len(moved.released) > 20 else ""))


@stock_cli.command("adjust", context_settings={"ignore_unknown_options": True})
def stock_adjust(sku_code: str, quantity: str = typer.Argument(..., help="± units (count: "
                                                                          "the counted figure)"),
                 move: str = typer.Option("adjust", help="receive, count, adjust, damage, "
                                                         "return_good, return_damaged"),
                 reason: str = typer.Option("", help="why (kept in the journal)"),
                 new_code: bool = typer.Option(False, "--new-code", help="a new product: "
                                               "let a receipt or count create this code"),
                 name: str = typer.Option("", help="product name of a new code (default: the "
                                                   "title the shops sell it under)")
                 ) -> None:
    """One stock move; held orders waiting for this stock are released deadline-first."""
    from fahuo.services.stock.lines import StockInputError, StockLine, read_quantity
    from fahuo.services.stock.moves import move_stock
    app = _app()
    try:
        qty = read_quantity(quantity)
    except ValueError as exc:
        _fail(str(exc))
    try:
        moved = move_stock(app.uow, move, [StockLine(sku_code, qty, new=new_code, name=name)],
                           actor=who(), reason=reason)
    except StockInputError as exc:
        _fail(str(exc))
    _echo_levels(moved)


@stock_cli.command("import")
def stock_import(file: Path = typer.Argument(..., exists=True, dir_okay=False),
                 move: str = typer.Option("count", help="count (盘点) or receive (入库)")) -> None:
    """A count or receipt file (.xlsx/.csv with 商家编码 and 数量; 新编码=是 for a new product),
    all rows or none; every problem is listed by the file's row number."""
    from fahuo.bootstrap import import_stock_file
    from fahuo.services.stock.lines import StockInputError
    from fahuo.services.uploads import UploadLimits, UploadRefused, check_size
    if move not in ("count", "receive"):
        _fail("--move 只能是 count（盘点）或 receive（入库）")
    app = _app()
    limits = UploadLimits.from_settings(app.settings)
    try:
        try:  # a file over the limit is not even read
            check_size(file.name, file.stat().st_size, limits)
        except UploadRefused as exc:
            raise StockInputError([str(exc)]) from exc
        moved = import_stock_file(app.uow, file.name, file.read_bytes(), move, actor=who(),
                                  limits=limits)
    except StockInputError as exc:
        for p in exc.problems:
            out.print(f"[red]{p}[/red]", soft_wrap=True)
        _fail(f"{len(exc.problems)} 个问题，什么都没有改动")
    out.print(f"已应用 {len(moved.levels)} 行（{'盘点' if move == 'count' else '入库'} {move}）")
    _echo_levels(moved)


@stock_cli.command("set")
def stock_set(sku_code: str, safety: Optional[int] = None,
              percent: Optional[int] = None, add: Optional[int] = None,
              minimum: Optional[int] = None, maximum: Optional[int] = None,
              no_maximum: bool = typer.Option(False, "--no-maximum",
                                              help="clear the maximum (no upper limit)"),
              oversell: Optional[bool] = typer.Option(
                  None, "--oversell/--no-oversell",
                  help="let add/minimum advertise stock that is not there (risky)")) -> None:
    """Safety stock, the shop sync rule (percent, add, minimum, maximum) and oversell of a SKU
    code or a bundle code; only the options given change."""
    from fahuo.services.stock.lines import StockInputError
    from fahuo.services.stock.rules import set_item
    if no_maximum and maximum is not None:
        _fail("--maximum 和 --no-maximum 只能选一个")
    given: dict[str, int | None] = {"percent": percent, "add": add, "minimum": minimum,
                                    "maximum": maximum}
    rule: dict[str, int | None] = {k: v for k, v in given.items() if v is not None}
    if no_maximum:
        rule["maximum"] = None
    try:
        row = set_item(_app().uow, sku_code, actor=who(), safety=safety,
                       sync_rule=rule or None, oversell=oversell)
    except StockInputError as exc:
        _fail(str(exc))
    rule_text = _rule_text(row["sync_rule"], row["oversell"]) or "默认（可售全部推送）"
    if row["bundle"]:
        out.print(f"{sku_code}（组套）：同步规则 {rule_text}")
    else:
        out.print(f"{sku_code}：安全库存 {row['safety']}，同步规则 {rule_text}")
    if row["oversell"]:
        out.print("[bold red]注意：已允许超卖——可售为 0 时也会按“加量/最低”告诉店铺有货，"
                  "买家可能买到没有库存的商品[/bold red]")


@stock_cli.command("bundle")
def stock_bundle(bundle_code: str,
                 part: list[str] = typer.Option(..., help="CODE=QTY, once per part")) -> None:
    """Define a bundle (组套): orders of it reserve and ship its parts, and the shop is told
    how many bundles the parts can make."""
    from fahuo.services.stock.bundles import parse_parts, parts_text, set_bundle
    from fahuo.services.stock.lines import StockInputError
    try:
        row = set_bundle(_app().uow, bundle_code, parse_parts(part), actor=who())
    except StockInputError as exc:
        _fail(str(exc))
    out.print(f"{row['bundle_code']} = {parts_text(row['parts'])}")


@stock_cli.command("sync")
def stock_sync_cmd(full: bool = typer.Option(False, help="every SKU, not just changed ones")
                   ) -> None:
    """Push sellable quantities to the shops now."""
    from fahuo.services.stock_sync import sync_stock
    app = _app()
    r = sync_stock(app.uow, app.platform_for, full=full)
    out.print(f"商品 {r.items} 个、组套 {r.bundles} 个、店铺 SKU {r.skus} 个，接口调用 {r.calls} 次，"
              f"未变 {r.unchanged} 个")
    for k, v in r.failed.items():
        out.print(f"[red]{k}: {v}[/red]")


@aftersales_cli.command("sync")
def aftersales_sync(shop: Optional[int] = typer.Option(None, help="shop #")) -> None:
    """Read changed after-sale cases from the platform; offer interceptions."""
    from fahuo.bootstrap import sync_after_sales
    app = _app()
    with app.uow(readonly=True) as u:
        refs = [s.id for s in u.shops.list(enabled_only=True) if shop in (None, s.id)]
    for ref in refs:
        r = sync_after_sales(app.uow, app.platform_for, ref)
        out.print(f"店铺 #{ref}：售后单 {r.cases} 个，可拦截 {r.offered} 个，"
                  f"跟踪退货 {r.returns_tracked} 个，物流得出拦截结果 {r.intercept_outcomes} 个")


@aftersales_cli.command("list")
def aftersales_list(status: str = typer.Option("open", help="open, closed, intercept or all"),
                    type: Optional[str] = typer.Option(
                        None, "--type", help="0 退货退款, 1 已发货仅退款, 2 未发货仅退款, 3 换货…"),
                    stage: Optional[str] = typer.Option(None, help="before_ship or after_ship"),
                    limit: int = typer.Option(50, min=1), offset: int = typer.Option(0, min=0)
                    ) -> None:
    from fahuo.services import lists
    if status not in ("open", "closed", "intercept", "all"):
        _fail("--status 应为 open（处理中）、closed（已结束）、intercept（拦截）或 all（全部）")
    try:
        p = lists.aftersales(_app().uow, status=status, aftersale_type=type, stage=stage,
                             paging=lists.Paging(limit=limit, offset=offset))
    except lists.ListFilterError as exc:
        _fail(str(exc))
    from rich.table import Column
    # ids are copied into other commands: never cut, the free text wraps instead
    t = Table(Column("售后单", no_wrap=True, min_width=19),
              Column("订单", no_wrap=True, min_width=19), "类型", "售后状态", "阶段",
              "退货包裹", "退回入库", "拦截", "拦截途径", "更新时间")
    for r in p.rows:
        back = " ".join(x for x in (r["received_good"] and f"完好 {r['received_good']}",
                                    r["received_damaged"] and f"残次 {r['received_damaged']}")
                        if x) or (f"完好 {r['good_qty']} 残次 {r['damaged_qty']}"
                                  if r["received_at"] else "")
        t.add_row(r["aftersale_id"], r["order_id"],
                  TYPE_NAMES.get(r["aftersale_type"], str(r["aftersale_type"])),
                  name(AFTERSALE_STATUS, r["aftersale_status"]),
                  "未发货" if r["stage"] == "before_ship" else "已发货",
                  f"{courier_name(r['return_company'])} {r['return_tracking_no']}".strip(), back,
                  f"{name(INTERCEPT_STATE, r['intercept_state'])} {r['intercept_detail']}".strip(),
                  r["intercept_via"], _t(r["update_time"]))
    out.print(t)
    out.print(f"共 {p.total} 个，显示第 {p.first}–{p.last} 个" if p.rows else f"共 {p.total} 个")


@aftersales_cli.command("intercept")
def aftersales_intercept(aftersale_id: str,
                         via: str = typer.Option("auto", help="auto (Douyin, then Kuaidi100 for "
                                                 "what Douyin refuses), douyin or kuaidi100")
                         ) -> None:
    """Ask the courier to bring a shipped parcel back (Douyin or Kuaidi100 快递拦截)."""
    from fahuo.bootstrap import VIAS, intercept
    from fahuo.services.aftersales import AfterSaleError
    if via not in VIAS:
        _fail(f"--via 应为 {'、'.join(VIAS)} 之一，收到 {via!r}")
    app = _app()
    try:
        r = intercept(app.uow, app.platform_for, aftersale_id, actor=who(), via=via,
                      http=app.http)
    except AfterSaleError as exc:
        _fail(str(exc))
    out.print(f"{aftersale_id}：{name(INTERCEPT_STATE, r['intercept_state'])} "
              f"({r['intercept_state']})，途径 {r['via'] or '无'} — {r['detail']}")


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
                _fail(f"{it!r}：请写成 商家编码=数量，如 TEE-RED-M=1")
            outd[code] = int(qty)
        return outd
    app = _app()
    try:
        receive_return(app.uow, aftersale_id, good=parse(good), damaged=parse(damaged),
                       actor=who())
    except AfterSaleError as exc:
        _fail(str(exc))
    out.print(f"{aftersale_id}：已收货入库")


wms_cli = typer.Typer(help="A third-party warehouse that exchanges files.",
                      no_args_is_help=True)


def _warehouse(folder: Optional[Path]):
    from fahuo.adapters.wms import FileWarehouse
    app = _app()
    root = folder or app.settings.wms_dir
    if root is None:
        _fail("请给出 --dir 或设置 FAHUO_WMS_DIR")
    return app, FileWarehouse(root)


@wms_cli.command("export")
def wms_export(folder: Optional[Path] = typer.Option(None, "--dir")) -> None:
    """Write parcels with a label (not sent before) to <dir>/outbound as JSON and CSV."""
    from fahuo.services.wms import export_outbound
    app, port = _warehouse(folder)
    r = export_outbound(app.uow, port)
    out.print(f"发出 {r.exported} 个包裹，撤回 {r.cancelled} 个 → "
              f"{', '.join(r.files) or '没有新文件'}")
    for n in r.notes:
        out.print(f"[yellow]{n}[/yellow]")


@wms_cli.command("import")
def wms_import(folder: Optional[Path] = typer.Option(None, "--dir")) -> None:
    """Confirm on the platform what the warehouse says it shipped (<dir>/inbound files)."""
    from fahuo.services.wms import import_confirmations
    app, port = _warehouse(folder)
    r = import_confirmations(app.uow, app.platform_for, port,
                             concurrency=app.settings.platform_concurrency)
    out.print(f"已回传发货 {r.confirmed} 个包裹")
    for where, why in r.refused.items():
        out.print(f"[red]{where}: {why}[/red]")


def register(cli: typer.Typer) -> None:
    cli.add_typer(stock_cli, name="stock")
    cli.add_typer(aftersales_cli, name="aftersales")
    cli.add_typer(wms_cli, name="wms")
