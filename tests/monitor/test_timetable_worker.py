"""A real worker under a school config's timetable: idle before the period, one labelled session in it."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from monitor.store import make_engine, session_factory
from monitor.store.schema import ClassSession, Observation, WorkerStatus
from tests.conftest import GROUP, process_output, requires_videos, run_cli, start_cli

ZONE = "Pacific/Auckland"  # far from UTC: a period read in the wrong zone would be 13 hours off
LEAD_S = 25  # the worker's start-up on a busy machine fits in this


def read(db_url: str, fn):
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as db:
            return fn(db)
    finally:
        engine.dispose()


@requires_videos
@pytest.mark.slow
def test_a_worker_opens_and_closes_its_session_at_the_timetable_period_boundaries(db_url, tmp_path) -> None:
    assert run_cli("--db", db_url, "settings", "set", "timezone", ZONE, timeout=60).returncode == 0
    start = (datetime.now(UTC) + timedelta(seconds=LEAD_S)).replace(microsecond=0)
    end = start + timedelta(seconds=12)
    local_start, local_end = start.astimezone(ZoneInfo(ZONE)), end.astimezone(ZoneInfo(ZONE))
    if local_start.date() != local_end.date():
        pytest.skip("the period would cross local midnight")
    day = local_start.strftime("%a")
    config = tmp_path / "school.toml"
    config.write_text(
        f'[[cameras]]\nname = "room-7"\nsource = "{GROUP}"\n'
        f'timetable = [{{day = "{day}", start = "{local_start:%H:%M:%S}", end = "{local_end:%H:%M:%S}", '
        f'label = "Maths 7B"}}]\n'
    )
    worker = start_cli(
        "--db", db_url, "worker", "--camera", "room-7", "--source", str(GROUP), "--loop", "--realtime",
        "--mode", "attention", "--sample-fps", "5", "--timetable-from", str(config),
    )  # fmt: skip
    try:
        while datetime.now(UTC) < start - timedelta(seconds=2):  # before the period: idle, nothing stored
            ws = read(db_url, lambda db: db.scalar(select(WorkerStatus)))
            assert worker.poll() is None, process_output(worker)[1]
            time.sleep(0.5)
        assert ws is not None and ws.state == "idle", "the worker holds its camera, idle, before the period"
        assert read(db_url, lambda db: db.scalar(select(func.count()).select_from(ClassSession))) == 0
        while datetime.now(UTC) < end + timedelta(seconds=4):
            time.sleep(0.5)
        ws = read(db_url, lambda db: db.scalar(select(WorkerStatus)))
        assert ws.state == "idle" and ws.message == "outside timetable"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = process_output(worker, timeout=60)
    assert worker.returncode == 0, err
    sessions = read(db_url, lambda db: db.scalars(select(ClassSession)).all())
    assert len(sessions) == 1
    lesson = sessions[0]
    assert lesson.label == f"Maths 7B · {day} period 1"
    assert abs((lesson.started_at - start).total_seconds()) < 1.5
    assert abs((lesson.ended_at - end).total_seconds()) < 1.5
    first, last, count = read(
        db_url,
        lambda db: db.execute(
            select(func.min(Observation.ts), func.max(Observation.ts), func.count()).where(
                Observation.session_id == lesson.id
            )
        ).one(),
    )
    assert count > 0, "faces were stored during the period"
    assert start - timedelta(seconds=1) <= first and last <= end + timedelta(seconds=1)
