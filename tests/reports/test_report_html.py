"""HTML: self-contained, and renders with its charts in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.reports import render
from tests.support.browser import start_chromium

from .helpers import emotion_words


def html(db, session_id: int) -> str:
    return b"".join(render(db, session_id, "html")).decode()


def test_html_is_self_contained(db, seeded):
    page = html(db, seeded.ended)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert page.count('src="data:image/png;base64,') == 3


def test_attention_only_html_has_no_emotion(db, seeded):
    page = html(db, seeded.attention)
    assert page.count('src="data:image/png;base64,') == 1
    assert not emotion_words(page)


def test_labels_are_escaped(db, seeded):
    from monitor.store.schema import ClassSession

    cs = db.get(ClassSession, seeded.attention)
    original = cs.label
    cs.label = "<script>alert(1)</script>"
    try:
        page = html(db, seeded.attention)
    finally:
        cs.label = original
        db.rollback()
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), window="1000,1400")
    yield driver
    driver.quit()


def _open(browser, db, session_id: int, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(html(db, session_id), encoding="utf-8")
    browser.get(path.as_uri())


@pytest.mark.browser
def test_html_renders_with_its_charts_in_chromium(browser, db, seeded, tmp_path):
    from selenium.webdriver.common.by import By

    _open(browser, db, seeded.ended, tmp_path)
    assert browser.title.startswith("Maths 7B")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Maths 7B"
    images = browser.find_elements(By.CSS_SELECTOR, "figure img")
    assert len(images) == 3
    for img in images:
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 500
        assert img.size["width"] > 500
    rows = browser.find_elements(By.CSS_SELECTOR, "#tracks tbody tr")
    assert len(rows) == 4
    assert "measured test accuracy 64%" in browser.find_element(By.ID, "model").text
    assert not browser.find_elements(By.ID, "in-progress")


@pytest.mark.browser
def test_running_session_html_shows_the_in_progress_banner(browser, db, seeded, tmp_path):
    from selenium.webdriver.common.by import By

    _open(browser, db, seeded.running, tmp_path)
    banner = browser.find_element(By.ID, "in-progress")
    assert banner.is_displayed() and "still running" in banner.text
    assert "(in progress)" in browser.title
