"""`fahuo` command line."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.progress import TaskID, BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fahuo.bootstrap import get_app
from fahuo.entrypoints.cli_common import _fail, err, out, set_actor

cli = typer.Typer(help="fahuo 发货: shipping automation for Douyin shops.", no_args_is_help=True)


@cli.callback()
def _everyone(as_: Optional[str] = typer.Option(
        None, "--as", metavar="NAME",
        help="the name the audit log records for what this command does (default: the OS "
             "user)")) -> None:
    if as_ is not None and not as_.strip():
        _fail("--as 需要一个名字")
    set_actor(as_.strip() if as_ else None)


@cli.command()
def init() -> None:
    """Create the data folder, the install key and the database schema."""
    app = get_app()
    app.migrate()
    app.box  # creates the key file on first use  # noqa: B018
    out.print(f"fahuo 已就绪：数据库 {app.settings.db_url.split('@')[-1]}，"
              f"数据目录 {app.settings.data_dir}")


@cli.command()
def sync(shop: Optional[int] = typer.Option(None, help="shop # (default: all shops)"),
         quiet: bool = typer.Option(False, help="no progress bar")) -> None:
    """Pull new and changed orders from the platform now."""
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        shops = [s for s in uow.shops.list(enabled_only=True) if shop in (None, s.id)]
    if not shops:
        _fail(f"没有店铺 #{shop}" if shop else "还没有店铺：请先运行 `fahuo shop add`")
    failed = False
    for s in shops:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=out, disable=quiet) as bar:
            task = bar.add_task(f"店铺 {s.shop_name or s.shop_id}", total=None)

            def progress(done: int, expected: int, task: TaskID = task) -> None:
                bar.update(task, completed=done, total=max(done, expected))

            try:
                r = app.order_sync.run_recording_failure(s.id, app.platform_for(s),
                                                         progress=progress)
            except Exception as exc:  # noqa: BLE001 - reported per shop, others go on
                err.print(f"[red]店铺 {s.shop_id}：{exc}[/red]")
                failed = True
                continue
        out.print(f"店铺 {s.shop_id}：读到 {r.orders_seen} 个订单，新增 {r.inserted} 个，"
                  f"更新 {r.updated} 个，过期 {r.stale} 个，共 {r.pages} 页，"
                  f"用时 {r.seconds:.1f} 秒")
    if failed:
        raise typer.Exit(1)

@cli.command()
def serve(host: Optional[str] = None, port: Optional[int] = None,
          worker: bool = typer.Option(True, help="run the task consumer in this process")) -> None:
    """Run the web console, API and push webhook (and the worker, embedded)."""
    import uvicorn

    from fahuo.entrypoints.ports import CONSOLE, PORT_BUSY_EXIT, SERVE_HINT, PortBusy, bind_port
    from fahuo.entrypoints.web.app import create_app
    app = get_app()
    host, port = host or app.settings.host, port or app.settings.port
    try:  # bound before the migration and the worker: a busy port is one clear message
        sock = bind_port(port, CONSOLE, host)
    except PortBusy as busy:
        err.print(busy.message(SERVE_HINT), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(PORT_BUSY_EXIT) from None
    app.migrate()
    # SIGTERM stops within 10 s whatever is running: open requests get 3 s, the embedded
    # consumer 3 s (see EmbeddedConsumer), threads still busy after that 2 s more.
    uvicorn.Server(uvicorn.Config(create_app(embedded_worker=worker), log_level="warning",
                                  timeout_graceful_shutdown=3)).run(sockets=[sock])
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
        err.print(f"停止时仍有任务在运行：{', '.join(busy)}")
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
            host: str = "127.0.0.1",
            port: int = typer.Option(8700, envvar="FAHUO_SANDBOX_PORT")) -> None:
    """Run the local Douyin open-platform sandbox."""
    from fahuo.sandbox.__main__ import serve as serve_sandbox
    db.parent.mkdir(parents=True, exist_ok=True)
    serve_sandbox(str(db), host, port)


@cli.command()
def demo(port: int = typer.Option(8600, envvar="FAHUO_PORT", help="the console's port"),
         sandbox_port: int = typer.Option(8700, envvar="FAHUO_SANDBOX_PORT",
                                          help="the sandbox's port"),
         orders: int = typer.Option(300, help="orders already waiting in the demo shop"),
         rate: float = typer.Option(2.0, help="new orders per second during the demo")) -> None:
    """Sandbox + fahuo on loopback, a demo shop, orders flowing in. Ctrl-C stops all."""
    from fahuo.entrypoints.demo import exit_now, run_demo
    exit_now(run_demo(port=port, sandbox_port=sandbox_port, orders=orders, rate=rate))


from fahuo.entrypoints import (  # noqa: E402 - the command groups join the root command
    cli_handover, cli_orders, cli_print, cli_report, cli_shops, cli_stock, cli_tracking,
    cli_users,
)
from fahuo.entrypoints import cli_reservations  # noqa: E402,F401 - adds to `fahuo stock`

for group in (cli_shops, cli_orders, cli_print, cli_handover, cli_tracking, cli_users,
              cli_stock, cli_report):
    group.register(cli)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli()


if __name__ == "__main__":
    main()
