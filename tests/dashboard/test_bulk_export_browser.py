"""Bulk export in a real Chromium (issue 24): a teacher chooses a class and dates, starts the zip, watches the
progress reach the end and gets the download link; the zip holds that class's lessons only."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from datetime import UTC, datetime

import pytest

from tests.dashboard.helpers import PASSWORD
from tests.support.browser import DASHBOARD_BROWSER, log_in, start_chromium, wait_for

pytestmark = [*DASHBOARD_BROWSER, pytest.mark.slow]


@pytest.fixture
def browser(tmp_path):
    driver = start_chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def test_a_teacher_makes_and_downloads_a_class_zip(server, browser, app, school, world) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    room_a = school["room_a"]
    world.lesson(room_a, "Maths 7A · Tue period 2", start=datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    world.lesson(room_a, "Art 7A", start=datetime(2025, 3, 5, 9, 0, tzinfo=UTC))
    browser.get(f"{server}/sessions?label=Maths+7A")
    log_in(browser, "alice", PASSWORD)
    browser.find_element(By.ID, "bulk-export-link").click()
    wait_for(lambda: "/exports" in browser.current_url, what="the export page")
    classes = Select(browser.find_element(By.ID, "export-label"))
    assert classes.first_selected_option.text == "Maths 7A"  # carried over from the list's filter
    assert "History 8B" not in [o.text for o in classes.options]  # bob's class is not offered
    date_from = browser.find_element(By.ID, "export-from")  # typed dates follow the browser's locale: set it
    browser.execute_script("arguments[0].value = '2025-03-01'", date_from)
    browser.find_element(By.CSS_SELECTOR, 'input[name=formats][value="json"]').click()
    browser.find_element(By.ID, "export-start").click()
    link = browser.find_element(By.ID, "export-download")
    wait_for(link.is_displayed, timeout=60, what="the download link")
    status = browser.find_element(By.ID, "export-status").text
    assert status.startswith("The zip is ready: 2 lessons"), status
    bar = browser.find_element(By.ID, "export-progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "2"
    href = link.get_attribute("href")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    with urllib.request.urlopen(
        urllib.request.Request(href, headers={"Cookie": cookies}), timeout=30
    ) as resp:
        data = resp.read()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
    assert len(names) == 4 and all("maths-7a" in n.lower() for n in names), names
    app.extensions["bulk_exports"].close()
