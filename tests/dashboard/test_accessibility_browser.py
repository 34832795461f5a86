"""Every page passes axe-core (WCAG 2.1 AA rules) with no serious or critical violation, in English and in
Chinese, at 1440 px and on a 390 px phone, in real headless Chromium. axe-core comes from npm like the
other front-end libraries (a dev dependency: ``npm ci`` installs it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.serve.alerts import CAMERA_DOWN
from monitor.store import notifications
from monitor.store.schema import User
from tests.dashboard.test_trends_browser import open_logged_in
from tests.support.browser import DASHBOARD_BROWSER, start_chromium

pytestmark = DASHBOARD_BROWSER
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: { type: "tag", values: arguments[0] }, resultTypes: ["violations"] })
  .then((r) => done(r.violations.filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`)))
  .catch((e) => done(["axe failed: " + e]));
"""


@pytest.fixture
def school_for_axe(world) -> dict:
    world.setting("timezone", "Asia/Shanghai")
    room = world.camera("教学楼301")
    lesson = world.lesson(room, "数学 初二(3)班", start=datetime(2026, 12, 8, 1, 0, tzinfo=UTC), seconds=120)
    world.lesson(room, "数学 初二(3)班", start=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), seconds=60)
    world.user("alice", admin=True)
    with world.Session.begin() as db:  # the health page's alert list: one episode closed, one still open
        notifications.start_alert(
            db, CAMERA_DOWN, room, datetime(2026, 12, 8, 1, 5, tzinfo=UTC), "教学楼301: down"
        )
        notifications.end_alerts(db, CAMERA_DOWN, room, datetime(2026, 12, 8, 1, 30, tzinfo=UTC))
        notifications.start_alert(
            db, CAMERA_DOWN, room, datetime(2026, 12, 8, 2, 5, tzinfo=UTC), "教学楼301: down"
        )
    return {"room": room, "lesson": lesson}


def _violations(browser, server: str, path: str) -> list[str]:
    browser.get(server + path)
    time.sleep(0.8)  # the scripts draw the charts and tables from the API
    browser.execute_script(AXE.read_text())
    return browser.execute_async_script(RUN_AXE, TAGS)


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (npm ci)")
@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
@pytest.mark.parametrize("window", ["1440,1000", "390,844"])
def test_every_page_has_no_serious_accessibility_violation(
    server, world, school_for_axe, tmp_path, locale, window
) -> None:
    with world.Session.begin() as db:
        db.query(User).filter_by(username="alice").one().locale = locale
    room, lesson = school_for_axe["room"], school_for_axe["lesson"]
    pages = [
        "/cameras",
        f"/cameras/{room}/live",
        "/sessions",
        f"/sessions/{lesson}",
        "/trends?label=数学 初二(3)班",
        "/settings",
        "/admin/users",
        "/admin/cameras",
        "/health",
        "/admin/audit",
        "/account/password",
        "/account/email",
        "/exports",
        "/timetable",
        f"/admin/cameras/{room}/picture",
    ]
    browser = start_chromium(tmp_path / "profile", window=window)
    browser.set_script_timeout(60)
    try:
        found = {"/login": _violations(browser, server, "/login")}
        open_logged_in(browser, server, "/cameras")
        found.update({path: _violations(browser, server, path) for path in pages})
        assert {path: v for path, v in found.items() if v} == {}
    finally:
        browser.quit()


def test_keyboard_reaches_the_content_and_every_face_row(server, school_for_axe, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.support.browser import wait_for

    browser = start_chromium(tmp_path / "profile")
    try:
        open_logged_in(browser, server, f"/sessions/{school_for_axe['lesson']}")
        body = browser.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)  # the first stop is the skip link, and it leads to the content
        first = browser.switch_to.active_element
        assert first.get_attribute("class") == "skip-link" and first.is_displayed()
        first.send_keys(Keys.ENTER)
        assert browser.switch_to.active_element.get_attribute("id") == "main"
        rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#tracks tbody tr"), what="face rows")
        row = rows[0]
        assert row.get_attribute("tabindex") == "0"
        row.send_keys(Keys.ENTER)  # focus and Enter open the face's timeline, as a click does
        chart_box = browser.find_element(By.ID, "track-chart-box")
        wait_for(chart_box.is_displayed, what="the face's chart")
        assert "selected" in row.get_attribute("class")
        canvases = browser.find_elements(By.CSS_SELECTOR, "canvas")
        assert canvases
        assert all(c.get_attribute("role") == "img" and c.get_attribute("aria-label") for c in canvases)
    finally:
        browser.quit()
