"""A running worker obeys the site's settings within seconds, holds its camera alone, and dies cleanly."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from monitor.store import make_engine, session_factory
from monitor.store.queries import list_cameras
from monitor.store.sessions import STALE_AFTER_S
from tests.conftest import TALKING_HEAD, process_output, requires_videos, run_cli, start_cli
from tests.monitor.test_worker import rows

pytestmark = [requires_videos, pytest.mark.slow]


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def live_worker(db_url: str, camera: str, logs) -> object:
    """The real worker on the real clip, looped at camera speed (a few frames a second keeps CI light)."""
    return start_cli(
        "--db", db_url, "worker", "--camera", camera, "--source", str(TALKING_HEAD),
        "--loop", "--realtime", "--sample-fps", "8",
        logs=logs,
    )  # fmt: skip


def parse(ts) -> datetime:
    value = datetime.fromisoformat(str(ts))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_site_mode_change_reaches_a_running_worker_within_5_s(db_url, tmp_path) -> None:
    proc = live_worker(db_url, "room-1", tmp_path / "logs")
    try:
        wait_for(
            lambda: rows(db_url, "SELECT 1 FROM observations WHERE p_happy IS NOT NULL LIMIT 1"),
            90,
            "emotion observations",
        )
        assert run_cli("--db", db_url, "settings", "set", "mode", "attention").returncode == 0
        # The moment the change was committed, as the database recorded it.
        changed = parse(rows(db_url, "SELECT updated_at FROM settings WHERE key = 'mode'")[0][0])
        after = changed + timedelta(seconds=5)
        wait_for(
            lambda: rows(
                db_url, "SELECT 1 FROM observations WHERE ts > :t LIMIT 1", t=after.replace(tzinfo=None)
            ),
            60,
            "observations 5 s after the change",
        )
        leaked = rows(
            db_url,
            "SELECT COUNT(*) FROM observations "
            "WHERE ts > :t AND (p_happy IS NOT NULL OR top_label IS NOT NULL)",
            t=after.replace(tzinfo=None),
        )[0][0]
        assert leaked == 0, f"{leaked} observations still carried emotions 5 s after attention-only was set"
        history = rows(db_url, "SELECT mode, changed_at FROM session_modes ORDER BY changed_at")
        assert [m for m, _ in history] == ["emotion", "attention"]
        assert parse(history[1][1]) - changed < timedelta(seconds=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = process_output(proc, timeout=60)
    assert proc.returncode == 0, err
    assert "(emotion -> attention mode)" in out + err


def test_one_worker_per_camera_and_a_killed_worker_is_closed_at_its_last_data(db_url, tmp_path) -> None:
    first = live_worker(db_url, "room-2", tmp_path / "logs")
    try:
        wait_for(lambda: rows(db_url, "SELECT 1 FROM observations LIMIT 1"), 90, "the first worker's data")
        second = run_cli(
            "--db", db_url, "worker", "--camera", "room-2", "--source", str(TALKING_HEAD), "--max-frames", "5"
        )
        assert second.returncode != 0
        assert "already served by worker" in second.stderr and "Traceback" not in second.stderr
        assert rows(db_url, "SELECT COUNT(*) FROM class_sessions")[0][0] == 1
        assert rows(db_url, "SELECT ended_at FROM class_sessions")[0][0] is None, (
            "the first session stays open"
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    last_data = rows(db_url, "SELECT MAX(ts) FROM observations WHERE session_id = 1")[0][0]

    engine = make_engine(db_url)

    def camera_status() -> str:
        with session_factory(engine)() as db:
            return list_cameras(db)[0]["status"]

    assert camera_status() == "online", "just killed: the heartbeat is still fresh"
    wait_for(lambda: camera_status() == "offline", STALE_AFTER_S + 10, "the dashboard to show it offline")
    engine.dispose()

    third = run_cli(
        "--db", db_url, "worker", "--camera", "room-2", "--source", str(TALKING_HEAD), "--max-frames", "10"
    )
    assert third.returncode == 0, third.stderr
    (ended,) = rows(db_url, "SELECT ended_at FROM class_sessions WHERE id = 1")[0]
    assert parse(ended) == parse(last_data), "a killed worker's session ends at its last observation"
    assert rows(db_url, "SELECT COUNT(*) FROM class_sessions WHERE ended_at IS NULL")[0][0] == 0
