"""Every chart's y-axis labels are whole on a phone (360 and 414 px), in English and in Chinese, in real
headless Chromium: each label Chart.js lays out, measured in its own font, lies inside its canvas, and the
canvas inside the window. "100%" drawn as ".00%" (its first character left of the canvas) fails here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.store.schema import User
from tests.dashboard.test_dashboard_browser import log_in
from tests.dashboard.test_trends import MONDAY, lesson
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for

pytestmark = DASHBOARD_BROWSER
CLASS = "数学 初二(3)班"

# Where each vertical scale's tick labels are drawn, from Chart.js's own layout (getLabelItems: the text,
# its font, its anchor and alignment), measured with that font in the page.
LABEL_EXTENTS = """
const measure = document.createElement("canvas").getContext("2d");
const out = [];
for (const chart of Object.values(Chart.instances)) {
  const box = chart.canvas.getBoundingClientRect();
  for (const scale of Object.values(chart.scales)) {
    if (scale.isHorizontal() || !scale.options.display || !scale.options.ticks.display) continue;
    for (const item of scale.getLabelItems()) {
      measure.font = item.font.string;
      const lines = Array.isArray(item.label) ? item.label : [item.label];
      const width = Math.max(...lines.map((line) => measure.measureText(String(line)).width));
      const x = item.options.translation[0], align = item.options.textAlign;
      const left = align === "right" ? x - width : align === "center" ? x - width / 2 : x;
      out.push({ chart: chart.canvas.id, label: lines.join(" "), left, right: left + width,
                 canvas: chart.width, canvasLeft: box.left, canvasRight: box.right });
    }
  }
}
return out;
"""


@pytest.fixture
def lessons(world) -> dict:
    """A class's lessons over three weeks in one room, and a teacher of that room."""
    world.setting("timezone", "Asia/Shanghai")
    room = world.camera("教学楼301")
    ids = [
        lesson(world, room, CLASS, MONDAY + timedelta(days=day), heads_up=share, people=people)
        for day, share, people in ((0, 1.0, 28), (2, 0.55, 31), (7, 0.8, 30), (15, 0.65, 29))
    ]
    world.user("alice", cameras=(room,))
    return {"room": room, "lessons": ids}


def cut_labels(browser) -> list[str]:
    """The y-axis labels of the page's charts that do not fit their canvas or the window, described."""
    wait_for(
        lambda: browser.execute_script(
            "return typeof Chart !== 'undefined' && Object.values(Chart.instances).length > 0"
        ),
        what="the page's charts",
    )
    inner = browser.execute_script("return window.innerWidth")
    extents = browser.execute_script(LABEL_EXTENTS)
    assert extents, "no y-axis labels drawn"
    return [
        f"{e['chart']} {e['label']!r}: {e['left']:.1f}..{e['right']:.1f} px of a {e['canvas']} px canvas"
        f" at {e['canvasLeft']:.0f}..{e['canvasRight']:.0f} px of a {inner} px window"
        for e in extents
        if e["left"] < 0 or e["right"] > e["canvas"] or e["canvasLeft"] < 0 or e["canvasRight"] > inner
    ]


@pytest.mark.parametrize(
    ("locale", "width"),
    [("en", 360), ("zh_Hans_CN", 360), ("en", 414), ("zh_Hans_CN", 414), ("zh_Hans_CN", 1440)],
)
def test_y_axis_labels_are_whole_on_a_phone(server, world, lessons, tmp_path, locale, width) -> None:
    with world.Session.begin() as db:
        db.query(User).filter_by(username="alice").one().locale = locale
    browser = start_chromium(tmp_path / "profile", window=f"{width},800")
    try:
        assert browser.execute_script("return window.innerWidth") == width
        log_in(browser, server, "alice", f"/sessions/{lessons['lessons'][0]}")
        wait_for(lambda: browser.execute_script("return !!window.timelineChart"), what="the lesson chart")
        found = {"session": cut_labels(browser)}
        browser.get(f"{server}/trends?label={CLASS}")
        wait_for(
            lambda: browser.execute_script("return !!(window.trendCharts && window.trendCharts.people)"),
            what="the trend charts",
        )
        found["trends"] = cut_labels(browser)
        lefts = browser.execute_script(
            "return [window.trendCharts.main.chartArea.left, window.trendCharts.people.chartArea.left]"
        )
        assert lefts[0] == pytest.approx(lefts[1], abs=0.5), "the two trend charts' days do not line up"
        browser.save_screenshot(str(tmp_path / f"trends-{locale}-{width}.png"))
        browser.get(f"{server}/cameras/{lessons['room']}/live")
        wait_for(lambda: browser.execute_script("return !!window.liveCharts"), what="the live charts")
        found["live"] = cut_labels(browser)
        assert {page: cut for page, cut in found.items() if cut} == {}
    finally:
        browser.quit()
