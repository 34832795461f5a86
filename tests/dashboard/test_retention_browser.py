"""A purged lesson in real Chromium: session.js says the retention policy deleted its observations under the
chart and in the faces table, as the summary does, never "No faces were detected"."""

from __future__ import annotations

from tests.dashboard.helpers import PASSWORD
from tests.dashboard.test_retention_pages import NO_FACES, PURGED, lessons, purge_now
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for

pytestmark = DASHBOARD_BROWSER


def test_in_a_real_browser_the_purged_lesson_says_so_under_its_chart_and_in_its_faces_table(
    world, server, tmp_path
):
    from selenium.webdriver.common.by import By

    ids = lessons(world)
    purge_now(world)
    driver = start_chromium(tmp_path / "chromium-profile")
    try:
        driver.get(server + f"/sessions/{ids['old']}")
        driver.find_element(By.NAME, "username").send_keys("alice")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        note = wait_for(
            lambda: driver.find_element(By.ID, "timeline-note").text or None, what="the timeline note"
        )
        faces = wait_for(
            lambda: driver.find_element(By.CSS_SELECTOR, "#tracks tbody").text or None, what="the faces table"
        )
        summary = driver.find_element(By.ID, "summary-lines").text
        for shown in (note, faces, summary):
            assert shown.startswith(PURGED) and NO_FACES not in shown
    finally:
        driver.quit()
