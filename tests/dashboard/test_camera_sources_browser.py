"""Cameras end to end in a real Chromium (issue 24): an admin adds a camera with a FILE source on the admin
page, and a real ``serve`` (database_cameras = true, started before the camera existed) records from it with
no restart; then the admin hands the camera to another host, and this host's worker stops."""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import func, select

from monitor.store.schema import Camera, ClassSession, Observation, WorkerStatus
from tests.conftest import VIDEOS, cli_env, process_output, start_cli
from tests.dashboard.helpers import PASSWORD
from tests.support.browser import DASHBOARD_BROWSER, log_in, start_chromium, wait_for

CLASSROOM = VIDEOS / "classroom_front_720p.mp4"
requires_classroom = pytest.mark.skipif(not CLASSROOM.is_file(), reason=f"clip not found: {CLASSROOM}")
pytestmark = [*DASHBOARD_BROWSER, pytest.mark.slow]
PICK_UP_S = 30.0  # the bound: serve runs a new or changed camera within this


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def _count(world, query) -> int:
    with world.Session() as db:
        return db.scalar(query) or 0


@requires_classroom
def test_a_camera_added_in_the_browser_is_recorded_by_a_running_serve(
    server, browser, world, tmp_path
) -> None:
    from selenium.webdriver.common.by import By

    world.user("ada", admin=True)
    school = tmp_path / "school.toml"
    school.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\ndatabase_cameras = true\nretention_every_s = 0\n'
        '[defaults]\nalways_on = true\nmode = "attention"\nloop = true\nrealtime = true\nsample_fps = 5\n'
    )
    serve = start_cli(
        "serve", "--config", str(school), env=cli_env(CLASSROOM_MONITOR_DB_URL=world.url), logs=tmp_path
    )
    try:
        time.sleep(3)  # serve is up and polling, with no camera to run
        assert serve.poll() is None, process_output(serve)
        browser.get(f"{server}/admin/cameras")
        log_in(browser, "ada", PASSWORD)
        form = browser.find_element(By.ID, "add-camera-form")
        form.find_element(By.NAME, "name").send_keys("Room 7")
        form.find_element(By.NAME, "source").send_keys(str(CLASSROOM))
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for(
            lambda: (
                "Added camera &#39;Room 7&#39;" in browser.page_source
                or "Added camera 'Room 7'" in browser.page_source
            ),
            what="the added message",
        )
        saved = time.monotonic()
        assert f"source {CLASSROOM}" in browser.page_source
        with world.Session() as db:
            cam = db.scalar(select(Camera).where(Camera.name == "Room 7"))
            assert cam.configured_source == str(CLASSROOM)
            camera_id = cam.id

        # serve picks it up: a worker claims the camera, opens the lesson and stores what it sees.
        beat = select(func.count()).select_from(WorkerStatus).where(WorkerStatus.camera_id == camera_id)
        wait_for(lambda: _count(world, beat), timeout=PICK_UP_S + 60, what="a worker for Room 7")
        picked_up = time.monotonic() - saved
        rows = (
            select(func.count())
            .select_from(Observation)
            .join(ClassSession, ClassSession.id == Observation.session_id)
            .where(ClassSession.camera_id == camera_id)
        )
        wait_for(lambda: _count(world, rows) > 0, timeout=120, what="lesson rows from Room 7")
        recorded = time.monotonic() - saved
        with world.Session() as db:
            lesson = db.scalar(select(ClassSession).where(ClassSession.camera_id == camera_id))
            assert lesson.label == "Room 7" and lesson.ended_at is None
        print(f"worker row {picked_up:.1f} s, first lesson rows {recorded:.1f} s after the save")

        # "Test connection" on the same file, from the browser.
        card = browser.find_element(By.ID, f"camera-{camera_id}")
        card.find_element(By.CSS_SELECTOR, ".test-form button").click()
        wait_for(lambda: "reachable, 1280x720" in browser.page_source, timeout=30, what="the test's answer")

        # Hand the camera to another host: this host's worker ends its lesson and stops, no restart.
        card = browser.find_element(By.ID, f"camera-{camera_id}")
        hosts = card.find_element(By.NAME, "hosts")
        hosts.clear()
        hosts.send_keys("another-host")
        card.find_element(By.CSS_SELECTOR, ".source-form button[type=submit]").click()
        wait_for(lambda: "hosts another-host" in browser.page_source, what="the saved hosts")
        moved = time.monotonic()

        def ended() -> bool:
            with world.Session() as db:
                return (
                    db.scalar(select(ClassSession.ended_at).where(ClassSession.id == lesson.id)) is not None
                )

        wait_for(ended, timeout=PICK_UP_S + 30, what="the lesson ended on this host")
        print(f"lesson ended {time.monotonic() - moved:.1f} s after the hosts changed")
        assert serve.poll() is None  # never restarted
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = process_output(serve, timeout=120)
    assert serve.returncode == 0, err[-3000:]
    assert "set up on the admin page" in err and "no longer set up for this host" in err, err[-3000:]
