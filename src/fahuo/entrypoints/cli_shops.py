"""`fahuo shop …` (connect, authorise, list, platform lists, settings, refresh) and
`fahuo waybills balance`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from fahuo.bootstrap import get_app
from fahuo.domain.clock import shop_time
from fahuo.domain.names import courier_name
from fahuo.entrypoints.cli_common import _fail, err, out, who

shop_cli = typer.Typer(help="Connected shops.", no_args_is_help=True)
waybills_cli = typer.Typer(help="E-waybill accounts.", no_args_is_help=True)


@shop_cli.command("add")
def shop_add(
    shop_id: str = typer.Option(..., help="numeric Douyin shop id (店铺ID)"),
    app_key: str = typer.Option(..., help="19-digit app key"),
    app_secret: str = typer.Option(..., help="app secret", envvar="FAHUO_APP_SECRET"),
    gateway: str = typer.Option("https://openapi-fxg.jinritemai.com", help="open-platform URL"),
    name: str = typer.Option("", help="shop name shown in the console"),
    sign_method: str = typer.Option("hmac-sha256", help="hmac-sha256 or md5"),
    auth: str = typer.Option("self", help="self (自用型) or oauth (工具型)"),
    qps: Optional[float] = typer.Option(None, help="API calls per second for this app"),
    connect: bool = typer.Option(True, help="get a token now to check key and secret"),
    code: Optional[str] = typer.Option(None, help="OAuth code (工具型应用: from the redirect)"),
) -> None:
    """Connect a Douyin shop."""
    from fahuo.services.shops import NewShop, ShopInputError, add_shop, connect_shop
    app = get_app()
    app.migrate()
    try:
        with app.uow() as uow:
            ref = add_shop(uow, NewShop(shop_id=shop_id, app_key=app_key, app_secret=app_secret,
                                        gateway_url=gateway, shop_name=name,
                                        sign_method=sign_method, auth_type=auth, rate_qps=qps),
                           actor=who())
    except ShopInputError as exc:
        for field, problem in exc.problems.items():
            err.print(f"[red]{field}[/red]: {problem}")
        raise typer.Exit(2) from exc
    out.print(f"已添加店铺 {shop_id}，编号 #{ref}")
    if auth == "oauth" and not code:
        out.print("工具型应用：请到抖店服务市场授权，然后运行 "
                  f"`fahuo shop authorize --shop {ref} --code …`，或由管理员在店铺页面点"
                  "授权按钮（授权后跳回 /oauth/doudian/callback）")
    if connect and (auth == "self" or code):
        with app.uow() as uow:
            shop = uow.shops.require(ref)
        try:
            shop_name = connect_shop(app.platform_for(shop), app.uow, ref, code=code)
        except Exception as exc:  # noqa: BLE001 - shown to the merchant as is
            _fail(f"店铺已保存，但获取令牌失败：{exc}")
        out.print(f"令牌正常：{shop_name or shop_id}")


@shop_cli.command("authorize")
def shop_authorize(shop: int = typer.Option(..., help="shop #"),
                   code: str = typer.Option(..., help="the OAuth code (valid 10 minutes)")) -> None:
    """Exchange an OAuth code for the shop's token (工具型应用)."""
    from fahuo.services.shops import connect_shop
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        record = uow.shops.get(shop)
    if record is None:
        _fail(f"没有店铺 #{shop}")
    try:
        name = connect_shop(app.platform_for(record), app.uow, shop, code=code)
    except Exception as exc:  # noqa: BLE001 - the platform's words
        _fail(f"授权失败：{exc}")
    out.print(f"令牌正常：{name or record.shop_id}")


@shop_cli.command("list")
def shop_list() -> None:
    """Shops and how far each is synced."""
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        shops = uow.shops.list()
        cursors = {c["shop_ref"]: c for c in uow.cursors.get_all()}
    t = Table("#", "店铺 ID", "店铺名", "App Key", "网关", "同步到", "最近错误")
    for s in shops:
        c = cursors.get(s.id, {})
        t.add_row(str(s.id), s.shop_id, s.shop_name, s.app_key, s.gateway_url,
                  shop_time(c["cursor_time"], "%Y-%m-%d %H:%M:%S")
                  if c else "—", (c.get("last_error") or "")[:60])
    out.print(t)


@shop_cli.command("platform")
def shop_platform(what: str = typer.Argument(..., help="couriers or addresses"),
                  shop: int = typer.Option(..., help="shop #")) -> None:
    """Live lists from the open platform: logistics companies, or the shop's addresses."""
    from fahuo.services.shops import UnknownShop, platform_reference
    app = get_app()
    app.migrate()
    try:
        rows = platform_reference(app.uow, app.platform_for, shop, what)
    except (UnknownShop, ValueError) as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - the platform's words, shown as they are
        _fail(f"平台接口调用失败：{exc}")
    if not rows:
        out.print("（无）")
        return
    t = Table(*rows[0].keys())
    for r in rows:
        t.add_row(*(str(v) for v in r.values()))
    out.print(t)


