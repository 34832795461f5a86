"""Run the Alembic migrations in ``migrations/`` programmatically (``classroom-monitor db upgrade``)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from monitor.store.db import DatabaseError, make_engine, normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> str | None:
    """Create or upgrade the database at ``url`` to ``revision``; returns the revision now in place."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # Fail early and clearly on an unreachable or non-database file.
            inspect(conn).get_table_names()
    except OperationalError as exc:
        raise DatabaseError(f"cannot open database {normalise_url(url)}: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open database {normalise_url(url)}: {exc}") from exc
    finally:
        engine.dispose()
    cfg = alembic_config(url)
    command.upgrade(cfg, revision)
    return current_revision(url)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
