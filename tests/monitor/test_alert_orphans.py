"""An open camera-down episode of a camera no serve runs any more is closed (issue 24's loose ends); so
is a low heads-up episode still open when the admins turn that alert off.

The real ``Notifier`` on a real database, as a ``serve`` restarted without the camera sees it: its first
pass closes the episodes of cameras it does not run whose last worker ran on its own host (or that no worker
ever served); a camera another host's worker served last is left to that host's serve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from monitor.serve.alerts import CAMERA_DOWN, LOW_HEADS_UP, CameraView, Notifier
from monitor.serve.config import parse_config
from monitor.store import make_engine, notifications, session_factory
from monitor.store.cameras import get_or_create_camera
from monitor.store.schema import AlertSent, Camera, ClassSession, WorkerStatus

OPENED = datetime(2026, 12, 7, 9, 10, tzinfo=UTC)
HERE, THERE = "capture-1", "capture-2"


def _camera(factory, name: str, last_host: str | None) -> int:
    """A camera, its worker last seen on ``last_host`` (None: never served), and an open episode."""
    with factory.begin() as db:
        cam = get_or_create_camera(db, name)
        if last_host is not None:
            db.add(
                WorkerStatus(
                    camera_id=cam.id,
                    hostname=last_host,
                    pid=4321,
                    state="failed",
                    last_heartbeat=OPENED - timedelta(minutes=20),
                    restarts=3,
                    last_error="exited with status 1",
                )
            )
        notifications.start_alert(db, CAMERA_DOWN, cam.id, OPENED, f"{name}: exited with status 1")
        return cam.id


def _open(factory) -> dict[str, datetime | None]:
    """Each episode's camera name and when it was closed (None: still open)."""
    with factory() as db:
        rows = db.execute(
            select(Camera.name, AlertSent.ended_at).join(Camera, Camera.id == AlertSent.camera_id)
        )
        return dict(rows.all())


def test_a_serve_restarted_without_the_camera_closes_its_episode(db_url: str) -> None:
    engine = make_engine(db_url, writer=True)
    factory = session_factory(engine)
    _camera(factory, "gym", HERE)  # left this serve's config while it was stopped
    _camera(factory, "lab", None)  # never served by any worker
    _camera(factory, "hall", THERE)  # another host's camera: its serve decides
    with factory.begin() as db:
        get_or_create_camera(db, "room-1")
    config = parse_config({"serve": {"database_cameras": True}, "cameras": []}, Path("school.toml"))
    views = [CameraView("room-1", "running", 0, always_on=True)]
    notifier = Notifier(factory, config, lambda: list(views), host=HERE)

    now = OPENED + timedelta(hours=2)
    notifier.check_cameras(now)
    assert _open(factory) == {"gym": now, "lab": now, "hall": None}

    # the other host's serve, restarted without hall, closes it in its turn
    Notifier(factory, config, lambda: [], host=THERE).check_cameras(now + timedelta(seconds=1))
    assert _open(factory)["hall"] == now + timedelta(seconds=1)
    engine.dispose()


def test_a_camera_this_serve_still_runs_keeps_its_episode_while_down(db_url: str) -> None:
    engine = make_engine(db_url, writer=True)
    factory = session_factory(engine)
    _camera(factory, "gym", HERE)
    config = parse_config({"serve": {"database_cameras": True}, "cameras": []}, Path("school.toml"))
    views = [CameraView("gym", "backoff", 3, always_on=True, last_error="exited with status 1")]
    notifier = Notifier(factory, config, lambda: list(views), host=HERE)
    for minute in range(3):  # down all along: mailed before the restart, still the same episode
        notifier.check_cameras(OPENED + timedelta(hours=2, minutes=minute))
    assert _open(factory) == {"gym": None}
    with factory() as db:
        assert len(db.scalars(select(AlertSent)).all()) == 1
    engine.dispose()


def test_turning_the_low_heads_up_alert_off_ends_its_open_episodes(db_url: str) -> None:
    engine = make_engine(db_url, writer=True)
    factory = session_factory(engine)
    with factory.begin() as db:
        cam = get_or_create_camera(db, "room-1")
        lesson = ClassSession(camera_id=cam.id, label="Maths 7B", started_at=OPENED, mode="attention")
        db.add(lesson)
        db.flush()
        notifications.start_alert(db, LOW_HEADS_UP, cam.id, OPENED, "Maths 7B", lesson.id)
    config = parse_config({"serve": {"database_cameras": True}, "cameras": []}, Path("school.toml"))
    notifier = Notifier(factory, config, lambda: [], host=HERE)
    now = OPENED + timedelta(minutes=30)
    notifier.check_low_heads_up(now)  # alert_low_heads_up is off (the default)
    assert _open(factory) == {"room-1": now}
    engine.dispose()
