"""The named reads the reports and the dashboard use instead of queries of their own (issue 22): the CSV's
row stream and a bulk export's lessons (monitor.store), the sessions list (monitor.views.sessions), on the
seeded database the report tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.store.lesson_stats import lesson_ids
from monitor.store.observations import has_observations, observation_rows
from monitor.store.schema import Camera, ClassSession, Observation
from monitor.views.audience import Audience
from monitor.views.sessions import session_list


def test_observation_rows_stream_time_ordered_tuples_of_the_asked_columns(db, seeded) -> None:
    parts = list(observation_rows(db, seeded.ended, ["track_id", "attention"], batch_rows=500))
    rows = [r for part in parts for r in part]
    stored = db.query(Observation).filter_by(session_id=seeded.ended).order_by(Observation.ts, Observation.id)
    assert [tuple(r) for r in rows] == [(o.ts, o.track_id, o.attention) for o in stored]
    assert len(parts) > 1 and all(len(p) <= 500 for p in parts)  # read in batches, not all at once


def test_observation_rows_read_nothing_until_asked_and_refuse_unknown_columns(db, seeded) -> None:
    lazy = observation_rows(db, seeded.ended, ["no_such_column"])  # a generator: nothing checked or read yet
    with pytest.raises(ValueError, match="not observation columns: no_such_column"):
        next(lazy)


def test_has_observations(db, seeded) -> None:
    assert has_observations(db, seeded.ended)
    assert not has_observations(db, seeded.empty)


def test_lesson_ids_filter_by_camera_label_and_start_oldest_first(db, seeded) -> None:
    room = db.query(Camera).filter_by(name="Room 101").one().id
    assert lesson_ids(db, camera_ids=[room]) == [seeded.ended, seeded.attention]
    assert lesson_ids(db, camera_ids=[room], label="History 8A") == [seeded.attention]
    assert lesson_ids(db, camera_ids=[]) == []
    day = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    after = lesson_ids(db, start=day + timedelta(hours=1), end=day + timedelta(days=1))
    assert after == [seeded.attention]
    every = [cs.id for cs in db.query(ClassSession).order_by(ClassSession.started_at, ClassSession.id)]
    assert lesson_ids(db) == every


def test_session_list_shows_an_audience_only_its_cameras(db, seeded) -> None:
    room = db.query(Camera).filter_by(name="Room 101").one().id
    lab = db.query(Camera).filter_by(name="Lab 2").one().id
    teacher = Audience.load(db, camera_ids=[room])
    assert [s["id"] for s in session_list(db, teacher)] == [seeded.attention, seeded.ended]  # newest first
    assert session_list(db, teacher, camera_id=lab) == []  # a camera it may not see lists nothing
    admin = Audience.load(db)
    assert {s["id"] for s in session_list(db, admin, camera_id=lab)} == {seeded.running, seeded.empty}
    assert session_list(db, admin, limit=1)[0]["id"] == seeded.empty
