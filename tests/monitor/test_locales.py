"""Languages outside the web pages: the site's default, timetable period names and dates in Chinese."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.locales import long_date_time, match_locale, normalise_locale, weekday_period
from monitor.store.site_settings import SettingError, validate
from monitor.timetable import ZoneFollowingTimetable, build_timetable

WEEK = [
    {"day": "Tue", "start": "09:00", "end": "09:50", "label": "语文 初二(3)班"},
    {"day": "Tue", "start": "10:00", "end": "10:50", "label": "数学 初二(3)班"},
]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_periods_read_the_chinese_way_in_zh() -> None:
    tt = build_timetable(WEEK, zone=SHANGHAI)
    tt.locale = "zh_Hans_CN"
    # 02:20 UTC is 10:20 in Shanghai on Tuesday 24 November 2026: the second period.
    assert tt.period_at(datetime(2026, 11, 24, 2, 20, tzinfo=UTC)).label == "数学 初二(3)班 · 周二第2节"
    tt.locale = "en"
    assert tt.period_at(datetime(2026, 11, 24, 2, 20, tzinfo=UTC)).label == "数学 初二(3)班 · Tue period 2"
    assert [weekday_period(d, 1, "zh_Hans_CN") for d in (0, 6)] == ["周一第1节", "周日第1节"]


def test_a_running_worker_follows_the_site_language() -> None:
    site = {"locale": "en"}
    followed = ZoneFollowingTimetable(
        build_timetable(WEEK, zone=SHANGHAI), lambda: SHANGHAI, poll_s=0, read_locale=lambda: site["locale"]
    )
    now = datetime(2026, 11, 24, 1, 20, tzinfo=UTC)
    assert followed(now).label.endswith("Tue period 1")
    site["locale"] = "zh_Hans_CN"
    assert followed(now).label.endswith("周二第1节")


def test_site_default_language_is_checked() -> None:
    assert validate({"locale": "zh-CN"}, from_text=True) == {"locale": "zh_Hans_CN"}
    assert validate({"locale": "en"}) == {"locale": "en"}
    for bad in ("fr", "", 3, None):
        with pytest.raises(SettingError, match="locale must be one of"):
            validate({"locale": bad})


def test_browser_languages_match_the_first_served_one() -> None:
    assert match_locale(["fr-FR", "zh-TW", "en"]) == "zh_Hans_CN"
    assert match_locale(["de", "en-GB"]) == "en"
    assert match_locale(["de"]) is None
    assert normalise_locale("zh_Hans_CN") == "zh_Hans_CN" and normalise_locale("xx") is None


def test_dates_in_chinese() -> None:
    at = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)
    assert long_date_time(at, SHANGHAI, "zh_Hans_CN") == "2026年12月8日 周二 01:30"
    assert long_date_time(at, SHANGHAI, "en") == "Tue 8 Dec 2026 01:30"


def test_admins_set_the_default_language_from_the_cli_which_stays_english(db_url) -> None:
    from tests.conftest import run_cli

    ok = run_cli("--db", db_url, "settings", "set", "locale", "zh-CN")
    assert ok.returncode == 0, ok.stderr
    assert 'locale = "zh_Hans_CN"' in ok.stdout and ok.stdout.isascii()
    bad = run_cli("--db", db_url, "settings", "set", "locale", "fr")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "locale must be one of en, zh_Hans_CN" in bad.stderr
