"""Alembic environment: fahuo passes its own connection in (see fahuo.adapters.store.migrate)."""

from alembic import context
from sqlalchemy import create_engine

from fahuo.adapters.store.models import metadata

config = context.config


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as conn:
            _migrate(conn)
    else:
        _migrate(conn)


def _migrate(conn) -> None:
    # One transaction per migration: a migration may build an index outside its transaction
    # (``migrate.create_index``), which commits the migrations before it.
    context.configure(connection=conn, target_metadata=metadata,
                      render_as_batch=conn.dialect.name == "sqlite",
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


run()
