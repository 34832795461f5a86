"""The timetable edited in a real Chromium (issue 24): a running ``serve`` imported the school TOML's
timetable into the database; the admin moves a period on the timetable page to start in under a minute,
the camera card says when, and the worker (never restarted) opens the lesson at that start and ends it."""

from __future__ import annotations

import signal
import tomllib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor.store.cameras import camera_by_name
from monitor.store.schema import ClassSession, User, WorkerStatus
from monitor.store.timetables import POLL_S, import_timetables, period_rows
from tests.conftest import GROUP, cli_env, process_output, requires_videos, start_cli
from tests.dashboard.helpers import PASSWORD
from tests.support.browser import DASHBOARD_BROWSER, log_in, save_full_page, start_chromium, wait_for

pytestmark = [*DASHBOARD_BROWSER, pytest.mark.slow]
ZONE = "Pacific/Auckland"  # far from UTC: a period read in the wrong zone would be 13 hours off
LEAD_S = 40  # from the save to the period's start: the worker's next read (every POLL_S) fits in it


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


@requires_videos
def test_a_period_moved_in_the_browser_is_recorded_by_the_running_worker(server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    world.setting("timezone", ZONE)
    world.user("ada", admin=True)
    school = tmp_path / "school.toml"
    school.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\nretention_every_s = 0\n'
        f'[[cameras]]\nname = "room-7"\nsource = "{GROUP}"\nloop = true\nrealtime = true\n'
        'mode = "attention"\nsample_fps = 5\n'
        'timetable = [{day = "Sun", start = "03:00", end = "03:05", label = "Maths 7B"}]\n'
    )
    serve = start_cli(
        "serve", "--config", str(school), env=cli_env(CLASSROOM_MONITOR_DB_URL=world.url), logs=tmp_path
    )
    try:
        # serve imported the TOML's period into the database, and its worker waits, idle, holding the camera
        def idle_worker() -> bool:
            with world.Session() as db:
                ws = db.scalar(select(WorkerStatus))
                return ws is not None and ws.state == "idle"

        wait_for(idle_worker, timeout=120, what="room-7's worker, idle outside its timetable")
        with world.Session() as db:
            (period,) = period_rows(db, 1)
            camera_id = period.camera_id
        browser.get(f"{server}/timetable?camera={camera_id}")
        log_in(browser, "ada", PASSWORD)
        assert "03:00–03:05" in browser.page_source

        start = (datetime.now(UTC) + timedelta(seconds=LEAD_S)).replace(microsecond=0)
        end = start + timedelta(seconds=20)
        local_start, local_end = start.astimezone(ZoneInfo(ZONE)), end.astimezone(ZoneInfo(ZONE))
        if local_start.date() != local_end.date():
            pytest.skip("the period would cross local midnight")
        row = browser.find_element(By.CSS_SELECTOR, f'[data-period-id="{period.id}"]')
        Select(row.find_element(By.NAME, "day")).select_by_value(str(local_start.weekday()))
        for name, value in (("start", local_start), ("end", local_end)):
            field = row.find_element(By.NAME, name)
            field.clear()
            field.send_keys(f"{value:%H:%M:%S}")
        row.find_element(By.CSS_SELECTOR, "button[value=edit_period]").click()
        wait_for(lambda: "Period saved" in browser.page_source, what="the saved message")
        saved = datetime.now(UTC)
        assert saved < start - timedelta(seconds=POLL_S), "the save came too late to test the pick-up"

        # The camera card says what comes next, in school time.
        browser.get(f"{server}/cameras")
        card = browser.find_element(By.CSS_SELECTOR, f'[data-camera-id="{camera_id}"]')
        wait_for(
            lambda: f"period 1 {local_start:%H:%M:%S} · Maths 7B" in card.text,
            what="the next period on the card",
        )
        assert "no lesson now (timetabled)" in card.text

        def lesson() -> ClassSession | None:
            with world.Session() as db:
                return db.scalar(select(ClassSession).where(ClassSession.camera_id == camera_id))

        wait_for(lambda: lesson() is not None, timeout=LEAD_S + 30, what="the lesson at the moved period")
        opened = lesson()
        assert opened.label == f"Maths 7B · {local_start:%a} period 1"
        late_s = (opened.started_at - start).total_seconds()
        assert abs(late_s) < 2.0, late_s
        wait_for(lambda: lesson().ended_at is not None, timeout=60, what="the lesson's end")
        closed = lesson()
        assert abs((closed.ended_at - end).total_seconds()) < 2.0
        print(
            f"saved {(start - saved).total_seconds():.1f} s before the start; lesson opened {late_s:+.2f} s"
        )
        assert serve.poll() is None  # never restarted
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = process_output(serve, timeout=120)
    assert serve.returncode == 0, err[-3000:]
    assert "timetable imported" in err, err[-3000:]


