"""Alembic environment: run with a connection handed in by ``Store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from vigil.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///vigil.db")
    with engine.begin() as conn:
        _run(conn)
