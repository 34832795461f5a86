"""A worker whose camera cannot be reached says so everywhere: ``status``, ``/api/health``, the health page,
the camera cards and a banner on the live page; and no lesson claims to be in progress before the first frame.

The camera is a real RTSP address on loopback where nothing listens (connections are refused), read by the
real worker process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import cli_env, process_output, run_cli, start_cli
from tests.dashboard.helpers import PASSWORD, World
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for
from tests.support.mjpeg_server import free_port

pytestmark = pytest.mark.slow
CAMERA = "room-9"
UNREACHABLE = ("camera reconnecting", "camera offline")


def camera_status(world: World) -> str | None:
    """The camera's status as its worker last wrote it (online, reconnecting, offline)."""
    with world.engine.connect() as conn:
        return conn.execute(text("SELECT status FROM cameras WHERE name = :n"), {"n": CAMERA}).scalar()


@pytest.fixture
def unreachable_camera(world: World, tmp_path: Path) -> Iterator[int]:
    """A real worker on an RTSP camera that refuses connections; yields the camera's id once it said so."""
    proc = start_cli(
        "--db",
        world.url,
        "worker",
        "--camera",
        CAMERA,
        "--source",
        f"rtsp://127.0.0.1:{free_port()}/classroom",
        "--mode",
        "attention",
        env=cli_env(CLASSROOM_MONITOR_READ_TIMEOUT_S="2", CLASSROOM_MONITOR_RECONNECT_MAX_S="2"),
        logs=tmp_path / "logs",
    )
    try:
        deadline = time.monotonic() + 90
        while camera_status(world) not in ("reconnecting", "offline"):
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = process_output(proc)
                pytest.fail(f"the worker never reported its camera unreachable:\n{err[-3000:]}")
            time.sleep(0.3)
        with world.engine.connect() as conn:
            camera_id = conn.execute(
                text("SELECT id FROM cameras WHERE name = :n"), {"n": CAMERA}
            ).scalar_one()
        yield camera_id
    finally:
        proc.terminate()
        out, err = process_output(proc, timeout=60)
    assert "Traceback" not in err
    assert "no session (the camera sent no frame)" in out


def lessons(world: World) -> int:
    with world.engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM class_sessions")).scalar_one()


def test_status_health_and_cards_say_the_camera_is_unreachable_and_no_lesson_is_opened(
    unreachable_camera: int, world: World, login
) -> None:
    done = run_cli("--db", world.url, "status", "--json")
    assert done.returncode == 0, done.stderr
    (row,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["state"] in UNREACHABLE
    assert row["capture_detail"] == "cannot open source"
    assert row["capture_since"] is not None
    assert row["last_error"].startswith("camera unreachable since ")
    assert row["last_error"].endswith("(cannot open source)")
    table = run_cli("--db", world.url, "status").stdout
    assert "camera unreachable since" in table

    world.user("head", admin=True)
    client = login("head")
    health = client.get("/api/health").get_json()
    (worker,) = health["workers"]
    assert worker["state"] in UNREACHABLE
    assert worker["capture_state"] in ("reconnecting", "offline")
    assert worker["capture_detail"] == "cannot open source"
    assert worker["last_error"].startswith("camera unreachable since ")
    page = client.get("/health").get_data(as_text=True)
    assert "camera unreachable since" in page
    assert any(state in page for state in UNREACHABLE)

    (card,) = client.get("/api/cameras").get_json()["cameras"]
    assert card["status"] in ("reconnecting", "offline")
    assert card["problem"].startswith("Camera unreachable since ")
    assert card["problem"].endswith("(cannot open source)")
    assert card["problem"] in client.get("/cameras").get_data(as_text=True)

    live = client.get(f"/api/cameras/{unreachable_camera}/live").get_json()
    assert live["session"] is None  # no lesson "in progress" without a single frame
    assert live["camera"]["problem"] == card["problem"]
    assert lessons(world) == 0


def browser_test(test):
    """The marks of the other browser tests (headless Chromium; skipped where it is missing)."""
    for mark in DASHBOARD_BROWSER:
        test = mark(test)
    return test


@browser_test
def test_the_live_page_shows_a_banner_while_the_camera_is_unreachable(
    unreachable_camera: int, world: World, server: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    world.user("head", admin=True)
    browser = start_chromium(tmp_path / "chromium-profile")
    try:
        browser.get(f"{server}/cameras/{unreachable_camera}/live")
        browser.find_element(By.NAME, "username").send_keys("head")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        banner = lambda: browser.find_element(By.ID, "camera-problem")  # noqa: E731
        wait_for(lambda: banner().is_displayed(), what="the camera banner")
        assert banner().text.startswith("Camera unreachable since ")
        assert banner().text.endswith("(cannot open source)")
        assert browser.find_element(By.ID, "live").get_attribute("data-lesson") == "none"
        assert browser.find_element(By.ID, "live").get_attribute("data-camera") == "unreachable"
    finally:
        browser.quit()
