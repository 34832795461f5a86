"""Alembic environment: batch mode so every script runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging

from alembic import context

from monitor.store.db import make_engine
from monitor.store.schema import Base

config = context.config
target_metadata = Base.metadata
log = logging.getLogger("alembic.runtime.migration")


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
