"""What every CLI command group shares: the consoles, the app and how a command fails."""

from __future__ import annotations

import time
from typing import NoReturn

import typer
from rich.console import Console

from fahuo.bootstrap import get_app

out = Console()
err = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _app():  # noqa: ANN202 - the wired Fahuo
    app = get_app()
    app.migrate()
    return app


def _t(ts: int | None) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(ts)) if ts else "—"
