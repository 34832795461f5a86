"""Engines and sessions: one place that knows how to open the database well.

SQLite (the default) gets WAL, a busy timeout and foreign keys on every connection; writers take the
write lock up front (``BEGIN IMMEDIATE``) so that several workers on one file wait their turn instead of
failing with "database is locked" when a read transaction tries to upgrade. Commands that only read open
the file read-only, so they work on a read-only file or folder too.

Every new connection checks the schema revision: a database that a newer version has migrated (a revision
this code's ``migrations/`` does not know) is refused with one line, before anything reads or writes it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import default_data_dir

SQLITE_BUSY_TIMEOUT_S = 30.0
READS_ONLY = "classroom_monitor_reads_only"
"""Execution option: this engine's transactions only read (plain ``BEGIN`` on SQLite)."""


class DatabaseError(Exception):
    """A database URL that cannot be used; the message is meant for the user."""


def normalise_url(url: str | Path) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as an SQLite file)."""
    text = str(url)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    return text


def shown_url(url: str | Path) -> str | None:
    """``url`` as shown to a person: a plain path as its SQLite URL, any password hidden; None for text that
    is no database URL."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return None


def error_line(exc: BaseException) -> str:
    """A database error in one line: the driver's own message when there is one, without SQLAlchemy's
    SQL echo and background link."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def sqlite_file(url: str | Path) -> Path | None:
    """The SQLite file a database URL (or plain path) names, ``~`` expanded and not yet resolved; None for
    a server database, an in-memory one, or text that is no database URL. The one parser of SQLite URLs."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def ensure_sqlite_dir(url: str | Path) -> None:
    """Create the folder of the default SQLite file so the first run needs no manual step.

    Only the default folder: a mistyped ``--db`` path should fail loudly, not grow new folders.
    """
    file = sqlite_file(url)
    if file is None:
        return
    parent = file.resolve().parent
    if parent == default_data_dir().resolve():
        parent.mkdir(parents=True, exist_ok=True)


