"""Issue 13 in a real headless Chromium, at 1440 px and at 390 px (a phone): the session page answers first
(the reports' own summary), markers go on the timelines, the lesson's state is honest on the live view, and
no page overflows a phone's width or logs a console error. Screenshots go to the test's tmp_path."""

from __future__ import annotations

import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.reports.content import headline, load_content
from monitor.serve.alerts import CAMERA_DOWN
from monitor.store import notifications
from monitor.store.cameras import camera_by_name
from monitor.store.schema import ClassSession
from monitor.store.timetables import import_timetables
from tests.dashboard.test_dashboard_browser import canvas_has_ink, log_in, pytestmark, wait_for  # noqa: F401
from tests.support.browser import start_chromium

SIZES = {"desktop": "1440,1000", "phone": "390,844"}


@pytest.fixture(params=list(SIZES))
def browser(request, tmp_path):
    width, height = (int(v) for v in SIZES[request.param].split(","))
    driver = start_chromium(tmp_path / "chromium-profile", window=f"{max(width, 500)},{height}")
    # headless Chromium keeps windows at least 500 px wide: emulate the phone's viewport instead
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )
    driver.size_name, driver.width = request.param, width
    yield driver
    driver.quit()


def shot(browser, tmp_path: Path, name: str) -> None:
    browser.save_screenshot(str(tmp_path / f"{name}-{browser.size_name}.png"))


def console_errors(browser) -> list[str]:
    return [
        e["message"]
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]


def overflow(browser) -> int:
    """How many px the page is wider than the window (0: nothing overflows sideways). On an emulated phone
    a page wider than the screen widens the layout viewport itself (innerWidth 462 at a 390 px phone), so
    that growth counts as overflow too."""
    grown = browser.execute_script("return window.innerWidth") - browser.width
    return max(
        grown,
        browser.execute_script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - window.innerWidth"
        ),
    )


def summary_lines(browser) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll('#summary-lines li')].map(li => li.textContent)"
    )


def test_session_page_answers_first_and_takes_markers(server, browser, school, world, tmp_path):
    from selenium.webdriver.common.by import By

    sid = school["lesson_a"]
    log_in(browser, server, "alice", f"/sessions/{sid}")
    with world.Session() as db:
        expected = headline(load_content(db, sid))
    assert summary_lines(browser) == expected  # one function, one source of truth
    assert any(line.startswith("Engagement index averaged") for line in expected)
    wait_for(lambda: browser.execute_script("return !!window.timelineChart"), what="the primary chart")
    labels = browser.execute_script("return window.timelineChart.data.datasets.map(d => d.label)")
    assert labels == ["Heads up", "Engagement index"]  # one meaning of attention; expressions are not on it
    assert browser.execute_script("return !!window.sessionCharts.people")
    # expressions: a secondary chart, collapsed until asked for
    details = browser.find_element(By.ID, "emotion-card")
    assert details.get_attribute("open") is None
    details.find_element(By.TAG_NAME, "summary").click()
    wait_for(lambda: canvas_has_ink(browser, "emotion-chart"), what="the expressions chart drawn")
    browser.execute_script("arguments[0].scrollIntoView()", details)
    shot(browser, tmp_path, "session-expressions")
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, tmp_path, "session-top")
    # the length tile stays on one line ("1 min" here; "2 min 22 s" elsewhere)
    tile = browser.find_element(By.CSS_SELECTOR, '[data-field="duration"]')
    assert tile.text == "1 min"
    assert browser.execute_script(
        "const e = arguments[0]; return e.getClientRects().length === 1 && "
        "e.getBoundingClientRect().height < 1.6 * parseFloat(getComputedStyle(e).lineHeight)",
        tile,
    )
    # a marker added afterwards, at a time within the lesson (school zone is UTC here)
    form = browser.find_element(By.ID, "marker-form")
    form.find_element(By.NAME, "text").send_keys("group work starts")
    form.find_element(By.NAME, "at").send_keys("09:00:30")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: "group work starts" in browser.find_element(By.ID, "marker-list").text, what="marker")
    assert "09:00:30" in browser.find_element(By.ID, "marker-list").text
    drawn = wait_for(
        lambda: browser.execute_script(
            "return window.timelineChart.options.plugins.cmOverlays.markers.map(m => m.text)"
        ),
        what="the marker on the timeline",
    )
    assert drawn == ["group work starts"]
    # the marker sits at 09:00:30 UTC on the chart's time axis
    at = browser.execute_script("return window.timelineChart.options.plugins.cmOverlays.markers[0].x")
    assert at == datetime(2025, 3, 3, 9, 0, 30, tzinfo=UTC).timestamp() * 1000
    assert overflow(browser) <= 0
    shot(browser, tmp_path, "session")
    assert console_errors(browser) == []


