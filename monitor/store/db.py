"""Engines and sessions: one place that knows how to open the database well.

SQLite (the default) gets WAL, a busy timeout and foreign keys on every connection; writers take the
write lock up front (``BEGIN IMMEDIATE``) so that several workers on one file wait their turn instead of
failing with "database is locked" when a read transaction tries to upgrade.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30.0


class DatabaseError(Exception):
    """A database URL that cannot be used; the message is meant for the user."""


def normalise_url(url: str | Path) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as an SQLite file)."""
    text = str(url)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    return text


def make_engine(url: str | Path, *, writer: bool = False, pool_pre_ping: bool = True) -> Engine:
    """Create an engine; ``writer=True`` makes SQLite transactions take the write lock at BEGIN."""
    text = normalise_url(url)
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {text!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(text, parsed.database, writer=writer)
    try:
        return create_engine(text, pool_pre_ping=pool_pre_ping, future=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseError(f"cannot use database URL {text!r}: no driver for {parsed.drivername!r}") from exc


def _sqlite_engine(url: str, database: str | None, *, writer: bool) -> Engine:
    if database and database != ":memory:":
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise DatabaseError(f"folder for the database does not exist: {parent}")
        _create_private(Path(database).expanduser())
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Take transaction control from pysqlite so BEGIN is ours (see SQLAlchemy's pysqlite notes).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _create_private(path: Path) -> None:
    """Create a missing database file readable by its owner only (0600); SQLite gives its -wal and -shm
    files the same mode. An existing file is left as it is."""
    if str(path).startswith("file:"):  # a URI filename (uri=true): SQLite parses it
        return
    # Exists already, or a read-only folder: SQLite's own error on connect says it better.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def migrated_engine(url: str | Path, *, writer: bool = False) -> Engine:
    """An engine on a database that has the schema; ``DatabaseError`` (one line for the user) otherwise."""
    engine = make_engine(url, writer=writer)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"cannot open database {normalise_url(url)}: {exc}") from exc
    if "cameras" not in tables:
        engine.dispose()
        raise DatabaseError("database has no schema yet: run `classroom-monitor db upgrade`")
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
