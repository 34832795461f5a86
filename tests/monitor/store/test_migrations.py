"""Alembic migrations create exactly the SQLAlchemy schema, and the engine is set up for concurrent use."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from monitor.store import make_engine
from monitor.store.schema import Base


def test_migrations_match_the_schema(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 10000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