def test_a_lesson_without_faces_says_so(server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By

    cam = world.camera("room-empty")
    sid = world.lesson(cam, "Empty room", seconds=30, tracks=0)
    world.user("erin", cameras=(cam,))
    log_in(browser, server, "erin", f"/sessions/{sid}")
    lines = summary_lines(browser)
    assert lines and lines[0].startswith("No faces were detected in this lesson")
    main = browser.find_element(By.TAG_NAME, "main").text
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, '[data-field="engagement"]').text == "–", what="–")
    assert "0%" not in main
    shot(browser, tmp_path, "session-empty")
    assert console_errors(browser) == []


def test_in_progress_flips_when_the_lesson_ends(server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By

    cam = world.camera("room-live")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=40)
    sid = world.lesson(cam, "Chemistry 10A", start=start, seconds=30, running=True)
    world.user("lena", cameras=(cam,))
    log_in(browser, server, "lena", f"/sessions/{sid}")
    assert browser.find_element(By.ID, "lesson-state").text.lower() == "in progress"
    with world.Session.begin() as db:
        db.execute(
            update(ClassSession).where(ClassSession.id == sid).values(ended_at=start + timedelta(seconds=35))
        )
    wait_for(
        lambda: browser.find_element(By.ID, "lesson-state").text.lower() == "ended", timeout=20, what="ended"
    )
    assert console_errors(browser) == []


def test_live_view_keeps_lesson_and_connection_apart(server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By

    cam = world.camera("room-live")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    sid = world.lesson(cam, "Biology 9C", start=start, seconds=28, tracks=4, running=True)
    world.user("lena", cameras=(cam,))
    log_in(browser, server, "lena", f"/cameras/{cam}/live")
    live = browser.find_element(By.ID, "live")
    wait_for(lambda: live.get_attribute("data-watching") == "yes", what="watch")
    wait_for(lambda: live.get_attribute("data-lesson") == "running", what="the running lesson")
    assert browser.find_element(By.ID, "connection").text.lower() == "connected"
    wait_for(lambda: browser.find_element(By.ID, "heartbeat").text.endswith("ago"), what="relative heartbeat")
    assert browser.find_element(By.ID, "updated").text.endswith("ago")
    # attention and engagement: separate charts, each with its own axis
    assert browser.execute_script("return window.liveCharts.rolling.data.datasets.length") == 1
    assert browser.execute_script("return window.liveCharts.engagement.data.datasets.length") == 1
    # a teacher marks a moment live
    form = browser.find_element(By.ID, "live-marker-form")
    form.find_element(By.NAME, "text").send_keys("quiz")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: live.get_attribute("data-markers") == "1", what="the live marker")
    assert browser.execute_script(
        "return window.liveCharts.rolling.options.plugins.cmOverlays.markers.map(m => m.text)"
    ) == ["quiz"]
    # the frames stopped 2 s before the page opened: past the stale limit the numbers are marked stale
    wait_for(lambda: live.get_attribute("data-stale") == "yes", timeout=15, what="stale data")
    assert overflow(browser) <= 0
    shot(browser, tmp_path, "live")
    # the lesson ends: the page says so (apart from the connection) and links to the report
    ended = start + timedelta(seconds=29)
    with world.Session.begin() as db:
        db.execute(update(ClassSession).where(ClassSession.id == sid).values(ended_at=ended))
    banner = wait_for(
        lambda: (
            browser.find_element(By.ID, "lesson-ended").is_displayed()
            and browser.find_element(By.ID, "lesson-ended")
        ),
        timeout=15,
        what="the lesson-ended line",
    )
    assert banner.text == f"Lesson ended {ended.strftime('%H:%M')} · view report"
    link = browser.find_element(By.ID, "lesson-report-link")
    assert link.get_attribute("href").endswith(f"/sessions/{sid}")
    assert browser.find_element(By.ID, "connection").text.lower() == "connected"
    assert browser.find_element(By.ID, "lesson-state").text.lower() == "lesson ended"
    shot(browser, tmp_path, "live-ended")
    assert console_errors(browser) == []


def is_download(rule: str) -> bool:
    """A route that answers with a file, not a page: a lesson's export.<fmt>, a bulk export's zip."""
    return "/export." in rule or rule.endswith("/download")


