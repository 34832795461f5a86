"""A live camera that vanishes or stalls neither hangs nor kills the worker; the session goes on."""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TALKING_HEAD, cli_env, requires_videos, start_cli
from tests.support.mjpeg_server import MjpegCamera, free_port, load_jpegs


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return out


def camera_status(url: str) -> str | None:
    found = query(url, "SELECT status FROM cameras")
    return found[0][0] if found else None


def observation_count(url: str) -> int:
    return query(url, "SELECT COUNT(*) FROM observations")[0][0]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def camera():
    if not TALKING_HEAD.is_file():
        pytest.skip("real clips not found")
    cam = MjpegCamera(load_jpegs(TALKING_HEAD, 60), free_port())
    cam.start()
    yield cam
    cam.stop()


@requires_videos
def test_worker_reconnects_after_the_stream_vanishes_and_after_it_stalls(
    camera: MjpegCamera, db_url: str
) -> None:
    proc = start_cli(
        "--db",
        db_url,
        "worker",
        "--camera",
        "hall",
        "--source",
        camera.url,
        env=cli_env(CLASSROOM_MONITOR_READ_TIMEOUT_S="2", CLASSROOM_MONITOR_RECONNECT_MAX_S="2"),
    )
    try:
        wait_for(lambda: observation_count(db_url) > 10, 60, "first observations")

        camera.stop()  # the camera vanishes
        wait_for(
            lambda: camera_status(db_url) in ("reconnecting", "offline"), 30, "camera marked reconnecting"
        )
        before = observation_count(db_url)
        camera.start()  # and comes back on the same address
        wait_for(
            lambda: camera_status(db_url) == "online" and observation_count(db_url) > before + 10,
            60,
            "observations after reconnect",
        )

        camera.stalled.set()  # connection stays open, no frames: the read timeout must fire
        wait_for(lambda: camera_status(db_url) in ("reconnecting", "offline"), 30, "stall detected")
        camera.stalled.clear()
        before = observation_count(db_url)
        wait_for(
            lambda: camera_status(db_url) == "online" and observation_count(db_url) > before + 10,
            60,
            "observations after stall",
        )
        assert proc.poll() is None, "the worker must survive source faults"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "reconnecting" in err and "reconnected" in err
    sessions = query(db_url, "SELECT COUNT(*), MIN(ended_at IS NOT NULL) FROM class_sessions")
    assert sessions == [(1, 1)], "one class session spans the outages"


def test_a_camera_down_at_start_is_retried_not_fatal(db_url: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/stream.mjpg"
    proc = start_cli(
        "--db",
        db_url,
        "worker",
        "--camera",
        "gym",
        "--source",
        url,
        env=cli_env(CLASSROOM_MONITOR_READ_TIMEOUT_S="1", CLASSROOM_MONITOR_RECONNECT_MAX_S="1"),
    )
    wait_for(lambda: camera_status(db_url) in ("reconnecting", "offline"), 30, "status while unreachable")
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
