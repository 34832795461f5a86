"""The Chinese dashboard in real headless Chromium at 1440 px and on a 390 px phone: the lesson page, its
charts and the trends page draw their words from the catalogue; screenshots (and the PDF's first page) are
written to the test's tmp folder."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from monitor.store.schema import User
from tests.dashboard.test_trends_browser import console_errors, open_logged_in, overflow
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for

pytestmark = DASHBOARD_BROWSER
LABEL = "数学 初二(3)班"


@pytest.fixture
def chinese_school(world) -> int:
    world.setting("timezone", "Asia/Shanghai")
    room = world.camera("教学楼301")
    lesson = world.lesson(room, LABEL, start=datetime(2026, 12, 8, 1, 0, tzinfo=UTC), seconds=240)
    user_id = world.user("alice", cameras=(room,))
    with world.Session.begin() as db:
        db.get(User, user_id).locale = "zh_Hans_CN"  # her own setting: the browser asks for English
    return lesson


@pytest.mark.parametrize("window", ["1440,1000", "390,844"])
def test_lesson_and_trends_pages_in_chinese(server, chinese_school, tmp_path, window) -> None:
    from selenium.webdriver.common.by import By

    width = window.split(",")[0]
    browser = start_chromium(tmp_path / "profile", window=window)
    try:
        open_logged_in(browser, server, f"/sessions/{chinese_school}")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans-CN"
        assert browser.find_element(By.TAG_NAME, "h1").text == LABEL
        wait_for(lambda: browser.execute_script("return !!window.timelineChart"), what="the lesson chart")
        labels = browser.execute_script("return window.timelineChart.data.datasets.map(d => d.label)")
        assert "抬头率" in labels and "参与度指数" in labels  # one meaning of attention: the heads-up share
        assert browser.find_element(By.ID, "lesson-state").text == "已结束"
        assert "2026年12月8日 周二 09:00" in browser.find_element(By.CSS_SELECTOR, ".page-head p.muted").text
        assert "分钟" in browser.find_element(By.CSS_SELECTOR, '[data-field="duration"]').text
        assert overflow(browser) <= 0
        browser.save_screenshot(str(tmp_path / f"lesson-zh-{width}.png"))
        browser.get(f"{server}/trends?label={LABEL}")
        wait_for(
            lambda: browser.execute_script("return !!(window.trendCharts && window.trendCharts.main)"),
            what="the trend chart",
        )
        assert "1 节课" in browser.find_element(By.ID, "trend-note").text
        assert overflow(browser) <= 0
        browser.save_screenshot(str(tmp_path / f"trends-zh-{width}.png"))
        assert console_errors(browser) == []
    finally:
        browser.quit()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_pdf_first_page_image(app, chinese_school, tmp_path) -> None:
    from tests.dashboard.helpers import log_in

    client = app.test_client()
    assert log_in(client, "alice").status_code == 302
    resp = client.get(f"/sessions/{chinese_school}/export.pdf")
    assert resp.status_code == 200
    (tmp_path / "report-zh.pdf").write_bytes(resp.data)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            str(tmp_path / "report-zh.pdf"),
            str(tmp_path / "pdf"),
        ],
        check=True,
    )
    assert (tmp_path / "pdf-1.png").stat().st_size > 10_000