PHONE_SCHOOL = """
[[cameras]]
name = "room-t"
timetable = [
  {day = "Mon", start = "08:00", end = "08:45", label = "Design and Technology 10B (double, workshop 2)"},
  {day = "Tue", start = "08:00", end = "08:45", label = "数学 初二(3)班"},
  {day = "Sun", start = "13:00", end = "13:45", label = "数学 初二(3)班"},
]
changes = [{date = 2026-12-08, cancel = ["08:00"]},
           {date = 2026-12-09, periods = [{start = "10:00", end = "11:30", label = "数学 初二(3)班 测验"}]}]
"""


def _pages(app, school: dict, world) -> list[str]:
    """Every HTML page an admin can open: the argument-free GET routes, a session, a live view, the
    picture set-up and a timetabled week (per camera and per class), with long class names."""
    skip = ("/api", "/static", "/login", "/logout", "/socket.io")
    paths = sorted(
        {
            r.rule
            for r in app.url_map.iter_rules()
            if "GET" in r.methods
            and not r.arguments
            and not r.rule.startswith(skip)
            and not is_download(r.rule)
            and r.rule != "/"
        }
    )
    with world.Session.begin() as db:
        import_timetables(db, tomllib.loads(PHONE_SCHOOL), actor="cli")
        room_t = camera_by_name(db, "room-t").id
        opened = datetime(2026, 12, 7, 8, 5, tzinfo=UTC)  # the health page's alert list, one row long
        notifications.start_alert(db, CAMERA_DOWN, room_t, opened, "room-t: exited with status 1")
    return [
        *paths,
        f"/sessions/{school['lesson_a']}",
        f"/cameras/{school['room_a']}/live",
        f"/admin/cameras/{school['room_a']}/picture",
        f"/timetable?camera={room_t}&week=2026-12-07",
        "/timetable?class=数学 初二(3)班&week=2026-12-07",
    ]


def test_no_page_overflows_or_logs_errors(server, browser, app, school, world, tmp_path):
    from selenium.webdriver.common.by import By

    world.setting("mode", "attention")
    log_in(browser, server, "admin", "/cameras")
    pages = _pages(app, school, world)
    for page in ("/sessions", "/settings", "/timetable", "/exports", "/account/email", "/account/password"):
        assert page in pages
    problems = {}
    for path in pages:
        browser.get(server + path)
        wait_for(lambda: browser.execute_script("return document.readyState") == "complete", what=path)
        time.sleep(0.8)  # the page's own fetches and charts
        badge = browser.find_elements(By.ID, "attention-only-badge")
        if not badge or not badge[0].is_displayed():
            problems[path] = "no attention-only badge in the header"
        wide = overflow(browser)
        if wide > 0:
            problems[path] = f"{wide} px wider than the window"
        errors = console_errors(browser)
        if errors:
            problems[path] = errors
        if browser.find_elements(By.ID, "emotion-card") or browser.find_elements(By.ID, "dist-chart"):
            problems[path] = "an expressions chart in attention-only mode"
        shot(browser, tmp_path, path.strip("/").replace("/", "-").replace("?", "-") or "index")
    assert problems == {}


def test_times_in_the_school_zone_and_faces_a_page_at_a_time(server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By

    world.setting("timezone", "Asia/Kolkata")  # UTC+05:30: 09:00 UTC is 14:30 at school
    cam = world.camera("room-big")
    sid = world.lesson(cam, "Assembly", seconds=20, tracks=25)
    world.user("tara", cameras=(cam,))
    log_in(browser, server, "tara", f"/sessions/{sid}")
    assert "Mon 03 Mar 2025 14:30–14:30" in browser.find_element(By.CSS_SELECTOR, ".page-head").text
    wait_for(lambda: browser.execute_script("return !!window.timelineChart"), what="the primary chart")
    ticks = browser.execute_script("return window.timelineChart.scales.x.ticks.map(t => t.label)")
    assert ticks[0] == "14:30:00", ticks
    # 25 faces: the first 10, then more on request
    rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#tracks tbody tr"), what="track rows")
    assert len(rows) == 10
    browser.find_element(By.ID, "tracks-more").click()
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#tracks tbody tr")) == 25, what="all rows")
    assert not browser.find_element(By.ID, "tracks-more").is_displayed()
    assert overflow(browser) <= 0
    shot(browser, tmp_path, "session-zone")
    assert console_errors(browser) == []
