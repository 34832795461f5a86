"""A camera a real ``serve`` runs from its config file, on the admin page in a real Chromium: the page says
the source is set in that file on the serve's host and that a saved one is not used, and "Test connection"
shows, in place, the answer for the file's source from that host, naming the source tested."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from monitor.store import camera_sources
from monitor.store.schema import Camera
from tests.conftest import GROUP, requires_videos
from tests.dashboard.helpers import PASSWORD
from tests.dashboard.test_config_file_sources import SAVED, _file_host, _stop
from tests.dashboard.test_source_probes import SERVE_HOST
from tests.dashboard.test_toml_serve_loose_ends import _toml_serve
from tests.support.browser import DASHBOARD_BROWSER, log_in, start_chromium, wait_for

pytestmark = [*DASHBOARD_BROWSER, pytest.mark.slow]


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


@requires_videos
def test_the_page_says_the_file_source_is_used_and_tests_it(server, browser, world, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    world.user("ada", admin=True)
    room = world.camera("room-a")
    with world.Session.begin() as db:
        camera_sources.set_camera_source(db, db.get(Camera, room), SAVED, "", keep_password=True)
    serve = _toml_serve(world, tmp_path, "room-a")
    try:
        _file_host(world, room, serve, SERVE_HOST)
        browser.get(f"{server}/admin/cameras")
        log_in(browser, "ada", PASSWORD)
        notice = browser.find_element(By.CSS_SELECTOR, f"#camera-{room} .file-source").text
        assert f"Source set in the serve config file on host {SERVE_HOST}: {GROUP}" in notice, notice
        assert "a source saved below is not used while the file lists it" in notice, notice

        form = browser.find_element(By.CSS_SELECTOR, f"#camera-{room} form.test-form")
        started = time.monotonic()
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        result = form.find_element(By.CSS_SELECTOR, ".test-result")
        wait_for(lambda: "tested from host" in result.text, timeout=12, what="the test's answer")
        assert time.monotonic() - started < 10
        assert f"(source {GROUP}, set in the serve config file)" in result.text, result.text
        assert f"tested from host {SERVE_HOST}: reachable, 640x360" in result.text, result.text
    finally:
        _stop(serve, tmp_path)
