"""In a real headless Chromium, while a real worker reads faces too small for the expression model: the live
view and the camera card say "faces too small to read expressions", never a class mood."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from monitor.labels import EMOTIONS, FACES_TOO_SMALL
from tests.dashboard.helpers import PASSWORD
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for

REPO = Path(__file__).resolve().parents[2]
GROUP = REPO.parent / "shared/datasets/videos/group_3people.mp4"

pytestmark = [*DASHBOARD_BROWSER, pytest.mark.slow]


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def _half_size_loop(out: Path, frames: int = 60) -> Path:
    """The clip's first frames at half size: three faces with 18-22 px boxes (readable from 24 px)."""
    cap = cv2.VideoCapture(str(GROUP))
    writer = None
    for _ in range(frames):
        ok, frame = cap.read()
        if not ok:
            break
        small = cv2.resize(frame, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        if writer is None:
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, small.shape[1::-1])
        writer.write(small)
    cap.release()
    writer.release()
    return out


def test_live_view_and_camera_card_say_faces_are_too_small(server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By

    if not GROUP.is_file():
        pytest.skip(f"clip not found: {GROUP}")
    clip = _half_size_loop(tmp_path / "half.mp4")
    cam = world.camera("room-3")
    world.user("wes", admin=True)
    browser.get(f"{server}/cameras/{cam}/live")
    browser.find_element(By.NAME, "username").send_keys("wes")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: "/login" not in browser.current_url, what="the login to finish")
    cmd = [sys.executable, "-m", "monitor", "--db", world.url, "worker", "--camera", "room-3"]
    cmd += ["--source", str(clip), "--realtime", "--loop"]
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=dict(os.environ))
        try:

            def faces_and_mood() -> bool:
                faces = browser.find_element(By.ID, "faces").text
                # "…" while the live view is warming up (its first seconds): no figure yet
                mood = browser.find_element(By.ID, "mood").text
                return faces == "3" and mood not in ("–", "…")  # all three faces, past the warm-up

            wait_for(faces_and_mood, timeout=90, what="live frames from the worker")
            assert browser.find_element(By.ID, "mood").text == FACES_TOO_SMALL
            browser.get(f"{server}/")
            card = browser.find_element(By.CSS_SELECTOR, f'[data-camera-id="{cam}"]')
            mood = card.find_element(By.CSS_SELECTOR, '[data-field="mood"]')
            wait_for(lambda: mood.text == FACES_TOO_SMALL, timeout=30, what="the camera card's note")
            text = browser.find_element(By.TAG_NAME, "main").text.lower()
            assert not any(e in text.split() for e in EMOTIONS), text
        finally:
            proc.terminate()
            proc.wait(30)
    assert proc.returncode in (0, -15), log_path.read_text()[-2000:]
