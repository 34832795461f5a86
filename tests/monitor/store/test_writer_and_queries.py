"""The batched writer and the read queries, on SQLite and on PostgreSQL."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from monitor.store import make_engine, session_factory
from monitor.store import queries as q
from monitor.store.schema import Camera, ClassSession
from monitor.store.writer import FrameRecord, ObservationWriter
from tests.conftest import start_cli

T0 = datetime(2026, 11, 21, 9, 0, 0, 250000, tzinfo=UTC)


def seed(url: str, seconds: int = 30, fps: int = 4, mode: str = "emotion") -> int:
    engine = make_engine(url, writer=True)
    with session_factory(engine).begin() as db:
        cam = Camera(name="room-1", status="online")
        db.add(cam)
        db.flush()
        cs = ClassSession(camera_id=cam.id, label="History", started_at=T0, mode=mode)
        db.add(cs)
        db.flush()
        sid, cid = cs.id, cam.id
    writer = ObservationWriter(engine, sid, cid, interval_s=0.05)
    rng = np.random.default_rng(7)
    for i in range(seconds * fps):
        n = 3 if i % 2 else 2  # tracks 1..3, the third in every other frame
        probs = rng.dirichlet(np.ones(7), n) if mode == "emotion" else None
        writer.add(
            FrameRecord(
                ts=T0 + timedelta(seconds=i / fps),
                frame_index=i,
                track_ids=np.arange(1, n + 1),
                boxes=np.tile([10, 20, 40, 40], (n, 1)),
                attention=np.linspace(0.5, 1.0, n),
                probs=probs,
                engagement=0.5,
            )
        )
    writer.close()
    assert writer.errors == 0
    engine.dispose()
    return sid


def test_writer_stores_every_frame_and_timeline_buckets_add_up(any_db_url: str) -> None:
    sid = seed(any_db_url)
    engine = make_engine(any_db_url)
    with session_factory(engine)() as db:
        cs = db.get(ClassSession, sid)
        assert (cs.frames, cs.faces, cs.tracks) == (120, 300, 3)
        bucket, timeline = q.session_timeline(db, sid, bucket_s=10)
        assert bucket == 10
        # Frames at 0.25 s + i/4 from a whole second: frame 39 is at exactly 10.0 s, in the second bucket.
        assert [b.frames for b in timeline] == [39, 40, 40, 1]
        assert sum(b.faces for b in timeline) == 300
        assert timeline[0].start == T0.replace(microsecond=0)
        for b in timeline:
            assert sum(b.emotions.values()) == pytest.approx(1.0)
            assert b.engagement == pytest.approx(0.5)
        tracks = q.track_summaries(db, sid)
        assert [t["observations"] for t in tracks] == [120, 120, 60]
        assert tracks[0]["attention"] == pytest.approx(0.5)
        assert q.track_timeline(db, sid, 3, 15)[0]["observations"] == 30
        last = q.latest_frame(db, sid)
        assert [o.frame_index for o in last] == [119] * 3
        assert q.latest_frame(db, sid, after_frame=119) == []
        assert q.list_cameras(db)[0]["running_session"]["id"] == sid
    engine.dispose()


def test_attention_only_sessions_store_no_emotion(any_db_url: str) -> None:
    sid = seed(any_db_url, seconds=5, mode="attention")
    engine = make_engine(any_db_url)
    with session_factory(engine)() as db:
        _, timeline = q.session_timeline(db, sid)
        assert all(b.emotions is None for b in timeline)
        assert all(t["emotions"] is None and t["dominant"] is None for t in q.track_summaries(db, sid))
    engine.dispose()


def test_track_sums_over_many_batches_match_the_observations_with_unreadable_faces_first(
    any_db_url: str,
) -> None:
    """Tracks of earlier batches are added to in one statement; NULL (nothing readable yet) takes a delta."""
    engine = make_engine(any_db_url, writer=True)
    with session_factory(engine).begin() as db:
        cam = Camera(name="room-2", status="online")
        db.add(cam)
        db.flush()
        cs = ClassSession(camera_id=cam.id, label="Maths", started_at=T0, mode="emotion")
        db.add(cs)
        db.flush()
        sid, cid = cs.id, cam.id
    writer = ObservationWriter(engine, sid, cid, interval_s=3600)  # batches only where flush() says
    rng = np.random.default_rng(3)
    for i in range(12):
        probs = rng.dirichlet(np.ones(7), 2)
        if i < 5:
            probs[1] = np.nan  # track 2 too small to read in its first five frames
        writer.add(
            FrameRecord(
                T0 + timedelta(seconds=i),
                i,
                np.array([1, 2]),
                np.tile([5, 5, 30, 30], (2, 1)),
                np.array([0.25, 1.0]),
                probs,
                0.5,
            )
        )
        if i % 3 != 1:
            writer.flush()
    writer.close()
    with engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT track_id, COUNT(*), SUM(attention), SUM(p_happy), MAX(ts) FROM observations "
                "WHERE session_id = :s GROUP BY track_id ORDER BY track_id"
            ),
            {"s": sid},
        ).all()
        got = conn.execute(
            text(
                "SELECT track_id, observations, attention_sum, p_happy, last_seen FROM track_summaries "
                "WHERE session_id = :s ORDER BY track_id"
            ),
            {"s": sid},
        ).all()
    engine.dispose()
    assert writer.batches >= 8 and [r[0] for r in got] == [1, 2]
    for e, g in zip(expected, got, strict=True):
        assert g[1] == e[1] == 12 and g[2] == pytest.approx(e[2]) and g[3] == pytest.approx(e[3])
        assert str(g[4])[:19] == str(e[4])[:19]


@pytest.mark.parametrize(("seconds", "bucket"), [(60, 1), (600, 5), (3600, 30), (8 * 3600, 300)])
def test_auto_bucket_keeps_timelines_readable(seconds: int, bucket: int) -> None:
    assert q.auto_bucket_seconds(seconds) == bucket


def test_sigkill_leaves_a_consistent_database(db_url: str) -> None:
    proc = start_cli("--db", db_url, "worker", "--camera", "k", "--source", "sample")
    engine = create_engine(db_url)
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while (
            time.monotonic() < deadline
            and not conn.execute(text("SELECT COUNT(*) FROM observations")).scalar()
        ):
            time.sleep(0.2)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        frames = conn.execute(text("SELECT frames FROM class_sessions")).scalar()
        rolled = conn.execute(text("SELECT SUM(frames) FROM session_rollups")).scalar()
        stored = conn.execute(text("SELECT COUNT(DISTINCT frame_index) FROM observations")).scalar()
    engine.dispose()
    # Every committed batch is whole: counters, rollups and observations agree.
    assert frames > 0 and frames == rolled
    assert stored <= frames


def test_a_stuck_loop_stops_the_heartbeat_so_a_supervisor_sees_the_stall(db_url: str) -> None:
    from monitor.store.schema import WorkerStatus
    from monitor.store.sessions import take_camera

    engine = make_engine(db_url)
    factory = session_factory(engine)
    camera_id = take_camera(factory, camera_name="hung", source="sample", token="host:1:t")
    writer = ObservationWriter(
        engine, None, camera_id, interval_s=0.05, lease_token="host:1:t", loop_stall_s=2.5
    )

    def heartbeat() -> datetime:
        with factory() as db:
            return db.get(WorkerStatus, camera_id).last_heartbeat

    try:
        writer.set_worker_status(state="idle", frames=0)  # the loop's last word
        time.sleep(0.6)
        alive = heartbeat()
        time.sleep(1.3)  # the writer's own beat keeps going while the loop is within loop_stall_s
        later = heartbeat()
        assert later > alive
        time.sleep(1.3)  # the loop has said nothing for more than loop_stall_s: no more beats
        stuck = heartbeat()
        time.sleep(1.5)
        assert heartbeat() == stuck
        writer.set_worker_status(state="idle", frames=0)  # the loop comes back: beats resume
        time.sleep(0.5)
        assert heartbeat() > stuck
    finally:
        writer.close()
        engine.dispose()
