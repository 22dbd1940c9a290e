"""Shared fixtures: a fahuo container on SQLite or PostgreSQL, and the sandbox over HTTP."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from support import SandboxAdmin, make_fahuo, need_service, order_payload

from fahuo.bootstrap import configure_logging

configure_logging("INFO")
PG_URL = os.environ.get("FAHUO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FAHUO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# The worker module reads settings at import: keep it off the developer's real data folder.
os.environ.setdefault("FAHUO_DATA_DIR", str(Path(os.environ.get("TMPDIR", "/tmp"))
                                           / f"fahuo-test-{os.getpid()}"))


def _pg_ready() -> str | None:
    try:
        import sqlalchemy as sa
        eng = sa.create_engine(PG_URL)
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0]


@pytest.fixture
def pg_url() -> str:
    problem = _pg_ready()
    if problem:
        need_service("PostgreSQL", problem)
    import sqlalchemy as sa
    schema = f"t_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(sa.text(f'create schema "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    eng = sa.create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(sa.text(f'drop schema "{schema}" cascade'))
    eng.dispose()


@pytest.fixture
def redis_url() -> str:
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        need_service("Redis", str(exc))
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def fahuo_any_db(request, tmp_path):
    """The same test on the embedded default and on a real PostgreSQL server."""
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    app = make_fahuo(tmp_path, url)
    yield app
    app.close()


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path)
    yield app
    app.close()


@pytest.fixture
def sandbox_url(tmp_path):
    from fahuo.sandbox.testing import run_sandbox
    with run_sandbox(str(tmp_path / "sandbox.db")) as url:
        yield url


@pytest.fixture
def make_order():
    return order_payload


@pytest.fixture
def sandbox(sandbox_url):
    admin = SandboxAdmin(sandbox_url)
    yield admin
    admin.http.close()
