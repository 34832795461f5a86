"""Run the Alembic migrations in ``migrations/`` programmatically (``classroom-monitor db upgrade``)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from monitor.store.db import DatabaseError, error_line, make_engine, normalise_url, shown_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


@functools.cache
def known_revisions() -> tuple[frozenset[str], tuple[str, ...]] | None:
    """(every revision in ``migrations/versions``, the head revisions): what this code can open; None
    where the scripts are not beside the code (an install without them cannot migrate either)."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        return None
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    return frozenset(rev.revision for rev in script.walk_revisions()), tuple(script.get_heads())


def upgrade(url: str, revision: str = "head") -> str | None:
    """Create or upgrade the database at ``url`` to ``revision``; returns the revision now in place."""
    return _migrate(url, revision, command.upgrade)


def downgrade(url: str, revision: str) -> str | None:
    """Take the database at ``url`` back to ``revision`` (its data kept where the older schema has a place
    for it); returns the revision now in place."""
    return _migrate(url, revision, command.downgrade)


def _migrate(url: str, revision: str, step) -> str | None:
    # writer=True: a read-only SQLite file is refused here with one line; so is a database at a
    # revision this code does not know (make_engine checks it on connect).
    engine = make_engine(url, writer=True)
    try:
        with engine.connect() as conn:
            # Fail early and clearly on an unreachable or non-database file.
            inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot open database {shown_url(url)}: {error_line(exc)}") from exc
    finally:
        engine.dispose()
    try:
        step(alembic_config(url), revision)
    except CommandError as exc:
        raise DatabaseError(f"cannot migrate database {shown_url(url)} to {revision!r}: {exc}") from exc
    return current_revision(url)


def current_revision(url: str) -> str | None:
    """The revision the database stands at (None: not created); opens it read-only."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
