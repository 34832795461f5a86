"""A scheduled worker records only within its periods: one labelled session each, nothing in between."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from monitor.config import Settings
from monitor.schedule import Period, fixed_periods
from tests.conftest import TALKING_HEAD, requires_videos
from tests.monitor.test_worker import rows

pytestmark = [requires_videos, pytest.mark.slow]


def parse(ts) -> datetime:
    value = datetime.fromisoformat(str(ts))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class StatusProbe(threading.Thread):
    """Reads the camera's heartbeat row every 0.2 s while the worker runs: (state, session, message)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.seen: list[tuple] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            with self.engine.connect() as conn:
                row = conn.execute(text("SELECT state, session_id, message FROM worker_status")).first()
            if row is not None and (not self.seen or self.seen[-1] != tuple(row)):
                self.seen.append(tuple(row))

    def stop(self) -> list[tuple]:
        self.done.set()
        self.join()
        self.engine.dispose()
        return self.seen


class ClockedLessons:
    """A schedule whose periods (label, start s, end s) count from the worker's first question, so the
    worker's start-up time on a busy machine does not eat into them; ``on_end`` once ``stop_after`` passed."""

    def __init__(self, spec: list[tuple[str, float, float]], stop_after: float) -> None:
        self.spec, self.stop_after = spec, stop_after
        self.periods: list[Period] = []
        self.on_end = None
        self._start: datetime | None = None

    def __call__(self, now: datetime) -> Period | None:
        if self._start is None:
            self._start = now
            self.periods = [
                Period(label, now + timedelta(seconds=a), now + timedelta(seconds=b))
                for label, a, b in self.spec
            ]
        if now - self._start > timedelta(seconds=self.stop_after) and self.on_end:
            self.on_end()
        return fixed_periods(self.periods)(now)


def test_sessions_open_and_close_at_period_boundaries_and_nothing_is_stored_between(db_url: str) -> None:
    from monitor.worker import CaptureWorker

    # A hand-made schedule over a looped clip played as a camera: idle, lesson A, idle, lesson B, idle.
    lessons = ClockedLessons(
        [("Maths 7B · Tue period 2", 1.5, 4.5), ("Art 8C · Tue period 3", 6.5, 9.5)], stop_after=11.0
    )
    settings = Settings(db_url=db_url, mode="attention", sample_fps=8.0)
    worker = CaptureWorker(settings, "room-5", str(TALKING_HEAD), loop=True, realtime=True, schedule=lessons)
    lessons.on_end = worker.request_stop
    probe = StatusProbe(db_url)
    probe.start()
    summary = worker.run()
    seen = probe.stop()
    periods = lessons.periods

    stored = rows(db_url, "SELECT id, label, started_at, ended_at, frames FROM class_sessions ORDER BY id")
    assert [s[1] for s in stored] == [p.label for p in periods]
    assert summary.sessions == [s[0] for s in stored]
    assert "sessions " in summary.line() and "frames dropped" in summary.line()
    for (sid, _, started, ended, frames), period in zip(stored, periods, strict=True):
        # Boundaries are kept to the schedule's poll plus one frame's work on a busy machine.
        assert abs(parse(started) - period.start) < timedelta(seconds=1.5), (started, period)
        assert abs(parse(ended) - period.end) < timedelta(seconds=1.5), (ended, period)
        assert frames > 5
        ((n, first, last),) = rows(
            db_url, "SELECT COUNT(*), MIN(ts), MAX(ts) FROM observations WHERE session_id = :s", s=sid
        )
        assert n > 0
        # The clip is played in real time: frame timestamps are wall-clock times within the period.
        assert parse(first) >= period.start - timedelta(seconds=1.0)
        assert parse(last) <= period.end + timedelta(seconds=1.5)
    # Nothing stored outside the periods: every observation belongs to one of them.
    assert rows(db_url, "SELECT COUNT(*) FROM observations WHERE session_id NOT IN (1, 2)") == [(0,)]
    (a_frames,) = rows(db_url, "SELECT SUM(frames) FROM session_rollups")[0]
    assert a_frames == summary.frames == sum(s[4] for s in stored)

    # Between the periods the worker holds the camera, idle, and says why; during them it runs.
    idle = ("idle", None, "outside timetable")
    assert idle in seen, seen
    assert ("running", stored[0][0], None) in seen and ("running", stored[1][0], None) in seen, seen
    first_run = seen.index(("running", stored[0][0], None))
    assert idle in seen[first_run:], "idle again after lesson A"
    assert rows(db_url, "SELECT state, lease_owner FROM worker_status") == [("stopped", None)]


def test_a_worker_outside_every_period_stores_nothing_and_holds_its_camera(any_db_url: str) -> None:
    db_url = any_db_url
    from monitor.worker import CaptureWorker

    later = datetime.now(UTC) + timedelta(hours=1)
    worker = CaptureWorker(
        Settings(db_url=db_url, mode="attention", sample_fps=8.0),
        "room-6",
        str(TALKING_HEAD),
        loop=True,
        realtime=True,
        schedule=fixed_periods([Period("Later", later, later + timedelta(minutes=50))]),
    )
    threading.Timer(3.0, worker.request_stop).start()
    started = time.monotonic()
    probe = StatusProbe(db_url)
    probe.start()
    summary = worker.run()
    seen = probe.stop()
    assert time.monotonic() - started < 10
    assert summary.sessions == [] and summary.frames == 0
    assert "no session (outside timetable)" in summary.line()
    assert rows(db_url, "SELECT COUNT(*) FROM class_sessions") == [(0,)]
    assert rows(db_url, "SELECT COUNT(*) FROM observations") == [(0,)]
    assert ("idle", None, "outside timetable") in seen
