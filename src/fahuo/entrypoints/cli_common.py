"""What every CLI command group shares: the consoles, the app and how a command fails."""

from __future__ import annotations

import getpass
from typing import NoReturn

import typer
from rich.console import Console

from fahuo.bootstrap import get_app
from fahuo.domain.clock import shop_time

out = Console()
err = Console(stderr=True)
_as: str | None = None  # the global --as NAME of this invocation


def set_actor(name: str | None) -> None:
    global _as
    _as = name


def who() -> str:
    """The name the audit log records for this command: --as NAME, else the OS user."""
    if _as:
        return _as
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "cli"


def _fail(message: str) -> NoReturn:
    err.print(f"[red]错误：[/red]{message}")
    raise typer.Exit(2)


def _app():
    app = get_app()
    app.migrate()
    return app


def _t(ts: int | None) -> str:
    return shop_time(ts, "%m-%d %H:%M")
