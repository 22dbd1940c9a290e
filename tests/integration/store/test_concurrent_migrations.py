"""Processes that start together on a new schema all migrate it, one after another; indexes on
big tables are built on PostgreSQL without blocking writes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from fahuo.adapters.store import models as m
from fahuo.adapters.store.db import make_engine
from fahuo.adapters.store.migrate import alembic_config, upgrade

START = """
import sys, time
from fahuo.adapters.store.db import make_engine
from fahuo.adapters.store.migrate import upgrade
engine = make_engine(sys.argv[1])
start = float(sys.argv[2])
while time.time() < start:  # all three begin at the same moment
    time.sleep(0.002)
upgrade(engine)
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    return (f"sqlite:///{tmp_path / 'fahuo.db'}" if request.param == "sqlite"
            else request.getfixturevalue("pg_url"))


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_three_processes_migrating_a_new_schema_at_once_all_succeed(url):
    start = time.time() + 2.5  # after every interpreter has imported fahuo
    procs = [subprocess.Popen([sys.executable, "-c", START, url, str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
             for _ in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, results):
        assert p.returncode == 0, err.decode()[-2000:]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select version_num from alembic_version")
                                ).scalars().all() == [_head()]
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, m.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_big_table_indexes_are_built_concurrently_and_a_broken_one_again(pg_url):
    from alembic import command
    engine = make_engine(pg_url)
    try:
        cfg = alembic_config()
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0012")
            conn.commit()
        with engine.begin() as conn:  # as a build a crash cut short leaves it: invalid
            conn.execute(sa.text("create index ix_orders_state_deadline on orders (state)"))
            conn.execute(sa.text(
                "update pg_index set indisvalid = false where indexrelid = "
                "(select oid from pg_class where relname = 'ix_orders_state_deadline' "
                "and relnamespace = current_schema()::regnamespace)"))
        seen: list[str] = []
        sa.event.listen(engine, "before_cursor_execute",
                        lambda *a: seen.append(" ".join(a[2].split())))
        upgrade(engine)
        big = (" ON orders ", " ON sub_orders ", " ON packs ")  # new tables are empty: plain
        built = [s for s in seen if s.startswith("CREATE INDEX") and any(t in s for t in big)]
        # every index on a big table is built without blocking writes, the broken one again
        assert built and all(s.startswith("CREATE INDEX CONCURRENTLY") for s in built), built
        assert {"CREATE INDEX CONCURRENTLY ix_orders_state_deadline ON orders "
                "(state, exp_ship_time, order_id)",
                "CREATE INDEX CONCURRENTLY ix_sub_orders_after_sale ON sub_orders "
                "(after_sale_status)"} <= set(built)
        assert "DROP INDEX CONCURRENTLY IF EXISTS \"ix_orders_state_deadline\"" in seen
        with engine.connect() as conn:
            assert conn.execute(sa.text(
                "select bool_and(i.indisvalid) from pg_index i join pg_class c "
                "on c.oid = i.indexrelid where c.relnamespace = current_schema()::regnamespace"
            )).scalar() is True
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, m.metadata) == []
    finally:
        engine.dispose()
