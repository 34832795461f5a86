"""CSV: one row per stored observation, streamed from the database in batches so memory stays flat."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import PROB_COLUMNS, ClassSession, Observation

BATCH_ROWS = 10_000
"""Rows fetched per round trip (``yield_per``: a server-side cursor where the database has one)."""

EMOTION_COLUMNS: tuple[str, ...] = ("top_label", "confidence", *PROB_COLUMNS)


def csv_columns(mode: str) -> list[str]:
    """Header of the CSV of a session in ``mode`` (attention-only sessions have no emotion columns)."""
    emotion = list(EMOTION_COLUMNS) if mode == "emotion" else []
    return ["timestamp", "frame_index", "track_id", *emotion, "attention"]


def iter_csv(db: Session, session_id: int, batch_rows: int = BATCH_ROWS) -> Iterator[bytes]:
    """Yield the session's CSV (UTF-8, header first) in chunks of about ``batch_rows`` rows."""
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise LookupError(f"no session {session_id}")
    header = csv_columns(cs.mode)
    cols = [getattr(Observation, name) for name in header[1:]]
    stmt = (
        select(Observation.ts, *cols)
        .where(Observation.session_id == session_id)
        # (session_id, ts) is indexed and its entries are in rowid order, so this needs no sort.
        .order_by(Observation.ts, Observation.id)
        .execution_options(yield_per=batch_rows)
    )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    yield buf.getvalue().encode()
    # Core execution on the session's connection: rows come back as tuples, without ORM bookkeeping.
    for part in db.connection().execute(stmt).partitions():
        buf.seek(0)
        buf.truncate()
        # Floats are written with repr(), so every value reads back exactly as stored.
        writer.writerows((row[0].isoformat(timespec="milliseconds"), *row[1:]) for row in part)
        yield buf.getvalue().encode()
