"""The admin pages in real headless Chromium on a 390 px phone: nothing overflows sideways, no console errors,
a user is created through the form, and the health table refreshes itself from /api/health."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.store.schema import WorkerStatus, utcnow
from tests.dashboard.test_dashboard_browser import log_in, pytestmark, wait_for  # noqa: F401
from tests.support.browser import start_chromium

PHONE = (390, 844)
PAGES = ("/admin/users", "/admin/cameras", "/health", "/settings")


@pytest.fixture
def phone(tmp_path):
    width, height = PHONE
    driver = start_chromium(tmp_path / "chromium-profile", window=f"500,{height}")
    # Headless Chromium keeps windows at least 500 px wide: emulate the phone's viewport. Not as "mobile":
    # a mobile viewport widens itself to fit content that overflows, which would hide what this test checks.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.get("about:blank")
    assert driver.execute_script("return window.innerWidth") == width
    yield driver
    driver.quit()


def overflow(browser) -> int:
    """How many px the page is wider than the window (0 or less: nothing overflows sideways)."""
    return browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def console_errors(browser) -> list[str]:
    return [
        e["message"]
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]


def test_admin_pages_fit_a_phone_and_work(server, phone, school, world, tmp_path: Path):
    from selenium.webdriver.common.by import By

    world.camera("A camera with a rather long name for a phone screen")
    with world.Session.begin() as db:
        db.add(
            WorkerStatus(
                camera_id=school["room_a"],
                pid=31337,
                hostname="classroom-host-with-a-long-name.school.example",
                state="failed",
                last_heartbeat=utcnow(),
                restarts=3,
                last_error="capture: could not open rtsp://camera-12.school.example/stream1 after 5 tries",
            )
        )
    log_in(phone, server, "admin", "/admin/users")
    for path in PAGES:
        phone.get(server + path)
        assert overflow(phone) <= 0, path
        phone.save_screenshot(str(tmp_path / f"{path.strip('/').replace('/', '-')}-390.png"))

    # A user's forms, opened inside the table, scroll in the table's own box.
    phone.get(server + "/admin/users")
    phone.find_element(By.CSS_SELECTOR, 'tr[data-user="alice"] details.manage summary').click()
    assert overflow(phone) <= 0

    # Create a teacher through the form.
    form = phone.find_element(By.ID, "add-user-form")
    form.find_element(By.NAME, "username").send_keys("carol")
    for field in ("password", "password2"):
        form.find_element(By.NAME, field).send_keys("a brand new horse 9")
    form.find_element(By.CSS_SELECTOR, f'input[name=camera_id][value="{school["room_b"]}"]').click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(
        lambda: (
            "Created teacher 'carol' who can see room-b."
            in phone.find_element(By.CSS_SELECTOR, ".flash").text
        ),
        what="the created message",
    )

    # The health table refreshes itself: a heartbeat written now shows up without reloading the page.
    phone.get(server + "/health")
    row = phone.find_element(By.CSS_SELECTOR, f'#health tr[data-camera-id="{school["room_a"]}"]')
    assert "failed" in row.text.lower() and "31337@" in row.text
    with world.Session.begin() as db:
        db.execute(
            update(WorkerStatus)
            .where(WorkerStatus.camera_id == school["room_a"])
            .values(state="running", fps=14.0, restarts=4, last_heartbeat=utcnow())
        )

    def refreshed() -> bool:
        text = phone.find_element(By.CSS_SELECTOR, f'#health tr[data-camera-id="{school["room_a"]}"]').text
        return "running" in text.lower() and "14" in text and "s ago" in text

    wait_for(refreshed, timeout=10, what="the health row to refresh")
    assert overflow(phone) <= 0
    phone.save_screenshot(str(tmp_path / "health-refreshed-390.png"))
    assert console_errors(phone) == []