# Every weekly period's day, start, end and class field, and whether a visible text with the field's name
# (a label's words, a column heading's) sits right above it: under 30 px up, overlapping it sideways.
UNNAMED_FIELDS = """
const names = arguments[0], out = [];
const texts = [];
const walk = document.createTreeWalker(document.getElementById("periods"), NodeFilter.SHOW_TEXT);
while (walk.nextNode()) {
  const range = document.createRange();
  range.selectNodeContents(walk.currentNode);
  const box = range.getBoundingClientRect();
  if (box.width > 0) texts.push({ text: walk.currentNode.data.trim().toLowerCase(), box });
}
for (const row of document.querySelectorAll("#periods [data-period-id]")) {
  for (const [field, name] of Object.entries(names)) {
    const box = row.querySelector(`[name=${field}]`).getBoundingClientRect();
    const named = texts.some((t) => t.text === name.toLowerCase() && t.box.bottom <= box.top + 1
      && box.top - t.box.bottom < 30 && t.box.left < box.right && t.box.right > box.left);
    const where = `${Math.round(box.left)},${Math.round(box.top)}`;
    if (!named) out.push(`period ${row.dataset.periodId} ${field} at ${where}`);
  }
}
return out;
"""
FIELD_NAMES = {
    "en": {"day": "Day", "start": "Start", "end": "End", "label": "Class"},
    "zh_Hans_CN": {"day": "星期", "start": "开始", "end": "结束", "label": "班级"},
}


@pytest.mark.parametrize(
    ("locale", "window"), [("en", "1440,1000"), ("zh_Hans_CN", "390,844"), ("en", "390,844")]
)
def test_the_timetable_page_passes_axe_and_fits_a_phone(server, world, tmp_path, locale, window) -> None:
    from tests.dashboard.test_accessibility_browser import AXE, _violations
    from tests.dashboard.test_trends_browser import open_logged_in

    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm ci)")
    world.setting("timezone", "Asia/Shanghai")
    world.user("alice", admin=True)
    with world.Session.begin() as db:
        db.query(User).filter_by(username="alice").one().locale = locale
        import_timetables(db, tomllib.loads(AXE_SCHOOL), actor="cli")
        room = camera_by_name(db, "教学楼301").id
    browser = start_chromium(tmp_path / "profile", window=window)
    browser.set_script_timeout(60)
    try:
        width = int(window.split(",")[0])
        assert browser.execute_script("return window.innerWidth") == width  # a phone's width, not 500 px
        open_logged_in(browser, server, "/cameras")
        for path in (
            f"/timetable?camera={room}&week=2026-12-07",
            "/timetable?class=数学 初二(3)班&week=2026-12-07",
        ):
            assert _violations(browser, server, path) == [], path
            state = "cancelled" if "camera=" in path else "holiday"  # Tue 8 Dec cancelled; Fri 11 Dec 运动会
            assert "08:00–08:45" in browser.page_source and f'data-state="{state}"' in browser.page_source
            wide = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{path} overflows by {wide} px"
            if "camera=" in path:  # the admin's weekly periods: every field's name shows right above it
                assert browser.execute_script(UNNAMED_FIELDS, FIELD_NAMES[locale]) == [], path
            save_full_page(browser, tmp_path / f"timetable-{locale}-{width}-{state}.png")
    finally:
        browser.quit()


AXE_SCHOOL = """
[[holidays]]
from = 2026-12-11
label = "运动会"

[[cameras]]
name = "教学楼301"
timetable = [
  {day = "Mon", start = "08:00", end = "08:45", label = "数学 初二(3)班"},
  {day = "Tue", start = "08:00", end = "08:45", label = "语文 初二(3)班"},
  {day = "Fri", start = "08:00", end = "08:45", label = "数学 初二(3)班"},
]
changes = [{date = 2026-12-08, cancel = ["08:00"]},
           {date = 2026-12-09, periods = [{start = "10:00", end = "11:30", label = "数学 初二(3)班 测验"}]}]
"""
