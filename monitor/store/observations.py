"""Named reads of the per-face observations that the reports stream (``monitor.reports.csv_export``).

A session may hold millions of rows: :func:`observation_rows` streams them in partitions through a
server-side cursor where the database has one, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import Observation

BATCH_ROWS = 10_000
"""Rows fetched per round trip (``yield_per``)."""


def observation_rows(
    db: Session, session_id: int, columns: Sequence[str], batch_rows: int = BATCH_ROWS
) -> Iterator[Sequence[tuple]]:
    """A session's observations in time order as partitions of plain tuples ``(ts, *columns)``.

    A generator: nothing is read until the first partition is asked for, so a caller can send its header
    first; the server-side cursor opens in the transaction that reads it. ``columns`` are names of
    ``observations`` columns (``ValueError`` for any other).
    """
    unknown = [c for c in columns if c not in Observation.__mapper__.columns]
    if unknown:
        raise ValueError(f"not observation columns: {', '.join(unknown)}")
    stmt = (
        select(Observation.ts, *(getattr(Observation, name) for name in columns))
        .where(Observation.session_id == session_id)
        # (session_id, ts) is indexed and its entries are in rowid order, so this needs no sort.
        .order_by(Observation.ts, Observation.id)
        .execution_options(yield_per=batch_rows)
    )
    # Core execution on the session's connection: rows come back as tuples, without ORM bookkeeping.
    yield from db.connection().execute(stmt).partitions()


def has_observations(db: Session, session_id: int) -> bool:
    """Whether any observation of the session is left (the retention purge may have deleted them all)."""
    return db.scalar(select(Observation.id).where(Observation.session_id == session_id).limit(1)) is not None
