"""CSV: one row per stored observation, exactly as stored, streamed in chunks."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from monitor.reports import render
from monitor.reports.csv_export import csv_columns, iter_csv
from monitor.store import make_engine, session_factory
from monitor.store.schema import PROB_COLUMNS, ClassSession, Observation

from .helpers import emotion_words


def _csv(chunks) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))


def assert_csv_matches_database(db, session_id: int) -> None:
    cs = db.get(ClassSession, session_id)
    header = csv_columns(cs.mode)
    text = b"".join(render(db, session_id, "csv")).decode()
    assert text.splitlines()[0] == ",".join([header[0], "school_time", *header[1:]])
    rows = list(csv.DictReader(io.StringIO(text)))
    stored = db.scalars(
        select(Observation)
        .where(Observation.session_id == session_id)
        .order_by(Observation.ts, Observation.id)
    ).all()
    assert len(rows) == len(stored) > 0
    for row, obs in zip(rows, stored, strict=True):
        assert row["timestamp"] == obs.ts.isoformat(timespec="milliseconds")
        # The school's clock (UTC here, the site default), as spreadsheets read a date-time.
        ms = f"{obs.ts.microsecond // 1000:03d}"
        assert row["school_time"] == obs.ts.strftime("%Y-%m-%d %H:%M:%S.") + ms
        assert int(row["frame_index"]) == obs.frame_index
        assert int(row["track_id"]) == obs.track_id
        assert float(row["attention"]) == round(obs.attention, 4)
        for name in header[3:-1]:
            value = getattr(obs, name)
            if value is None:
                assert row[name] == ""
            elif name == "top_label":
                assert row[name] == value
            else:  # shares and probabilities rounded to 4 decimals, not 17 digits
                assert float(row[name]) == round(value, 4)
                assert len(row[name].partition(".")[2]) <= 4


def test_csv_rows_equal_the_database_rows(db, seeded):
    assert_csv_matches_database(db, seeded.ended)


def test_csv_timestamps_are_iso_8601_with_milliseconds_and_offset(db, seeded):
    rows = _csv(render(db, seeded.ended, "csv"))
    second_frame = next(r for r in rows if r["frame_index"] == "1")
    assert second_frame["timestamp"] == "2026-11-20T09:00:00.500+00:00"


def test_csv_is_streamed_in_chunks(db, seeded):
    n = db.get(ClassSession, seeded.ended).faces
    chunks = list(iter_csv(db, seeded.ended, batch_rows=1000))
    assert len(chunks) == 1 + -(-n // 1000)  # header, then one chunk per batch
    assert len(_csv(chunks)) == n


def test_attention_only_csv_has_no_emotion_columns(db, seeded):
    text = b"".join(render(db, seeded.attention, "csv")).decode()
    assert text.splitlines()[0] == "timestamp,school_time,frame_index,track_id,attention,posture"
    assert not emotion_words(text)
    assert_csv_matches_database(db, seeded.attention)


def test_running_session_exports_what_is_stored_so_far(db, seeded):
    rows = _csv(render(db, seeded.running, "csv"))
    assert len(rows) == db.get(ClassSession, seeded.running).faces
    assert not set(PROB_COLUMNS) - set(rows[0])


@pytest.mark.slow
def test_csv_of_a_real_worker_session_equals_the_database(recorded_session):
    db_url, session_id = recorded_session
    with session_factory(make_engine(db_url))() as db:
        assert_csv_matches_database(db, session_id)
