"""`fahuo` command line."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import TaskID, BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fahuo.bootstrap import get_app
from fahuo.domain.clock import shop_time
from fahuo.entrypoints.cli_common import _fail, err, out, set_actor, who

cli = typer.Typer(help="fahuo 发货: shipping automation for Douyin shops.", no_args_is_help=True)
shop_cli = typer.Typer(help="Connected shops.", no_args_is_help=True)
orders_cli = typer.Typer(help="Orders in the store.", no_args_is_help=True)
cli.add_typer(shop_cli, name="shop")
cli.add_typer(orders_cli, name="orders")
pipeline_cli = typer.Typer(help="The auto-ship pipeline.", no_args_is_help=True)
waybills_cli = typer.Typer(help="E-waybill accounts.", no_args_is_help=True)
cli.add_typer(pipeline_cli, name="pipeline")
cli.add_typer(waybills_cli, name="waybills")


@cli.callback()
def _everyone(as_: Optional[str] = typer.Option(
        None, "--as", metavar="NAME",
        help="the name the audit log records for what this command does (default: the OS "
             "user)")) -> None:
    if as_ is not None and not as_.strip():
        _fail("--as needs a name")
    set_actor(as_.strip() if as_ else None)


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
    out.print(f"shop {shop_id} added as #{ref}")
    if auth == "oauth" and not code:
        out.print("tool app: authorise it at the Douyin service market, then run "
                  f"`fahuo shop authorize --shop {ref} --code …`, or have an admin press "
                  "the shop page's authorise button (its redirect comes back to "
                  "/oauth/doudian/callback)")
    if connect and (auth == "self" or code):
        with app.uow() as uow:
            shop = uow.shops.require(ref)
        try:
            shop_name = connect_shop(app.platform_for(shop), app.uow, ref, code=code)
        except Exception as exc:  # noqa: BLE001 - shown to the merchant as is
            _fail(f"shop saved, but getting a token failed: {exc}")
        out.print(f"token ok: {shop_name or shop_id}")


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
        _fail(f"no shop #{shop}")
    try:
        name = connect_shop(app.platform_for(record), app.uow, shop, code=code)
    except Exception as exc:  # noqa: BLE001 - the platform's words
        _fail(f"authorisation failed: {exc}")
    out.print(f"token ok: {name or record.shop_id}")


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

            def progress(done: int, expected: int, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=max(done, expected))

            try:
                r = app.order_sync.run_recording_failure(s.id, app.platform_for(s),
                                                         progress=progress)
            except Exception as exc:  # noqa: BLE001 - reported per shop, others go on
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
                  shop_time(r["exp_ship_time"], "%m-%d %H:%M")
                  if r["exp_ship_time"] else "—",
                  f"{r['receiver_name_mask']} {r['receiver_phone_mask']}",
                  f"{r['province']}{r['city']}")
    out.print(t)
    out.print(f"{total} orders")


def _order_ids(values: list[str]) -> list[str]:
    ids = [x.strip() for v in values for x in v.split(",") if x.strip()]
    bad = [x for x in ids if not x.isdigit()]
    if bad:
        _fail(f"not Douyin order ids: {', '.join(bad)}")
    if not ids:
        _fail("name at least one order id")
    return ids


@orders_cli.command("hold")
def orders_hold(order_ids: list[str] = typer.Argument(..., help="order ids (space or comma)"),
                note: str = typer.Option(..., help="why (shown to whoever releases it)")) -> None:
    """Hold orders: the pipeline leaves them alone until released."""
    from fahuo.services.holds import hold_orders
    app = get_app()
    app.migrate()
    try:
        res = hold_orders(app.uow, _order_ids(order_ids), note, actor=who())
    except ValueError as exc:
        _fail(str(exc))
    out.print(f"held {len(res.changed)}")
    for oid, why in res.refused.items():
        err.print(f"[yellow]{oid}[/yellow]: {why}")
    if res.refused:
        raise typer.Exit(1)


@orders_cli.command("release")
def orders_release(order_ids: list[str] = typer.Argument(...),
                   note: str = typer.Option("", help="optional note for the log")) -> None:
    """Release held orders back into the pipeline."""
    from fahuo.services.holds import release_orders
    app = get_app()
    app.migrate()
    res = release_orders(app.uow, _order_ids(order_ids), actor=who(), note=note)
    out.print(f"released {len(res.changed)}")
    for oid, why in res.refused.items():
        err.print(f"[yellow]{oid}[/yellow]: {why}")
    if res.refused:
        raise typer.Exit(1)


@orders_cli.command("holds")
def orders_holds(limit: int = 50) -> None:
    """Held orders with their reasons, deadline first."""
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        rows = uow.pipeline.held_orders(limit=limit)
    t = Table("order", "deadline", "reasons")
    for r in rows:
        t.add_row(r["order_id"], shop_time(r["exp_ship_time"], "%m-%d %H:%M")
                  if r["exp_ship_time"] else "—",
                  "; ".join(f"{h['reason']}: {h['detail']}" for h in r["holds"]))
    out.print(t)


@pipeline_cli.command("run")
def pipeline_run(loop: bool = typer.Option(False, help="keep running until nothing moves")
                 ) -> None:
    """Audit → packs and courier → e-waybills → confirm shipment, deadline first."""
    from fahuo.services.ports import LeaseHeld
    app = get_app()
    app.migrate()
    pipe = app.pipeline()
    while True:
        try:
            rep = pipe.run()
        except LeaseHeld:  # a worker, the console or another command is running a pass
            err.print("[yellow]另一轮发货正在进行，请稍后[/yellow]")
            raise typer.Exit(1) from None
        t = Table("step", "seen", "done", "held", "failed", "API calls")
        for step, v in rep.summary().items():
            t.add_row(step, *(str(v[k]) for k in ("seen", "done", "held", "failed", "calls")))
        out.print(t)
        if not loop or not any(v["done"] for v in rep.summary().values()):
            break


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
                err.print(f"[red]shop #{ref}: {exc}[/red]")
    t = Table("shop", "courier", "branch", "balance", "")
    for r in balances(app.uow, shop):
        t.add_row(str(r["shop_ref"]), r["courier_code"], r["netsite_name"] or r["netsite_code"],
                  "?" if r["balance"] is None else str(r["balance"]),
                  "[red]LOW[/red]" if r["low"] else "")
    out.print(t)


@shop_cli.command("settings")
def shop_settings(shop: int = typer.Option(..., help="shop #"),
                  set_: list[str] = typer.Option([], "--set", help="key=value (JSON values ok)"),
                  file: Optional[Path] = typer.Option(None, help="a JSON file of settings")
                  ) -> None:
    """Show or change a shop's settings (courier rules, audit rules, confirm mode…)."""
    from fahuo.services.settings import SettingsError, update_settings
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
            _fail(f"--set needs key=value, got {item!r}")
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
            cfg = uow.settings.get(shop)
    cfg.pop("sender_phone", None)
    print(json.dumps(cfg, ensure_ascii=False, indent=2, default=str))


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
    out.print(f"{got['addresses']} addresses, {got['netsites']} e-waybill branches")


