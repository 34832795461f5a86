"""Real headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, for browser tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# No background networking: this machine's network is closed and Chromium would keep trying.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _dashboard_browser_marks() -> list:
    from dashboard.vendor import missing_files

    return [
        pytest.mark.browser,
        pytest.mark.skipif(
            not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
            reason="needs Debian chromium and chromium-driver (apt-get install chromium chromium-driver)",
        ),
        pytest.mark.skipif(
            bool(missing_files()), reason="front-end files missing: run npm ci && python -m dashboard.vendor"
        ),
    ]


DASHBOARD_BROWSER = _dashboard_browser_marks()
"""``pytestmark`` of a dashboard test in real Chromium: skipped, with the reason, where it cannot run."""


def skip_without_chromium() -> None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")


MIN_WINDOW_WIDTH = 500
"""Headless Chromium widens any narrower window to this: a phone's width must be emulated (CDP)."""


def start_chromium(profile_dir: Path, window: str = "1280,1000"):
    """A Selenium driver on a fresh profile, its viewport ``window`` ("width,height") CSS px wide and high
    even below the 500 px headless Chromium keeps its windows to (a 390 px phone); the caller quits it."""
    skip_without_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    width, height = (int(v) for v in window.split(","))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    size = f"--window-size={max(width, MIN_WINDOW_WIDTH)},{height}"
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={profile_dir}", size):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # driver.get_log("browser"): console
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    if width < MIN_WINDOW_WIDTH:
        emulate_viewport(driver, width, height)
    return driver


def emulate_viewport(driver, width: int, height: int) -> None:
    """Give the page a ``width`` x ``height`` CSS px viewport (CDP ``Emulation.setDeviceMetricsOverride``),
    kept across navigations, and check the page sees it (``window.innerWidth``). Not as "mobile": a mobile
    viewport widens itself to fit content that overflows, which would hide the overflow a test looks for."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.get("about:blank")
    seen = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    if seen != [width, height]:
        driver.quit()
        pytest.fail(f"asked for a {width}x{height} viewport, the page has {seen[0]}x{seen[1]}")


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate``; an element missing or replaced meanwhile (the page is still loading) is a no."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (NoSuchElementException, StaleElementReferenceException):
            value = None
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def save_full_page(driver, path: Path) -> None:
    """A PNG of the whole page, below the fold included (``save_screenshot`` keeps to the viewport)."""
    import base64

    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    Path(path).write_bytes(base64.b64decode(shot["data"]))


def log_in(driver, username: str, password: str, timeout: float = 15.0) -> None:
    """Fill and send the login form the browser is on, and wait until the page it leads to has loaded.

    The login page's URL carries the page asked for (``/login?next=/sessions...``), so waiting for that
    page's path in the URL passes before the form is even sent; wait for the URL to leave ``/login``.
    """
    from selenium.webdriver.common.by import By

    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(
        lambda: (
            "/login" not in driver.current_url
            and driver.execute_script("return document.readyState") == "complete"
        ),
        timeout=timeout,
        what="the login to lead on",
    )