@waybills_cli.command("balance")
def waybills_balance(shop: Optional[int] = typer.Option(None, help="shop #"),
                     refresh: bool = typer.Option(True, help="ask the platform first")) -> None:
    """E-waybill balance per courier branch (网点)."""
    from fahuo.services.settings import balances, refresh_from_platform
    app = get_app()
    app.migrate()
    if refresh:
        with app.uow() as uow:
            refs = [s.id for s in uow.shops.list(enabled_only=True) if shop in (None, s.id)]
        for ref in refs:
            try:
                refresh_from_platform(app.uow, app.platform_for, ref)
            except Exception as exc:  # noqa: BLE001 - shown as the platform said it
                err.print(f"[red]店铺 #{ref}：{exc}[/red]")
    t = Table("店铺", "快递公司", "网点", "余额", "")
    for r in balances(app.uow, shop):
        t.add_row(f"#{r['shop_ref']}", courier_name(r["courier_code"]), r["netsite_name"] or r["netsite_code"],
                  "?" if r["balance"] is None else str(r["balance"]),
                  "[red]余额不足[/red]" if r["low"] else "")
    out.print(t)


@shop_cli.command("settings")
def shop_settings(shop: int = typer.Option(..., help="shop #"),
                  set_: list[str] = typer.Option([], "--set", help="key=value (JSON values ok)"),
                  file: Optional[Path] = typer.Option(None, help="a JSON file of settings")
                  ) -> None:
    """Show or change a shop's settings (courier rules, audit rules, confirm mode…)."""
    from fahuo.services.settings import SettingsError, update_settings, with_warnings
    app = get_app()
    app.migrate()
    changes: dict = {}
    if file:
        try:
            changes.update(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            _fail(f"{file}: {exc}")
    for item in set_:
        key, sep, raw = item.partition("=")
        if not sep:
            _fail(f"--set 应写成 设置项=值，收到 {item!r}")
        try:
            changes[key.strip()] = json.loads(raw)
        except ValueError:
            changes[key.strip()] = raw
    if changes:
        try:
            cfg = update_settings(app.uow, shop, changes, actor=who())
        except SettingsError as exc:
            for k, v in exc.problems.items():
                err.print(f"[red]{k}[/red]: {v}")
            raise typer.Exit(2) from exc
    else:
        with app.uow() as uow:
            cfg = with_warnings(uow.settings.get(shop))
    cfg.pop("sender_phone", None)
    print(json.dumps(cfg, ensure_ascii=False, indent=2, default=str))
    for w in cfg["warnings"]:  # on the terminal too, not only inside the JSON
        err.print(f"[yellow]注意[/yellow]：{w}")


@shop_cli.command("explain")
def shop_explain(shop: int = typer.Option(..., help="shop #"),
                 order: str = typer.Option("", help="an order id of the shop; default: its newest")
                 ) -> None:
    """Which courier strategy rule would pick which courier for an order, and why (快递策略试算)."""
    from fahuo.services.courier_explain import explain_courier
    app = get_app()
    app.migrate()
    x = explain_courier(app.uow, app.platform_for, shop, order or None)
    if x.problem:
        _fail(x.problem)
    for n, p in enumerate(x.parcels, 1):
        head = f"订单 {x.order_id}" + (f" 第 {n} 个包裹" if len(x.parcels) > 1 else "")
        out.print(f"{head}：{p.lines}")
        out.print(f"  → [bold]{p.courier_zh}[/bold]：{p.decision.reason_zh}")
        t = Table("#", "规则", "快递", "结果")
        for v in p.rules:
            t.add_row(str(v.n), v.name, courier_name(v.courier_code),
                      f"[green]{v.verdict}[/green]" if v.chosen else v.verdict)
        out.print(t)


@shop_cli.command("address")
def shop_address(shop: int = typer.Option(..., help="shop #"),
                 address_id: str = typer.Option(..., "--id", help="地址编号 (letters, digits, - _)"),
                 name: str = typer.Option(..., help="联系人"),
                 phone: str = typer.Option("", help="电话 (empty keeps the stored one)"),
                 province: str = typer.Option(..., help="省份"),
                 city: str = typer.Option(..., help="城市"),
                 district: str = typer.Option("", help="区县"),
                 street: str = typer.Option("", help="街道"),
                 detail: str = typer.Option(..., help="详细地址"),
                 default_send: bool = typer.Option(False, help="make it the default ship-from")
                 ) -> None:
    """Add or change a ship-from address by hand (platform refreshes keep it)."""
    from fahuo.services.settings import SettingsError, save_address
    app = get_app()
    app.migrate()
    try:
        aid = save_address(app.uow, shop, address_id, {
            "name": name, "phone": phone, "province": province, "city": city,
            "district": district, "street": street, "detail": detail}, who(),
            default_send=default_send)
    except SettingsError as exc:
        for k, v in exc.problems.items():
            err.print(f"[red]{k}[/red]: {v}")
        raise typer.Exit(2) from exc
    out.print(f"地址 {aid} 已保存")


@shop_cli.command("refresh")
def shop_refresh(shop: int = typer.Option(..., help="shop #")) -> None:
    """Pull the address book and e-waybill accounts from the platform."""
    from fahuo.services.settings import refresh_from_platform
    app = get_app()
    app.migrate()
    try:
        got = refresh_from_platform(app.uow, app.platform_for, shop)
    except Exception as exc:  # noqa: BLE001
        _fail(str(exc))
    out.print(f"地址 {got['addresses']} 个，电子面单网点 {got['netsites']} 个")


def register(cli: typer.Typer) -> None:
    cli.add_typer(shop_cli, name="shop")
    cli.add_typer(waybills_cli, name="waybills")
