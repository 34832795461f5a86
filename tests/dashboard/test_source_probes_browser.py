"""The admin page's "Test connection" in a real Chromium (issue 24): the page asks, polls, and shows within
10 s the answer of the camera's serve host, a real ``serve`` under a host name of its own."""

from __future__ import annotations

import time

import pytest

from monitor.store import camera_sources
from monitor.store.schema import Camera
from tests.conftest import GROUP, requires_videos
from tests.dashboard.helpers import PASSWORD
from tests.dashboard.test_source_probes import (  # noqa: F401 - other_host_serve is a fixture
    SERVE_HOST,
    _wait_until_serve_answers,
    other_host_serve,
)
from tests.support.browser import DASHBOARD_BROWSER, log_in, start_chromium, wait_for

pytestmark = [*DASHBOARD_BROWSER, pytest.mark.slow]


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


@requires_videos
def test_the_page_shows_which_host_tested_within_10_s(server, browser, world, other_host_serve) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    world.user("ada", admin=True)
    room = world.camera("room-p")
    with world.Session.begin() as db:
        camera_sources.set_camera_source(db, db.get(Camera, room), str(GROUP), SERVE_HOST, keep_password=True)
    _wait_until_serve_answers(world, room, other_host_serve)

    browser.get(f"{server}/admin/cameras")
    log_in(browser, "ada", PASSWORD)
    form = browser.find_element(By.CSS_SELECTOR, f"#camera-{room} form.test-form")
    url_before = browser.current_url
    started = time.monotonic()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    result = form.find_element(By.CSS_SELECTOR, ".test-result")
    wait_for(lambda: "tested from host" in result.text, timeout=12, what="the test's answer")
    took = time.monotonic() - started
    assert took < 10, took
    assert f"tested from host {SERVE_HOST}: reachable, 640x360" in result.text, result.text
    assert result.get_attribute("data-host") == SERVE_HOST and "ok" in result.get_attribute("class")
    assert browser.current_url == url_before  # answered in place: the page polled, it did not reload
    print(f"browser: answered by {SERVE_HOST} in {took:.2f} s")
