"""`fahuo` command line."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fahuo.bootstrap import get_app

cli = typer.Typer(help="fahuo 发货: shipping automation for Douyin shops.", no_args_is_help=True)
shop_cli = typer.Typer(help="Connected shops.", no_args_is_help=True)
orders_cli = typer.Typer(help="Orders in the store.", no_args_is_help=True)
cli.add_typer(shop_cli, name="shop")
cli.add_typer(orders_cli, name="orders")
out = Console()
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@cli.command()
def init() -> None:
    """Create the data folder, the install key and the database schema."""
    app = get_app()
    app.migrate()
    app.box  # creates the key file on first use  # noqa: B018
    out.print(f"fahuo ready: database {app.settings.db_url.split('@')[-1]}, "
              f"data in {app.settings.data_dir}")


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
                           actor="cli")
    except ShopInputError as exc:
        for field, problem in exc.problems.items():
            err.print(f"[red]{field}[/red]: {problem}")
        raise typer.Exit(2)
    out.print(f"shop {shop_id} added as #{ref}")
    if connect and auth == "self":
        with app.uow() as uow:
            shop = uow.shops.get(ref)
        try:
            shop_name = connect_shop(app.platform_for(shop), app.uow, ref)
        except Exception as exc:  # noqa: BLE001 - shown to the merchant as is
            _fail(f"shop saved, but getting a token failed: {exc}")
        out.print(f"token ok: {shop_name or shop_id}")


@shop_cli.command("list")
def shop_list() -> None:
    """Shops and how far each is synced."""
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        shops = uow.shops.list()
        cursors = {c["shop_ref"]: c for c in uow.cursors.get_all()}
    t = Table("#", "shop id", "name", "app key", "gateway", "synced to", "last error")
    for s in shops:
        c = cursors.get(s.id, {})
        t.add_row(str(s.id), s.shop_id, s.shop_name, s.app_key, s.gateway_url,
                  time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c["cursor_time"]))
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
        _fail(f"the platform call failed: {exc}")
    if not rows:
        out.print("(none)")
        return
    t = Table(*rows[0].keys())
    for r in rows:
        t.add_row(*(str(v) for v in r.values()))
    out.print(t)


@cli.command()
def sync(shop: Optional[int] = typer.Option(None, help="shop # (default: all shops)"),
         quiet: bool = typer.Option(False, help="no progress bar")) -> None:
    """Pull new and changed orders from the platform now."""
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        shops = [s for s in uow.shops.list(enabled_only=True) if shop in (None, s.id)]
    if not shops:
        _fail("no such shop" if shop else "no shops yet: run `fahuo shop add`")
    failed = False
    for s in shops:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=out, disable=quiet) as bar:
            task = bar.add_task(f"shop {s.shop_name or s.shop_id}", total=None)

            def progress(done: int, expected: int) -> None:
                bar.update(task, completed=done, total=max(done, expected))

            try:
                r = app.order_sync.run(s.id, app.platform_for(s), progress=progress)
            except Exception as exc:  # noqa: BLE001 - reported per shop, others go on
                with app.uow() as uow:
                    uow.cursors.record_error(s.id, f"{type(exc).__name__}: {exc}")
                err.print(f"[red]shop {s.shop_id}: {exc}[/red]")
                failed = True
                continue
        out.print(f"shop {s.shop_id}: {r.orders_seen} orders read, {r.inserted} new, "
                  f"{r.updated} updated, {r.stale} stale, {r.pages} pages "
                  f"in {r.seconds:.1f}s")
    if failed:
        raise typer.Exit(1)


@orders_cli.command("list")
def orders_list(state: Optional[str] = typer.Option(None), limit: int = 20,
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Orders, deadline first."""
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        total, rows = uow.orders.search(state=state, limit=limit)
    if as_json:
        print(json.dumps({"total": total, "items": rows}, ensure_ascii=False, default=str))
        return
    t = Table("order", "state", "status", "deadline", "receiver", "region")
    for r in rows:
        t.add_row(r["order_id"], r["state"], str(r["order_status"]),
                  time.strftime("%m-%d %H:%M", time.localtime(r["exp_ship_time"]))
                  if r["exp_ship_time"] else "—",
                  f"{r['receiver_name_mask']} {r['receiver_phone_mask']}",
                  f"{r['province']}{r['city']}")
    out.print(t)
    out.print(f"{total} orders")


@cli.command()
def serve(host: Optional[str] = None, port: Optional[int] = None,
          worker: bool = typer.Option(True, help="run the task consumer in this process")) -> None:
    """Run the web console, API and push webhook (and the worker, embedded)."""
    import uvicorn

    from fahuo.entrypoints.web.app import create_app
    app = get_app()
    app.migrate()
    uvicorn.run(create_app(embedded_worker=worker), host=host or app.settings.host,
                port=port or app.settings.port, log_level="warning")


@cli.command("worker")
def worker_cmd(workers: int = typer.Option(2, help="worker threads")) -> None:
    """Run a task consumer (use with FAHUO_REDIS_URL on several machines)."""
    from huey.consumer import Consumer

    from fahuo.entrypoints.worker import huey
    get_app().migrate()
    Consumer(huey, workers=workers, worker_type="thread", periodic=True).run()


@cli.command()
def sandbox(db: Path = typer.Option(Path(".fahuo/sandbox.db"), help="sandbox SQLite file"),
            host: str = "127.0.0.1", port: int = 8700) -> None:
    """Run the local Douyin open-platform sandbox."""
    from fahuo.sandbox.__main__ import serve as serve_sandbox
    db.parent.mkdir(parents=True, exist_ok=True)
    serve_sandbox(str(db), host, port)


@cli.command()
def demo(port: int = 8600, sandbox_port: int = 8700,
         orders: int = typer.Option(300, help="orders already waiting in the demo shop"),
         rate: float = typer.Option(2.0, help="new orders per second during the demo")) -> None:
    """Sandbox + fahuo on loopback, a demo shop, orders flowing in. Ctrl-C stops all."""
    from fahuo.entrypoints.demo import run_demo
    sys.exit(run_demo(port=port, sandbox_port=sandbox_port, orders=orders, rate=rate))


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli()


if __name__ == "__main__":
    main()
