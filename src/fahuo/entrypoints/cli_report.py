"""`fahuo report volume|timing|returns|couriers|exceptions|flags --from --to --shop`: 数据分析
in rich tables."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from fahuo.adapters.files.report_xlsx import ReportXlsx
from fahuo.entrypoints.cli_common import _app, _fail, out
from fahuo.services import report

report_cli = typer.Typer(help="数据分析: shipping volume, times, returns per product, flags.",
                         no_args_is_help=True)
FROM = typer.Option(None, "--from", help="first shop day YYYY-MM-DD (default 30 days ago)")
TO = typer.Option(None, "--to", help="the day after the last, YYYY-MM-DD (default tomorrow)")
SHOP = typer.Option(None, "--shop", help="shop #; all shops when absent")
XLSX = typer.Option(None, "--xlsx", help="also write every report table to this .xlsx file")


def _rng(first: Optional[str], to: Optional[str], shop: Optional[str]) -> report.ReportRange:
    try:
        return report.report_range(first, to, shop)
    except report.ReportRangeError as exc:
        _fail(str(exc))


def _title(name: str, rng: report.ReportRange) -> str:
    shop = f" 店铺 #{rng.shop_ref}" if rng.shop_ref is not None else " 全部店铺"
    return f"{name}（{rng.first.isoformat()} 至 {rng.end.isoformat()} 不含{shop}）"


def _print_tables(rng: report.ReportRange, which: set[str], xlsx: Optional[Path]) -> None:
    app = _app()
    tables = report.tables(app.uow, rng)
    for title, header, rows in tables:
        if title not in which:
            continue
        t = Table(title=_title(title, rng))
        for h in header:
            t.add_column(h)
        for row in rows:
            t.add_row(*(str(x) for x in row))
        out.print(t if rows else f"{_title(title, rng)}：没有数据")
    if xlsx is not None:
        xlsx.write_bytes(ReportXlsx().render(tables))
        out.print(f"已导出 {xlsx}")


@report_cli.command("volume")
def report_volume(first: Optional[str] = FROM, to: Optional[str] = TO,
                  shop: Optional[str] = SHOP, xlsx: Optional[Path] = XLSX) -> None:
    """Orders, parcels and units shipped per day, product, courier, province and hour."""
    _print_tables(_rng(first, to, shop), {"每日发货", "商品", "快递公司", "省份", "时段"}, xlsx)


@report_cli.command("timing")
def report_timing(first: Optional[str] = FROM, to: Optional[str] = TO,
                  shop: Optional[str] = SHOP, xlsx: Optional[Path] = XLSX) -> None:
    """Median and P90 of each shipping step, on-time and 24 h pickup rates."""
    _print_tables(_rng(first, to, shop), {"发货时效"}, xlsx)


@report_cli.command("returns")
def report_returns(first: Optional[str] = FROM, to: Optional[str] = TO,
                   shop: Optional[str] = SHOP, xlsx: Optional[Path] = XLSX) -> None:
    """After-sales per product as a share of units shipped, by type and reason."""
    _print_tables(_rng(first, to, shop), {"退货"}, xlsx)


@report_cli.command("couriers")
def report_couriers(first: Optional[str] = FROM, to: Optional[str] = TO,
                    shop: Optional[str] = SHOP, xlsx: Optional[Path] = XLSX) -> None:
    """Delivery per courier and courier × province: median and P90 hours to delivery,
    failure, refusal and return rates, and the couriers flagged in a province."""
    _print_tables(_rng(first, to, shop), {"快递时效", "快递×省份", "快递预警"}, xlsx)


@report_cli.command("exceptions")
def report_exceptions(first: Optional[str] = FROM, to: Optional[str] = TO,
                      shop: Optional[str] = SHOP, xlsx: Optional[Path] = XLSX) -> None:
    """物流异常 per kind, courier and province, with the median time to close."""
    _print_tables(_rng(first, to, shop),
                  {"物流异常（按类型）", "物流异常（按快递）", "物流异常（按省份）"}, xlsx)


@report_cli.command("flags")
def report_flags(first: Optional[str] = FROM, to: Optional[str] = TO,
                 shop: Optional[str] = SHOP, xlsx: Optional[Path] = XLSX) -> None:
    """Products returned clearly more than the shop's baseline, with the main reason, and
    couriers clearly slower or more exception-prone than the others in a province."""
    rng = _rng(first, to, shop)
    app = _app()
    f, couriers = report.flags(app.uow, rng), report.courier_advice(app.uow, rng)
    if not f.flags:
        out.print(f"没有商品预警：没有商品的退货率明显高于店铺基线 {f.baseline:.1%}")
    if not couriers:
        out.print("没有快递预警：没有快递在某省明显更慢或问题件明显更多")
    _print_tables(rng, ({"预警"} if f.flags else set()) | ({"快递预警"} if couriers else set()),
                  xlsx)


def register(cli: typer.Typer) -> None:
    cli.add_typer(report_cli, name="report")
