"""Failover: a worker taking over a dead worker's camera continues its lesson in the same session."""

from __future__ import annotations

import signal
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from monitor.stages import FrameRecord
from monitor.store import make_engine, session_factory, sessions
from monitor.store.schema import ClassSession, Observation, WorkerStatus, utcnow
from monitor.store.writer import ObservationWriter
from tests.conftest import TALKING_HEAD, process_output, requires_videos, start_cli
from tests.monitor.test_worker import rows
from tests.monitor.test_worker_site_settings import wait_for


def _open(db, token: str, label: str = "Maths 7B", **kw) -> sessions.OpenedSession:
    return sessions.open_session(
        db,
        camera_name="room-1",
        source="cam.mp4",
        label=label,
        mode="attention",
        model_version=None,
        detector="yunet",
        token=token,
        **kw,
    )


def _record(ts, frame_index: int, track_ids: list[int]) -> FrameRecord:
    n = len(track_ids)
    return FrameRecord(
        ts=ts,
        frame_index=frame_index,
        track_ids=np.array(track_ids, np.int64),
        boxes=np.tile(np.array([[10, 10, 40, 40]], np.int64), (n, 1)),
        attention=np.full(n, 0.5, np.float32),
        probs=None,
        engagement=0.5,
    )


@pytest.fixture
def store(any_db_url: str):
    """The store on SQLite and on PostgreSQL (hosts that share a school share a PostgreSQL)."""
    engine = make_engine(any_db_url, writer=True)
    yield engine, session_factory(engine), any_db_url
    engine.dispose()


def _first_lesson(store, token: str = "host-a:1:x") -> sessions.OpenedSession:
    """A worker opens a session, stores 10 frames of two tracks, then dies (its heartbeat goes stale)."""
    engine, db, _ = store
    opened = _open(db, token)
    writer = ObservationWriter(engine, opened.session_id, opened.camera_id, lease_token=token)
    for i in range(10):
        writer.add(_record(opened.started_at + timedelta(milliseconds=100 * i), i * 3, [1, 2]))
    writer.close()
    _age(db, seconds=sessions.STALE_AFTER_S + 1)
    return opened


def _age(db, seconds: float, data: bool = False) -> None:
    """Move the camera's heartbeat (and with ``data`` its sessions and rows) ``seconds`` into the past."""
    with db.begin() as s:
        s.execute(update(WorkerStatus).values(last_heartbeat=utcnow() - timedelta(seconds=seconds)))
        if data:
            for row in [*s.scalars(select(Observation)), *s.scalars(select(ClassSession))]:
                for column in ("ts", "started_at"):
                    if hasattr(row, column):
                        setattr(row, column, getattr(row, column) - timedelta(seconds=seconds))


def test_a_taken_over_camera_continues_its_recent_session_after_the_stored_rows(store) -> None:
    first = _first_lesson(store)
    engine, db, url = store
    second = _open(db, "host-b:2:y")
    assert second.resumed and second.session_id == first.session_id and second.closed_stale == []
    assert second.started_at == first.started_at  # the lesson began when it began
    assert (second.frame_offset, second.track_offset) == (28, 2)  # after frame index 27 and track 2
    with db() as s:
        last = sessions.last_data_time(s, first.session_id)
    assert second.data_from > last
    # The new worker's rows land after the old ones: no (frame, track) pair twice.
    writer = ObservationWriter(engine, second.session_id, second.camera_id, lease_token="host-b:2:y")
    for i in range(5):
        writer.add(
            _record(
                second.data_from + timedelta(milliseconds=100 * i),
                second.frame_offset + i,
                [second.track_offset + 1],
            )
        )
    writer.close()
    assert rows(url, "SELECT COUNT(*), COUNT(DISTINCT frame_index || '-' || track_id) FROM observations") == [
        (25, 25)
    ]
    assert rows(url, "SELECT frames, faces, tracks, ended_at FROM class_sessions") == [(15, 25, 3, None)]
    assert rows(url, "SELECT COUNT(*) FROM session_modes") == [(1,)]  # same mode: no new history row


