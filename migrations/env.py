"""Alembic environment: batch mode so every script runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
from collections import Counter

from alembic import context
from sqlalchemy import Connection

from monitor.store.db import DatabaseError, make_engine
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
    """Run the migrations on one connection, on SQLite in one transaction with foreign keys off.

    Batch mode rebuilds an SQLite table (``cameras``, ``users``...) by copying it and dropping the old one;
    with foreign keys on, that ``DROP TABLE`` deletes every child row through ``ON DELETE CASCADE``
    (sessions, observations, teacher-camera assignments). ``PRAGMA foreign_keys`` is a no-op inside a
    transaction, so the engine sets it as each connection opens; ``foreign_key_check`` then proves the
    result consistent before the transaction commits.
    """
    engine = make_engine(config.get_main_option("sqlalchemy.url"), writer=True, foreign_keys=False)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                # SQLite's DDL is transactional: a failed step leaves the database as it was.
                transactional_ddl=True if sqlite else None,
            )
            with context.begin_transaction():
                if sqlite:
                    _refuse_foreign_keys_on(connection)
                    before = _dangling_rows(connection)
                context.run_migrations()
                if sqlite:
                    _refuse_new_dangling_rows(connection, before)
    finally:
        engine.dispose()


def _refuse_foreign_keys_on(connection: Connection) -> None:
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise DatabaseError("foreign keys are on for the migration connection: a table rebuild would cascade")


def _dangling_rows(connection: Connection) -> Counter[tuple[str, str]]:
    """How many rows of each (table, parent table) have a foreign key that points at no row."""
    return Counter(
        (table, parent) for table, _, parent, _ in connection.exec_driver_sql("PRAGMA foreign_key_check")
    )


def _refuse_new_dangling_rows(connection: Connection, before: Counter[tuple[str, str]]) -> None:
    """Roll the migration back if it left rows pointing at missing parents; rows that did so before it
    (a file written with foreign keys off) are only reported. Counted per table: rebuilds renumber rows."""
    after = _dangling_rows(connection)
    if new := sorted((after - before).items()):
        (table, parent), count = new[0]
        raise DatabaseError(
            f"migration left {(after - before).total()} more rows pointing at missing parents "
            f"(first: {count} in {table} -> {parent}); the database was not changed"
        )
    if after:
        log.warning(
            "%d rows pointed at missing parents before this migration: %s", after.total(), dict(after)
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