def make_engine(
    url: str | Path,
    *,
    writer: bool = False,
    read_only: bool = False,
    foreign_keys: bool = True,
    pool_pre_ping: bool = True,
) -> Engine:
    """Create an engine.

    ``writer=True`` makes SQLite transactions take the write lock at BEGIN and refuses a read-only SQLite
    file at once. ``read_only=True`` (commands that only read) opens an SQLite file read-only (``mode=ro``,
    which sees what a running worker has written; immutable only in a read-only folder without a ``-wal``
    file); a PostgreSQL session then refuses writes.
    ``foreign_keys=False`` is for migrations only: SQLite's batch mode rebuilds a table with
    ``DROP TABLE``, which would cascade into the child tables.
    """
    text = normalise_url(url)
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {text!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(
            text, parsed.database, writer=writer, read_only=read_only, foreign_keys=foreign_keys
        )
    postgresql = parsed.get_backend_name() == "postgresql"
    connect_args = {"options": "-c default_transaction_read_only=on"} if read_only and postgresql else {}
    try:
        engine = create_engine(text, pool_pre_ping=pool_pre_ping, future=True, connect_args=connect_args)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise DatabaseError(f"cannot use database URL {text!r}: no driver for {parsed.drivername!r}") from exc
    if postgresql:

        @event.listens_for(engine, "connect")
        def _check_revision(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
                revisions: list[str] = []
                if cur.fetchone()[0]:
                    cur.execute("SELECT version_num FROM alembic_version")
                    revisions = [row[0] for row in cur.fetchall()]
            finally:
                cur.close()
                dbapi_conn.rollback()  # end the implicit transaction the queries opened
            try:
                refuse_unknown_revisions(revisions, parsed)
            except DatabaseError:
                dbapi_conn.close()
                raise

    return engine


def refuse_unknown_revisions(revisions: list[str], url: URL) -> None:
    """``DatabaseError`` when the database stands at a schema revision this code's migrations do not know
    (a newer version migrated it): reading it could mislead and writing it could corrupt it."""
    if not revisions:
        return
    from monitor.store.migrate import known_revisions

    if (scripts := known_revisions()) is None:
        return
    known, heads = scripts
    if unknown := [rev for rev in revisions if rev not in known]:
        raise DatabaseError(
            f"database {url.render_as_string(hide_password=True)} is at schema revision {unknown[0]}, "
            f"newer than this version of classroom-monitor knows (up to {', '.join(heads)}): "
            "run the version that migrated it, or a newer one"
        )


def sqlite_read_only_reason(path: Path) -> str | None:
    """Why the SQLite file at ``path`` cannot be written (None: it can), from the kernel's own answer
    (``access(2)`` reports a read-only mount and ``chattr +i`` for root too, who ignores the permission
    bits). Never opens the file: closing a descriptor on it would drop every POSIX lock this process holds
    on it, those of SQLite's open connections included, and another process closing its connection would
    then take this one's WAL away (``disk I/O error`` in a running worker). The folder must take the
    ``-wal`` and ``-shm`` files unless they are there already."""
    if not path.exists():
        return None  # SQLite's own error says it better
    if not _writable(path):
        return "the file is read-only"
    if all(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-shm")):
        return None
    if not _writable(path.parent):
        return "its folder is read-only"
    return None


def _writable(path: Path) -> bool:
    """Whether this process may write ``path`` (a file, or a folder to make files in)."""
    effective = os.access in os.supports_effective_ids
    return os.access(path, os.W_OK, effective_ids=effective)


def _read_only_connector(path: Path) -> Callable[[], sqlite3.Connection]:
    """Open ``path`` read-only with ``mode=ro``: it reads the ``-wal`` of a running writer through its
    ``-shm``. Only where that fails because the folder is read-only (SQLite cannot make the ``-shm`` file)
    and no ``-wal`` file is there is it opened ``immutable=1``: nobody can be writing it then, and nothing
    lies in a WAL that immutable would skip. A ``-wal`` that cannot be read is refused, never skipped."""
    uri = f"file:{quote(str(path))}?mode=ro"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            if _writable(path.parent):
                raise
        if Path(f"{path}-wal").exists():
            raise DatabaseError(
                f"cannot read database {path}: its write-ahead log ({path.name}-wal) needs a "
                f"{path.name}-shm file that cannot be made in its read-only folder (make the folder "
                "writable, or open the database once with write access to fold the log in)"
            )
        return sqlite3.connect(
            f"{uri}&immutable=1", uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False
        )

    return connect


def _sqlite_revisions(dbapi_conn: sqlite3.Connection) -> list[str]:
    has_table = dbapi_conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has_table:
        return []
    return [row[0] for row in dbapi_conn.execute("SELECT version_num FROM alembic_version")]


def _sqlite_engine(
    url: str, database: str | None, *, writer: bool, read_only: bool, foreign_keys: bool
) -> Engine:
    path = None
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser().resolve()
        if not path.parent.is_dir():
            raise DatabaseError(f"folder for the database does not exist: {path.parent}")
        if read_only and not path.is_file():
            raise DatabaseError(
                f"database file {path} does not exist (create it: classroom-monitor db upgrade)"
            )
        if not read_only:
            _create_private(path)
        if writer and (reason := sqlite_read_only_reason(path)):
            raise DatabaseError(f"database {path} is read-only ({reason}): this command needs to write it")
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}}
    if read_only and path is not None:
        options = {"creator": _read_only_connector(path)}
    engine = create_engine(url, **options)
    parsed = make_url(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Take transaction control from pysqlite so BEGIN is ours (see SQLAlchemy's pysqlite notes).
        dbapi_conn.isolation_level = None
        try:
            refuse_unknown_revisions(_sqlite_revisions(dbapi_conn), parsed)
            cur = dbapi_conn.cursor()
            if not read_only:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
        except DatabaseError:
            dbapi_conn.close()
            raise
        except sqlite3.OperationalError:
            if path is not None and (reason := sqlite_read_only_reason(path)):
                dbapi_conn.close()
                raise DatabaseError(f"database {path} is read-only ({reason})") from None
            raise

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # A reader (``read_sessions``) never queues for the write lock: WAL lets it read the last commit.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READS_ONLY) else begin)

    return engine


def _create_private(path: Path) -> None:
    """Create a missing database file readable by its owner only (0600); SQLite gives its -wal and -shm
    files the same mode. An existing file is left as it is."""
    if str(path).startswith("file:"):  # a URI filename (uri=true): SQLite parses it
        return
    # Exists already, or a read-only folder: SQLite's own error on connect says it better.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def migrated_engine(url: str | Path, *, writer: bool = False, read_only: bool = False) -> Engine:
    """An engine on a database that has the schema; ``DatabaseError`` (one line for the user) otherwise."""
    engine = make_engine(url, writer=writer, read_only=read_only)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"cannot open database {shown_url(url)}: {error_line(exc)}") from exc
    if "cameras" not in tables:
        engine.dispose()
        raise DatabaseError("database has no schema yet: run `classroom-monitor db upgrade`")
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def read_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``'s connections for reads only (a worker's polls): on SQLite they open a plain
    (deferred) transaction, so a writer's engine does not make them wait for the write lock."""
    return session_factory(engine.execution_options(**{READS_ONLY: True}))
