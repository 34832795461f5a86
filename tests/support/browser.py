"""Real headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, for browser tests."""

from __future__ import annotations

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


def skip_without_chromium() -> None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")


def start_chromium(profile_dir: Path, window: str = "1280,1000"):
    """A Selenium driver on a fresh profile; the caller quits it."""
    skip_without_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={profile_dir}", f"--window-size={window}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # driver.get_log("browser"): console
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    return driver