@cli.command()
def ship(orders: list[str] = typer.Option([], "--orders", help="order ids to ship now"),
         import_file: Optional[Path] = typer.Option(None, "--import",
                                                    help=".xlsx/.csv with 订单号/快递公司/快递单号"),
         dry_run: bool = typer.Option(False, "--dry-run", help="check the file, change nothing")
         ) -> None:
    """Batch ship orders that have numbers, or import tracking numbers from a file."""
    from fahuo.services.manual_ship import (
        ImportFileError, apply_import, preview_import, ship_selected,
    )
    from fahuo.services.uploads import UploadLimits, UploadRefused, check_size
    app = get_app()
    app.migrate()
    limits = UploadLimits.from_settings(app.settings)
    if bool(orders) == bool(import_file):
        _fail("give either --orders or --import FILE")
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=out, transient=True) as bar:
        task = bar.add_task("shipping", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            if import_file:
                check_size(import_file.name, import_file.stat().st_size, limits)
                data = import_file.read_bytes()
                if dry_run:
                    prev = preview_import(app.uow, import_file.name, data, limits)
                    rows = [{"line_no": r.line_no, "order_id": r.order_id, "status": r.status,
                             "courier_code": r.courier_code, "track_no": r.track_no,
                             "message": r.message} for r in prev.rows]
                    job: dict[str, Any] = {"id": None, "status": "preview", "items": rows}
                else:
                    job = apply_import(app.uow, app.platform_for, import_file.name, data,
                                       actor=who(), progress=progress, limits=limits)
            else:
                job = ship_selected(app.uow, app.platform_for, _order_ids(orders), actor=who(),
                                    progress=progress)
        except (ImportFileError, UploadRefused, OSError) as exc:
            _fail(str(exc))
    t = Table("line", "order", "courier", "number", "result", "why")
    for it in job["items"]:
        t.add_row(str(it["line_no"]), it["order_id"], it.get("courier_code", ""),
                  it.get("track_no", ""), it["status"], it.get("message", ""))
    out.print(t)
    counts: dict[str, int] = {}
    for it in job["items"]:
        counts[it["status"]] = counts.get(it["status"], 0) + 1
    out.print(("preview — nothing applied: " if job["status"] == "preview" else
               f"job #{job['id']}: ") + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if any(it["status"] in ("invalid", "failed") for it in job["items"]):
        raise typer.Exit(1)


@cli.command("scan")
def scan_cmd(codes: list[str] = typer.Argument(..., help="scanned tracking numbers")) -> None:
    """Scan-to-ship: confirm each parcel, or stop it if the buyer asked for a refund."""
    from fahuo.services.scan import scan
    app = get_app()
    app.migrate()
    stopped = False
    for code in codes:
        r = scan(app.uow, app.platform_for, code, actor=who())
        colour = "green" if r.ok else "bold red"
        out.print(f"[{colour}]{code}: {r.message}[/{colour}]")
        stopped |= not r.ok
    if stopped:
        raise typer.Exit(1)


print_cli = typer.Typer(help="Labels and documents, in batches, with print records.",
                        no_args_is_help=True)
cli.add_typer(print_cli, name="print")


@print_cli.command("labels")
def print_labels_cmd(
    packs: list[int] = typer.Option([], "--pack", help="pack #s (default: all waiting)"),
    batch: Optional[int] = typer.Option(None, help="an earlier batch # again (reprint)"),
    fmt: str = typer.Option("pdf", "--format", help="pdf or zpl"),
    size: str = typer.Option("76x130", help="76x130, 100x150, 100x180 or 4x6"),
    order_by: str = typer.Option("deadline", help="deadline or route (pick order)"),
    dpi: int = typer.Option(203, help="ZPL printer resolution: 203 or 300"),
    printer: str = typer.Option("", help="printer name, for the print record"),
    reason: str = typer.Option("", help="why, when reprinting"),
    out_file: Optional[Path] = typer.Option(None, "--out", help="copy the file here"),
    plain_receiver: bool = typer.Option(
        False, help="print the receiver in plain text where the shop's policy allows it "
                    "(the server's operator holds the keys; default masked)"),
) -> None:
    """Print waybill labels for a batch of packs."""
    from fahuo.services.printing import PrintError, print_labels
    app = get_app()
    app.migrate()
    packs = packs or _batch_packs(batch)
    try:
        r = print_labels(app.uow, packs or None, fmt=fmt, size=size, order_by=order_by,
                         actor=who(), printer=printer, reason=reason, dpi=dpi,
                         out_dir=app.settings.data_dir / "prints",
                         may_see_receiver=plain_receiver,
                         plain_keep_s=app.settings.plain_label_keep_s)
    except PrintError as exc:
        _fail(str(exc))
    if out_file:
        out_file.write_bytes(r.path.read_bytes())
    flag = (" — already printed: the same file again, nothing recorded" if r.already_printed
            else " (reprint)" if r.reprint else "")
    out.print(f"batch #{r.batch_id}: {r.packs} labels → {out_file or r.path}{flag}")


def _batch_packs(batch: Optional[int]) -> list[int]:
    if batch is None:
        return []
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        found = uow.prints.batch(batch)
    if found is None:
        _fail(f"no print batch #{batch}")
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


@cli.command()
def serve(host: Optional[str] = None, port: Optional[int] = None,
          worker: bool = typer.Option(True, help="run the task consumer in this process")) -> None:
    """Run the web console, API and push webhook (and the worker, embedded)."""
    import uvicorn

    from fahuo.entrypoints.web.app import create_app
    app = get_app()
    app.migrate()
    # SIGTERM stops within 10 s whatever is running: open requests get 3 s, the embedded
    # consumer 3 s (see EmbeddedConsumer), threads still busy after that 2 s more.
    uvicorn.run(create_app(embedded_worker=worker), host=host or app.settings.host,
                port=port or app.settings.port, log_level="warning",
                timeout_graceful_shutdown=3)
    _exit_despite_busy_threads(2.0)


def _exit_despite_busy_threads(grace_s: float) -> None:
    """After the server stopped: a thread-pool thread still inside a long call (an import
    confirming row by row, a stuck socket) would keep the interpreter from exiting."""
    import threading
    deadline = time.monotonic() + grace_s
    for t in threading.enumerate():
        if t is not threading.current_thread() and not t.daemon:
            t.join(max(0.0, deadline - time.monotonic()))
    busy = [t.name for t in threading.enumerate()
            if t is not threading.current_thread() and not t.daemon and t.is_alive()]
    if busy:
        err.print(f"stopping with work still running in: {', '.join(busy)}")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


@cli.command("worker")
def worker_cmd(workers: int = typer.Option(2, help="worker threads"),
               periodic: bool = typer.Option(
                   True, help="stand for scheduler: the one worker holding the scheduler "
                              "lease enqueues the periodic tasks; --no-periodic never does")
               ) -> None:
    """Run a task consumer (use with FAHUO_REDIS_URL on several machines)."""
    from fahuo.entrypoints.worker import FahuoConsumer, huey
    get_app().migrate()
    FahuoConsumer(huey, workers=workers, worker_type="thread", periodic=periodic).run()


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


from fahuo.entrypoints import cli_stock, cli_tracking, cli_users  # noqa: E402 - they join
from fahuo.entrypoints import cli_reservations  # noqa: E402,F401 - adds to `fahuo stock`

cli_tracking.register(cli)
cli_users.register(cli)
cli_stock.register(cli)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli()


if __name__ == "__main__":
    main()
