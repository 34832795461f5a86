"""Database access for the dashboard: one read session per request, short write transactions.

Reads use a plain engine; writes (audit rows, settings, assignments) go through a second engine whose
SQLite transactions take the write lock at BEGIN, so they wait for a busy worker instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.db import make_engine, normalise_url, session_factory
from monitor.store.schema import AuditLog


class Database:
    """The two engines and their session factories (usable outside a request, e.g. by the live poller)."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.read_engine = make_engine(url)
        self.write_engine = make_engine(url, writer=True)
        self.reader: sessionmaker[Session] = session_factory(self.read_engine)
        self._writer: sessionmaker[Session] = session_factory(self.write_engine)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._writer.begin() as db:
            yield db

    def dispose(self) -> None:
        self.read_engine.dispose()
        self.write_engine.dispose()


def init_app(app: Flask, url: str) -> None:
    app.extensions["monitor_db"] = Database(url)
    app.teardown_appcontext(close_db)


def database() -> Database:
    return current_app.extensions["monitor_db"]


def get_db() -> Session:
    """The read session of this request (closed at teardown)."""
    if "db" not in g:
        g.db = database().reader()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@contextmanager
def write_db() -> Iterator[Session]:
    with database().write() as db:
        yield db


def audit(actor: str | None, action: str, detail: str | None = None) -> None:
    """Append one audit_log row in its own short transaction."""
    with write_db() as db:
        db.add(AuditLog(actor=actor, action=action, detail=detail))
