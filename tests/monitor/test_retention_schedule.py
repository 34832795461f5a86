"""The retention promise is kept: ``serve`` purges on its own schedule and records each run."""

from __future__ import annotations

import configparser
import shlex
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.serve.config import ServeConfigError, load_config
from monitor.store.schema import ClassSession, Observation, RetentionRun
from tests.conftest import REPO, cli_env, process_output, run_cli, start_cli
from tests.dashboard.helpers import World


def wait_for(what: str, check: Callable[[], object], timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def observations(world: World, session_id: int) -> int:
    with world.Session() as db:
        return db.scalar(select(func.count()).where(Observation.session_id == session_id))


def runs(world: World) -> list[RetentionRun]:
    with world.Session() as db:
        return list(db.scalars(select(RetentionRun).order_by(RetentionRun.id)))


def test_serve_purges_old_observations_on_its_schedule_without_anyone_running_purge(
    db_url: str, tmp_path: Path
) -> None:
    world = World(db_url)
    cam = world.camera("room-a")
    now = datetime.now(UTC).replace(microsecond=0)
    old = world.lesson(cam, "Old", start=now - timedelta(days=40), seconds=10)
    recent = world.lesson(cam, "Recent", start=now - timedelta(days=2), seconds=10)
    world.setting("retention_days", 30)
    config = tmp_path / "school.toml"
    config.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\ndatabase_cameras = true\nretention_every_s = 2\n'
    )
    proc = start_cli("--db", db_url, "serve", "--config", str(config), logs=tmp_path / "out")
    try:
        # At start: the old lesson's observations go, the recent lesson's stay, and the run is recorded.
        wait_for("the first scheduled purge", lambda: observations(world, old) == 0 and runs(world))
        assert observations(world, recent) == 60
        first = runs(world)[0]
        assert (first.trigger, first.days, first.observations, first.sessions) == ("serve", 30, 60, 1)
        assert first.error is None and first.finished_at is not None
        with world.Session() as db:
            assert db.get(ClassSession, old).observations_purged_at is not None
            assert db.get(ClassSession, recent).observations_purged_at is None
        # Then again, every retention_every_s: a lesson that grew old since is purged too.
        older = world.lesson(cam, "Older", start=now - timedelta(days=31), seconds=5)
        wait_for(  # the run is recorded once its deletes are committed
            "the next scheduled purge, recorded",
            lambda: observations(world, older) == 0 and len(runs(world)) >= 2,
            timeout=30,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        process_output(proc, timeout=60)
        world.engine.dispose()
    assert proc.returncode == 0


def test_the_purge_command_records_its_run_too(db_url: str) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    world = World(db_url)
    cam = world.camera("room-a")
    old = world.lesson(cam, start=datetime.now(UTC) - timedelta(days=10), seconds=5)
    result = CliRunner().invoke(cli, ["--db", db_url, "purge", "--days", "7"], catch_exceptions=False)
    assert result.exit_code == 0 and "deleted 30 observations" in result.output
    assert observations(world, old) == 0
    [run] = runs(world)
    assert (run.trigger, run.days, run.observations, run.sessions) == ("cli", 7, 30, 1)
    world.engine.dispose()


@pytest.mark.parametrize("value", ["-1", "0.5", '"daily"', "true"])
def test_a_bad_retention_interval_is_refused_with_one_line(value: str, tmp_path: Path) -> None:
    config = tmp_path / "school.toml"
    config.write_text(f"[serve]\ndatabase_cameras = true\nretention_every_s = {value}\n")
    with pytest.raises(ServeConfigError, match="retention_every_s"):
        load_config(config)


def test_the_retention_interval_defaults_to_six_hours_and_0_turns_it_off(tmp_path: Path) -> None:
    config = tmp_path / "school.toml"
    config.write_text("[serve]\ndatabase_cameras = true\n")
    assert load_config(config).retention_every_s == 6 * 3600
    config.write_text("[serve]\ndatabase_cameras = true\nretention_every_s = 0\n")
    assert load_config(config).retention_every_s == 0


def test_the_deploy_timer_runs_the_purge_service_and_its_command_purges(db_url: str) -> None:
    """For installs without ``serve``: the timer starts the service, whose command (run here as it is
    written, with this checkout's Python) purges by the site setting and records the run."""
    units = REPO / "deploy"
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(units / "classroom-monitor-purge.timer")
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(units / "classroom-monitor-purge.service")
    assert service["Service"]["Type"] == "oneshot"
    program, *args = shlex.split(service["Service"]["ExecStart"])
    assert Path(program).name == "classroom-monitor" and args == ["purge"]

    world = World(db_url)
    cam = world.camera("room-a")
    old = world.lesson(cam, start=datetime.now(UTC) - timedelta(days=10), seconds=5)
    world.setting("retention_days", 7)
    result = run_cli(*args, env=cli_env(CLASSROOM_MONITOR_DB_URL=db_url))
    assert result.returncode == 0, result.stderr
    assert "deleted 30 observations" in result.stdout
    assert observations(world, old) == 0 and runs(world)[-1].trigger == "cli"
    world.engine.dispose()


def test_a_scheduled_run_marks_the_lessons_it_emptied_on_sqlite_and_postgresql(any_db_url: str) -> None:
    from monitor.store import make_engine
    from monitor.store.retention import run_retention

    world = World(any_db_url)
    cam = world.camera("room-a")
    now = datetime.now(UTC).replace(microsecond=0)
    old = world.lesson(cam, "Old", start=now - timedelta(days=40), seconds=10)
    straddles = world.lesson(cam, "Straddles", start=now - timedelta(days=30, seconds=5), seconds=20)
    recent = world.lesson(cam, "Recent", start=now - timedelta(days=2), seconds=10)
    world.setting("retention_days", 30)
    engine = make_engine(any_db_url, writer=True)
    try:
        result = run_retention(engine, "serve", now=now)
        again = run_retention(engine, "serve", now=now)  # nothing older is left: it deletes nothing
    finally:
        engine.dispose()
    assert (result.sessions, result.observations) == (2, 60 + 30)
    assert (again.observations, again.sessions) == (0, 0)
    assert (observations(world, old), observations(world, straddles)) == (0, 120 - 30)
    assert observations(world, recent) == 60
    with world.Session() as db:
        marked = {cs.id: cs.observations_purged_at for cs in db.scalars(select(ClassSession))}
    assert marked[old] is not None and marked[straddles] is not None and marked[recent] is None
    assert [(r.trigger, r.sessions) for r in runs(world)] == [("serve", 2), ("serve", 0)]
    world.engine.dispose()


def test_a_long_lesson_is_purged_ten_minutes_of_it_per_transaction(db_url: str) -> None:
    """An always-on camera's lesson may span weeks: its delete must not hold the write lock for all of it."""
    from sqlalchemy import event

    from monitor.store import make_engine
    from monitor.store.retention import PURGE_CHUNK, purge_older_than
    from tests.dashboard.helpers import write_frames

    world = World(db_url)
    cam = world.camera("room-a")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)  # whole seconds: exact counts
    long = world.lesson(cam, "Always on", start=start, seconds=0)
    frame = 0
    for minutes in range(0, 35, 5):  # 35 minutes, 2 frames a second of one face, five minutes per writer
        at = start + timedelta(minutes=minutes)
        frame = write_frames(world.engine, long, cam, at, 300, tracks=1, first_frame=frame)
    assert observations(world, long) == 35 * 60 * 2
    engine = make_engine(db_url, writer=True)
    deleted: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("DELETE FROM observations"):
            deleted.append(cursor.rowcount)

    event.listen(engine, "after_cursor_execute", count)
    try:
        result = purge_older_than(engine, 30)
    finally:
        engine.dispose()
    assert timedelta(minutes=10) == PURGE_CHUNK
    assert result.observations == 35 * 60 * 2 and observations(world, long) == 0
    # one transaction per 10 minutes of the lesson: 1,200 rows each, then the last 5 minutes (and a last
    # look for track summaries that finds nothing more)
    assert [n for n in deleted if n] == [1200, 1200, 1200, 600]
    with world.Session() as db:
        assert db.get(ClassSession, long).observations_purged_at is not None
    world.engine.dispose()
