"""Camera set-up with a picture, in a real Chromium (issue 24): take the snapshot of a camera whose source is
the shared classroom clip, drag an ignore area over some detected faces, save; then the real worker on that
clip records nobody there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.cameras import roi_from_json
from monitor.store.camera_sources import set_camera_source
from monitor.store.schema import Camera, ClassSession, Observation
from tests.conftest import VIDEOS
from tests.dashboard.helpers import PASSWORD
from tests.support.browser import DASHBOARD_BROWSER, log_in, start_chromium, wait_for

REPO = Path(__file__).resolve().parents[2]
CLASSROOM = VIDEOS / "classroom_front_720p.mp4"
requires_classroom = pytest.mark.skipif(not CLASSROOM.is_file(), reason=f"clip not found: {CLASSROOM}")

pytestmark = [*DASHBOARD_BROWSER, pytest.mark.slow]


def _set_source(world, camera_id: int, source: str | None) -> None:
    """The camera's source, as the admin page sets it."""
    with world.Session.begin() as db:
        set_camera_source(db, db.get(Camera, camera_id), source, None, keep_password=False)


AREA = (0.0, 0.45, 0.3, 0.4)
"""Where the browser test drags: the left front rows of the classroom clip (several faces)."""


def _inside(box: tuple[float, float, float, float], area=AREA) -> bool:
    x, y, w, h = box
    cx, cy = (x + w / 2) / 1280, (y + h / 2) / 720
    return area[0] <= cx <= area[0] + area[2] and area[1] <= cy <= area[1] + area[3]


@pytest.fixture
def browser(tmp_path):
    # Tall enough to show the whole picture: a pointer offset counts from the centre of the element's
    # visible part.
    driver = start_chromium(tmp_path / "chromium-profile", window="1280,1800")
    yield driver
    driver.quit()


@requires_classroom
def test_draw_an_ignore_area_on_the_snapshot_and_the_worker_ignores_it(server, browser, world) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    cam = world.camera("room-5")
    world.user("ada", admin=True)
    _set_source(world, cam, str(CLASSROOM))
    browser.get(f"{server}/admin/cameras/{cam}/picture")
    log_in(browser, "ada", PASSWORD)
    browser.find_element(By.ID, "take-snapshot").click()
    overlay = browser.find_element(By.ID, "picture-overlay")
    wait_for(lambda: overlay.find_elements(By.CSS_SELECTOR, "rect.person"), timeout=60, what="the snapshot")
    people = overlay.find_elements(By.CSS_SELECTOR, "rect.person")
    boxes = [tuple(float(p.get_attribute(k)) for k in ("x", "y", "width", "height")) for p in people]
    before_inside = sum(_inside(b) for b in boxes)
    assert before_inside >= 3, boxes  # faces to hide
    assert all(p.get_attribute("data-counted") == "1" for p in people)
    status = browser.find_element(By.ID, "snapshot-status").text
    assert f"{len(boxes)} people found" in status
    # Drag the area with the mouse, from its top-left corner to its bottom-right one.
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", overlay)
    size = overlay.size
    w, h = size["width"], size["height"]

    def offset(fx: float, fy: float) -> tuple[int, int]:  # Selenium offsets count from the element's centre
        return round((fx - 0.5) * w), round((fy - 0.5) * h)

    x0, y0 = offset(AREA[0] + 0.002, AREA[1])
    x1, y1 = offset(AREA[0] + AREA[2], AREA[1] + AREA[3])
    ActionChains(browser).move_to_element_with_offset(overlay, x0, y0).click_and_hold().move_by_offset(
        (x1 - x0) // 2, (y1 - y0) // 2
    ).move_by_offset(x1 - x0 - (x1 - x0) // 2, y1 - y0 - (y1 - y0) // 2).release().perform()
    field = browser.find_element(By.ID, "field-ignore")
    drawn = [float(v) for v in field.get_attribute("value").split(",")]
    assert len(drawn) == 4 and all(abs(a - b) < 0.02 for a, b in zip(drawn, AREA, strict=True)), drawn
    # The page greys out the faces the area hides, before anything is saved.
    counted = overlay.find_elements(By.CSS_SELECTOR, 'rect.person[data-counted="1"]')
    assert len(counted) == len(boxes) - before_inside
    assert overlay.find_elements(By.CSS_SELECTOR, "rect.area-ignore")
    browser.find_element(By.ID, "save-picture-setup").click()
    wait_for(lambda: "Camera 'room-5': ignored areas" in browser.page_source, what="the saved message")
    with world.Session() as db:
        ignore, _ = roi_from_json(db.scalar(select(Camera.roi).where(Camera.id == cam)))
    assert len(ignore) == 1
    area = (ignore[0].x, ignore[0].y, ignore[0].w, ignore[0].h)

    # The real worker on the same clip: nobody is recorded inside the area.
    cmd = [sys.executable, "-m", "monitor", "--db", world.url, "worker", "--camera", "room-5"]
    cmd += ["--source", str(CLASSROOM), "--max-frames", "30"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with world.Session() as db:
        sid = db.scalar(select(ClassSession.id).where(ClassSession.camera_id == cam))
        rows = db.execute(
            select(Observation.track_id, Observation.x, Observation.y, Observation.w, Observation.h).where(
                Observation.session_id == sid
            )
        ).all()
        frames = db.scalar(
            select(func.count(func.distinct(Observation.frame_index))).where(Observation.session_id == sid)
        )
    assert rows and frames
    inside = [r for r in rows if _inside((r.x, r.y, r.w, r.h), area)]
    tracks_inside = {r.track_id for r in inside}
    assert inside == [] and tracks_inside == set()  # the snapshot saw >= 3 faces there; the worker none
    per_frame = len(rows) / frames
    assert per_frame < len(boxes)  # fewer people recorded per frame than the snapshot found in all

    # The front of the room: drag the way the students look at the board (here: to the image's left).
    browser.find_element(By.ID, "take-snapshot").click()
    overlay = browser.find_element(By.ID, "picture-overlay")
    wait_for(
        lambda: overlay.find_elements(By.CSS_SELECTOR, "rect.person"),
        timeout=60,
        what="a new snapshot: " + browser.find_element(By.ID, "snapshot-status").text,
    )
    browser.find_element(By.CSS_SELECTOR, 'input[name=tool][value="front"]').click()
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", overlay)
    x, y = offset(0.5, 0.5)
    ActionChains(browser).move_to_element_with_offset(overlay, x, y).click_and_hold().move_by_offset(
        -round(0.05 * w), 0
    ).move_by_offset(-round(0.05 * w), 0).release().perform()
    yaw, pitch = (
        float(v) for v in browser.find_element(By.ID, "field-board").get_attribute("value").split(",")
    )
    assert 25 <= yaw <= 35 and abs(pitch) <= 3, (yaw, pitch)  # a tenth of the width left: asin(0.5) = 30°
    # The typed fields stay the keyboard's way: typing a second area redraws the picture at once.
    counted = len(overlay.find_elements(By.CSS_SELECTOR, 'rect.person[data-counted="1"]'))
    field = browser.find_element(By.ID, "field-ignore")
    field.send_keys(";0.7,0,0.3,1")  # the right three tenths
    assert len(overlay.find_elements(By.CSS_SELECTOR, "rect.area-ignore")) == 2
    assert len(overlay.find_elements(By.CSS_SELECTOR, 'rect.person[data-counted="1"]')) < counted