def test_another_lesson_or_an_old_session_is_closed_at_its_last_data_not_continued(store) -> None:
    first = _first_lesson(store)
    _, db, _ = store
    other = _open(db, "host-b:2:y", label="Art 8C")
    assert not other.resumed and other.session_id != first.session_id
    assert other.closed_stale == [first.session_id]

    # An hour later the same label is a new lesson: the old one is not continued.
    _age(db, seconds=3600, data=True)
    again = _open(db, "host-c:3:z", label="Art 8C")
    assert not again.resumed and again.closed_stale == [other.session_id]


def test_resuming_can_be_refused_and_a_live_lease_is_never_taken(store) -> None:
    first = _first_lesson(store)
    _, db, _ = store
    fresh = _open(db, "host-b:2:y", resume_within_s=None)
    assert not fresh.resumed and fresh.closed_stale == [first.session_id]
    with pytest.raises(sessions.CameraBusy):
        _open(db, "host-c:3:z")  # host-b's heartbeat is fresh


@requires_videos
@pytest.mark.slow
def test_a_killed_workers_lesson_goes_on_in_the_same_session_under_the_next_worker(db_url, tmp_path) -> None:
    args = [
        "--db", db_url, "worker", "--camera", "room-9", "--source", str(TALKING_HEAD),
        "--loop", "--realtime", "--sample-fps", "8", "--mode", "attention", "--session", "Maths 7B · p2",
    ]  # fmt: skip
    first = start_cli(*args, logs=tmp_path / "a")
    try:
        wait_for(lambda: rows(db_url, "SELECT COUNT(*) FROM observations")[0][0] >= 20, 90, "first data")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    (a_rows, a_last_frame, a_last_ts) = rows(
        db_url, "SELECT COUNT(*), MAX(frame_index), MAX(ts) FROM observations"
    )[0]
    # The lease is free once the dead worker's heartbeat is stale; then the next worker takes over.
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        beat = s.get(WorkerStatus, 1).last_heartbeat
    engine.dispose()
    wait_for(lambda: sessions.is_stale(beat), sessions.STALE_AFTER_S + 5, "the lease to go stale")
    second = start_cli(*args, logs=tmp_path / "b")
    try:
        wait_for(
            lambda: rows(db_url, "SELECT COUNT(*) FROM observations")[0][0] >= a_rows + 20, 90, "second data"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        out, err = process_output(second, timeout=60)
    assert second.returncode == 0, err
    assert "continues session 1" in err
    assert "session 1 closed" in out
    assert rows(db_url, "SELECT id, ended_at IS NOT NULL FROM class_sessions") == [(1, 1)]
    # No row twice, and the second worker's rows come after the first's, in index and in time.
    (n, distinct) = rows(
        db_url, "SELECT COUNT(*), COUNT(DISTINCT frame_index || '-' || track_id) FROM observations"
    )[0]
    assert n == distinct > a_rows
    later = "SELECT COUNT(*) FROM observations WHERE ts > :t AND frame_index > :f"
    assert rows(db_url, later, t=a_last_ts, f=a_last_frame)[0][0] == n - a_rows
    # The session's counters agree with its rows (the killed worker's last batch may be lost, never doubled).
    (frames, faces) = rows(db_url, "SELECT frames, faces FROM class_sessions")[0]
    assert faces == n
    assert rows(db_url, "SELECT SUM(frames) FROM session_rollups")[0][0] == frames


def test_a_worker_that_wakes_up_after_being_taken_over_leaves_the_continued_session_alone(store) -> None:
    first = _first_lesson(store, token="host-a:1:x")  # stalled past the lease, not dead
    _, db, url = store
    second = _open(db, "host-b:2:y")
    assert second.resumed
    sessions.close_session(
        db,
        camera_id=first.camera_id,
        session_id=first.session_id,
        frames=10,
        last_ts=utcnow(),
        token="host-a:1:x",
    )
    assert rows(url, "SELECT ended_at FROM class_sessions") == [(None,)]
    assert rows(url, "SELECT lease_owner, state FROM worker_status") == [("host-b:2:y", "running")]
