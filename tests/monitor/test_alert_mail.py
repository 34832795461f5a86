"""Camera alerts from ``serve``: a real worker killed during a timetabled period mails the admins exactly
once per episode, through a real SMTP server on loopback; the episode is recorded, and ends when the camera
is back."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.serve.alerts import CAMERA_DOWN, CameraView, Notifier
from monitor.serve.config import parse_config
from monitor.store import make_engine, session_factory
from monitor.store.schema import AlertSent, Camera
from monitor.timetable import DAYS
from tests.conftest import GROUP, add_user, requires_videos, run_cli, start_cli
from tests.monitor.test_serve import running, stop, wait_for
from tests.support.smtp import SmtpServer, running_smtp, text_of


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


def period_now(minutes_before: int = 5, minutes_after: int = 30) -> str:
    """A timetable entry (TOML) for a period running now, in UTC (the site's default zone)."""
    now = datetime.now(UTC)
    start = max(now - timedelta(minutes=minutes_before), now.replace(hour=0, minute=0))
    end = min(now + timedelta(minutes=minutes_after), now.replace(hour=23, minute=59))
    return (
        f'{{day = "{DAYS[now.weekday()]}", start = "{start:%H:%M}", end = "{end:%H:%M}", label = "Maths 7B"}}'
    )


def set_site(db_url: str, **values: object) -> None:
    for key, value in values.items():
        proc = run_cli("--db", db_url, "settings", "set", key, str(value), timeout=60)
        assert proc.returncode == 0, proc.stderr


def alerts(db_url: str) -> list[AlertSent]:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as db:
            return list(db.scalars(select(AlertSent).order_by(AlertSent.id)))
    finally:
        engine.dispose()


@requires_videos
@pytest.mark.slow
def test_a_worker_killed_during_a_period_mails_the_admins_once_per_episode(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    add_user(db_url, "head", "correct horse battery", admin=True)
    add_user(db_url, "alice", "correct horse battery")
    for name in ("head", "alice"):
        proc = run_cli("--db", db_url, "user", "email", name, f"{name}@school.test", timeout=60)
        assert proc.returncode == 0, proc.stderr
    set_site(db_url, **smtp_server.settings(), alert_after_min=0, base_url="http://monitor.school.test")
    config = tmp_path / "school.toml"
    config.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\n'
        '[defaults]\nloop = true\nrealtime = true\nmode = "attention"\nsample_fps = 4\n'
        f'[[cameras]]\nname = "room-1"\nsource = "{GROUP}"\ntimetable = [{period_now()}]\n'
    )
    serve = start_cli("--db", db_url, "serve", "--config", str(config), logs=tmp_path / "out")
    try:
        first = wait_for("room-1 running", lambda: running(db_url, "room-1"))
        time.sleep(3)
        assert smtp_server.inbox.received() == [], "a worker starting is no alert"

        os.kill(first.pid, signal.SIGKILL)
        second = wait_for("room-1 restarted", lambda: running(db_url, "room-1", not_pid=first.pid))
        time.sleep(4)  # several polls of a camera that is back: still one mail
        ((rcpt, message),) = smtp_server.inbox.wait_for(1)
        assert rcpt == ["head@school.test"], "admins only"
        assert message["Subject"] == "Camera room-1 is down"
        body = text_of(message)
        assert "killed by SIGKILL" in body and "Maths 7B" in body
        assert "http://monitor.school.test/health" in body
        (episode,) = alerts(db_url)
        assert episode.kind == CAMERA_DOWN and episode.recipients == "head@school.test"
        assert episode.sent_at is not None and episode.error is None
        wait_for("the episode closed", lambda: alerts(db_url)[0].ended_at is not None, timeout=10)

        os.kill(second.pid, signal.SIGKILL)  # a new episode: one more mail
        wait_for("room-1 restarted again", lambda: running(db_url, "room-1", not_pid=second.pid))
        time.sleep(4)
        assert len(smtp_server.inbox.wait_for(2)) == 2
    finally:
        out, err = stop(serve)
    assert serve.returncode == 0, err
    time.sleep(1)
    assert len(smtp_server.inbox.received()) == 2, "a clean stop is no alert"
    assert [a.ended_at is not None for a in alerts(db_url)] == [True, True]


# --- the episode rule, step by step (the real Notifier, database and SMTP server; time is given) -----------


class Cameras:
    """What the supervisor shows the notifier, set by the test."""

    def __init__(self) -> None:
        self.view = CameraView("room-1", "running", 0, always_on=False)

    def __call__(self) -> list[CameraView]:
        return [self.view]

    def set(self, state: str, restarts: int, error: str | None = None) -> None:
        self.view = CameraView("room-1", state, restarts, False, error)


def test_a_short_blip_is_no_alert_a_long_outage_is_one_and_outside_periods_none(
    db_url: str, smtp_server: SmtpServer
) -> None:
    add_user(db_url, "head", "correct horse battery", admin=True)
    run_cli("--db", db_url, "user", "email", "head", "head@school.test", timeout=60)
    set_site(db_url, **smtp_server.settings(), alert_after_min=5)
    monday = datetime(2026, 11, 9, tzinfo=UTC)
    config = parse_config(
        {
            "serve": {"database_cameras": False},
            "cameras": [
                {
                    "name": "room-1",
                    "source": "0",
                    "timetable": [{"day": "Mon", "start": "09:00", "end": "10:00", "label": "Maths 7B"}],
                }
            ],
        },
        Path("school.toml"),
    )
    engine = make_engine(db_url, writer=True)
    factory = session_factory(engine)
    with factory.begin() as db:
        db.add(Camera(name="room-1"))
    cams, now = Cameras(), [monday + timedelta(hours=9, minutes=1)]
    notifier = Notifier(factory, config, cams, clock=lambda: now[0])

    def at(minute: float, state: str, restarts: int) -> int:
        now[0] = monday + timedelta(hours=9, minutes=minute)
        cams.set(state, restarts, "exited with status 1: Error: cannot open camera 0")
        notifier.check_cameras(now[0])
        return len(smtp_server.inbox.received())

    assert at(1, "running", 0) == 0
    assert at(2, "backoff", 1) == 0  # down for less than 5 minutes ...
    assert at(2.5, "running", 1) == 0  # ... and back: no alert
    for minute, state, restarts in [(10, "backoff", 2), (12, "starting", 2), (14, "backoff", 3)]:
        assert at(minute, state, restarts) == 0, "a crash loop under 5 minutes"
    assert at(15.5, "starting", 3) == 1, "5 minutes down: one alert"
    for minute in range(16, 40):
        assert at(minute, "backoff" if minute % 2 else "starting", 3 + minute) == 1, "once per episode"
    assert at(41, "running", 40) == 1
    with factory() as db:
        (row,) = db.scalars(select(AlertSent)).all()
    assert row.ended_at is not None and row.started_at == monday + timedelta(hours=9, minutes=10)
    assert at(61, "backoff", 41) == 1 and at(70, "backoff", 41) == 1, "after the period: no alert"
    engine.dispose()
    notifier.stop()
