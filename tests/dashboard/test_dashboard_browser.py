"""The pages in a real headless Chromium: log in, see a session's chart drawn, watch the live view update."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.dashboard.helpers import PASSWORD, write_frames
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for

REPO = Path(__file__).resolve().parents[2]
VIDEOS = REPO.parent / "shared/datasets/videos"
SHOTS = os.environ.get("DASHBOARD_SCREENSHOTS")  # a folder to keep page screenshots in

pytestmark = DASHBOARD_BROWSER


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def shot(browser, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def log_in(browser, server: str, name: str, start: str = "/") -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + start)
    assert "/login" in browser.current_url
    shot(browser, "login")
    browser.find_element(By.NAME, "username").send_keys(name)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "/login" not in browser.current_url, what="the login to finish")


def canvas_has_ink(browser, canvas_id: str) -> bool:
    return browser.execute_script(
        """const c = document.getElementById(arguments[0]); if (!c || !c.width) return false;
           const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
           for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false;""",
        canvas_id,
    )


def test_log_in_and_see_my_cameras(server, browser, school):
    from selenium.webdriver.common.by import By

    log_in(browser, server, "alice")
    names = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".camera h2")]
    assert names == ["room-a"]
    shot(browser, "cameras")


def test_session_page_draws_the_timeline(server, browser, school):
    from selenium.webdriver.common.by import By

    log_in(browser, server, "alice", f"/sessions/{school['lesson_a']}")
    wait_for(lambda: browser.execute_script("return !!window.timelineChart"), what="the timeline chart")
    datasets = browser.execute_script("return window.timelineChart.data.datasets.map(d => d.label)")
    assert "Engagement index" in datasets and "happy" not in datasets  # expressions: their own chart
    assert browser.execute_script("return window.timelineChart.data.datasets[0].data.length") == 60
    assert browser.execute_script("return window.sessionCharts.emotions.data.datasets.length") == 7
    assert canvas_has_ink(browser, "timeline-chart")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#tracks tbody tr")) == 3, what="track rows")
    assert browser.find_element(By.CSS_SELECTOR, '[data-field="engagement"]').text.endswith("%")
    shot(browser, "session")
    browser.find_element(By.CSS_SELECTOR, "#tracks tbody tr").click()
    wait_for(lambda: browser.find_element(By.ID, "track-chart-box").is_displayed(), what="the track chart")
    wait_for(lambda: canvas_has_ink(browser, "track-chart"), what="the track chart drawn")
    shot(browser, "session-track")
    browser.get(server + "/sessions")
    assert "Maths 7A" in browser.find_element(By.ID, "session-list").text
    shot(browser, "sessions")


def test_live_view_updates_while_frames_are_stored(server, browser, world):
    from selenium.webdriver.common.by import By

    cam = world.camera("room-live")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    sid = world.lesson(cam, "Biology 9C", start=start, seconds=55, tracks=4, running=True)
    world.user("lena", cameras=(cam,))
    log_in(browser, server, "lena", f"/cameras/{cam}/live")
    wait_for(
        lambda: browser.find_element(By.ID, "live").get_attribute("data-watching") == "yes", what="watch"
    )
    wait_for(lambda: browser.find_element(By.ID, "faces").text == "4", what="the first frame")
    before = int(browser.find_element(By.ID, "live").get_attribute("data-last-frame"))

    stop = threading.Event()

    def keep_writing() -> None:
        frame, t = before + 1, start + timedelta(seconds=55)
        while not stop.is_set():
            frame = write_frames(world.engine, sid, cam, t, 0.5, tracks=5, first_frame=frame, seed=frame)
            t += timedelta(seconds=0.5)
            time.sleep(0.3)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    try:
        wait_for(lambda: browser.find_element(By.ID, "faces").text == "5", timeout=5, what="a pushed frame")
        rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#live-tracks tbody tr"), what="rows")
        assert len(rows) == 5
        last = int(browser.find_element(By.ID, "live").get_attribute("data-last-frame"))
        wait_for(
            lambda: int(browser.find_element(By.ID, "live").get_attribute("data-last-frame")) > last,
            timeout=3,
            what="further frames",
        )
        assert canvas_has_ink(browser, "rolling-chart") and canvas_has_ink(browser, "dist-chart")
        shot(browser, "live")
    finally:
        stop.set()
        writer.join(5)


def test_admin_switches_to_attention_only_and_emotions_disappear(server, browser, school, world):
    from selenium.webdriver.common.by import By

    cam = school["room_a"]
    world.lesson(
        cam, "Maths 7A (live)", start=datetime.now(UTC) - timedelta(seconds=20), seconds=10, running=True
    )
    log_in(browser, server, "admin", "/settings")
    browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=attention]").click()
    browser.find_element(By.CSS_SELECTOR, "#privacy-form button[type=submit]").click()
    wait_for(
        lambda: "saved" in browser.find_element(By.CSS_SELECTOR, ".flash").text, what="the saved message"
    )
    shot(browser, "settings")
    browser.get(f"{server}/cameras/{cam}/live")
    wait_for(lambda: browser.find_element(By.ID, "faces").text == "3", what="the live frame")
    assert not browser.find_elements(By.ID, "dist-chart") and not browser.find_elements(By.ID, "mood")
    headers = [th.text.lower() for th in browser.find_elements(By.CSS_SELECTOR, "#live-tracks th")]
    assert headers == ["face", "posture"]
    assert "happy" not in browser.find_element(By.TAG_NAME, "main").text.lower()
    shot(browser, "live-attention-only")


def _worker_available() -> bool:
    try:
        subprocess.run(
            [sys.executable, "-m", "monitor", "worker", "--help"], check=True, capture_output=True, timeout=60
        )
    except (subprocess.SubprocessError, OSError):
        return False
    return True


@pytest.mark.slow
def test_live_view_while_a_real_worker_processes_a_clip(server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By

    clip = VIDEOS / "group_3people.mp4"
    if not clip.exists():
        pytest.skip(f"clip not found: {clip}")
    if not _worker_available():
        pytest.skip("`python -m monitor worker --help` fails: the worker is not installed")
    cam = world.camera("room-3")  # the worker reuses the camera of this name
    world.user("wes", admin=True)
    log_in(browser, server, "wes", f"/cameras/{cam}/live")
    wait_for(
        lambda: browser.find_element(By.ID, "live").get_attribute("data-watching") == "yes", what="watch"
    )
    assert browser.find_element(By.ID, "faces").text == "–"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "monitor", "--db", world.url, "worker", "--camera", "room-3"]
    # At the clip's own frame rate, as a camera delivers it: ~10 s of live feed. Unpaced, the worker would
    # finish the clip in about a second and race the dashboard's 0.3 s poll.
    cmd += ["--source", str(clip), "--realtime"]
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        try:
            seen: set[str] = set()

            def faces_shown() -> bool:
                text = browser.find_element(By.ID, "faces").text
                if text.isdigit():
                    seen.add(browser.find_element(By.ID, "live").get_attribute("data-last-frame"))
                return text.isdigit() and int(text) > 0 and len(seen) >= 2

            wait_for(faces_shown, timeout=60, what="live frames from the worker")
            rows = browser.find_elements(By.CSS_SELECTOR, "#live-tracks tbody tr")
            assert rows and all(r.get_attribute("data-track-id").isdigit() for r in rows)
            shot(browser, "live-worker")
        finally:
            if proc.poll() is None:
                proc.terminate()
            proc.wait(30)
    if proc.returncode not in (0, -15) and shutil.which("cat"):
        pytest.fail(f"worker exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
