"""Fixtures for driving fahuo's command line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fahuo.bootstrap import set_app
from fahuo.entrypoints.cli import cli


@pytest.fixture
def run(fahuo):
    """``run(*args)``: the CLI against this test's fahuo, in a wide terminal."""
    set_app(fahuo)
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args), env={"COLUMNS": "250"})
    set_app(None)
