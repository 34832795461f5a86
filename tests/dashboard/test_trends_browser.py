"""The trends page and the sessions list in real headless Chromium, at 1440 px and on a 390 px phone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dashboard.helpers import PASSWORD
from tests.dashboard.test_trends import MONDAY, lesson
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for

pytestmark = DASHBOARD_BROWSER


@pytest.fixture
def term(world) -> dict:
    room = world.camera("room-a")
    ids = [
        lesson(world, room, "Maths 7B · Mon period 1", MONDAY, heads_up=0.8),
        lesson(world, room, "Maths 7B · Wed period 3", MONDAY + timedelta(days=2), heads_up=0.6),
        lesson(world, room, "Maths 7B · Mon period 1", MONDAY + timedelta(days=7), heads_up=0.5),
        lesson(world, room, "Maths 7B · Tue period 2", MONDAY + timedelta(days=8), people=0),
    ]
    world.user("alice", cameras=(room,))
    return {"room": room, "ids": ids}


def open_logged_in(browser, server: str, path: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + path)
    browser.find_element(By.NAME, "username").send_keys("alice")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "/login" not in browser.current_url, what="the login to finish")


def console_errors(browser) -> list[str]:
    # the browser's own favicon request is not the page's doing
    return [
        e["message"]
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]


def overflow(browser) -> int:
    return browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("window", ["1440,1000", "390,844"])
def test_trend_page_draws_one_point_per_lesson_and_the_weekly_table(server, term, tmp_path, window) -> None:
    from selenium.webdriver.common.by import By

    browser = start_chromium(tmp_path / "profile", window=window)
    try:
        open_logged_in(browser, server, "/trends?label=Maths 7B")
        wait_for(
            lambda: browser.execute_script("return !!(window.trendCharts && window.trendCharts.main)"),
            what="the trend chart",
        )
        points = browser.execute_script("return window.trendCharts.main.data.datasets[0].data.map(p => p.y)")
        assert points == [80, 60, 50, None]  # the lesson without faces is a gap, not 0%
        assert "1 without figures" in browser.find_element(By.ID, "trend-note").text
        rows = wait_for(
            lambda: browser.find_elements(By.CSS_SELECTOR, "#weekly tbody tr"), what="weekly rows"
        )
        assert len(rows) == 2
        assert "▼ -20 pts" in rows[1].text and "50%" in rows[1].text
        assert "Mon 02 Nov 2026" in rows[0].text
        assert overflow(browser) <= 0
        browser.save_screenshot(str(tmp_path / f"trends-{window.split(',')[0]}.png"))
        browser.get(server + "/sessions")
        assert browser.find_elements(By.CSS_SELECTOR, "svg.spark polyline")
        assert "no faces detected" in browser.find_element(By.ID, "session-list").text
        assert overflow(browser) <= 0
        browser.save_screenshot(str(tmp_path / f"sessions-{window.split(',')[0]}.png"))
        assert console_errors(browser) == []
    finally:
        browser.quit()


def test_trend_page_opens_on_the_teachers_class_and_shows_api_errors(server, term, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser = start_chromium(tmp_path / "profile")
    try:
        open_logged_in(browser, server, "/trends")
        wait_for(lambda: "label=Maths" in browser.current_url, what="the default selection")
        chosen = Select(browser.find_element(By.NAME, "label")).first_selected_option
        assert chosen.text == "Maths 7B"
        assert browser.find_element(By.NAME, "from").get_attribute("value")  # the last four weeks
        assert browser.find_elements(By.ID, "trend")
        browser.get(server + "/trends?label=Maths 7B&from=2026-11-20&to=2026-11-01")
        note = browser.find_element(By.ID, "trend-note")
        wait_for(lambda: "must not be before" in note.text, what="the API's message")
    finally:
        browser.quit()


@pytest.mark.parametrize("window", ["1440,1000", "390,844"])
def test_two_classes_picked_on_the_page_draw_two_series_with_the_apis_figures(
    server, world, tmp_path, window
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    room = world.camera("room-a")
    for day, (label, heads_up) in enumerate([("Maths 7B", 0.8), ("Physics 8A", 0.3), ("Maths 7B", 0.6)]):
        lesson(world, room, label, MONDAY + timedelta(days=day), heads_up=heads_up)
    lesson(world, room, "Physics 8A", MONDAY + timedelta(days=7), heads_up=0.5)
    lesson(world, room, "Art 9C", MONDAY + timedelta(days=8), heads_up=0.9)
    world.user("alice", cameras=(room,))
    browser = start_chromium(tmp_path / "profile", window=window)
    try:
        open_logged_in(browser, server, "/trends?camera=&from=2026-11-01")
        classes = Select(browser.find_element(By.NAME, "label"))
        assert classes.is_multiple
        classes.select_by_visible_text("Maths 7B")
        classes.select_by_visible_text("Physics 8A")
        browser.find_element(By.NAME, "from").send_keys(Keys.ENTER)  # submits the filter form
        wait_for(
            lambda: browser.execute_script("return !!(window.trendCharts && window.trendCharts.main)"),
            what="the overlaid chart",
        )
        assert "label=Maths+7B&label=Physics+8A" in browser.current_url
        datasets = browser.execute_script(
            "return window.trendCharts.main.data.datasets"
            ".map(d => ({label: d.label, hidden: d.hidden, y: d.data.map(p => p.y)}))"
        )
        shown = [d for d in datasets if not d["hidden"]]
        assert [d["label"] for d in shown] == ["Maths 7B", "Physics 8A"]  # two series, Art 9C not among them
        api = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(document.getElementById('trend').dataset.api).then(r => r.json()).then(done);"
        )
        for drawn, series in zip(shown, api["series"], strict=True):
            assert drawn["y"] == [round(p["attention"] * 1000) / 10 for p in series["points"]]
        assert [d["y"] for d in shown] == [[80, 60], [30, 50]]
        rows = browser.find_elements(By.CSS_SELECTOR, "#weekly tbody tr")
        assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows] == [
            "Maths 7B",
            "Physics 8A",
            "Physics 8A",
        ]
        assert "Maths 7B: 2 lessons; Physics 8A: 2 lessons" in browser.find_element(By.ID, "trend-note").text
        assert overflow(browser) <= 0
        assert console_errors(browser) == []
        browser.save_screenshot(str(tmp_path / f"trends-compare-{window.split(',')[0]}.png"))
    finally:
        browser.quit()
