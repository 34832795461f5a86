"""One display format for times, in the school's zone (monitor/timefmt.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor import timefmt

LONDON = ZoneInfo("Europe/London")
SUMMER = datetime(2026, 6, 2, 9, 52, 7, tzinfo=UTC)  # 10:52 in London (BST)
WINTER = datetime(2026, 11, 24, 10, 52, 7, tzinfo=UTC)  # 10:52 in London (GMT)


def test_date_time_in_the_school_zone():
    assert timefmt.date_time(WINTER, LONDON) == "Tue 24 Nov 2026 10:52"
    assert timefmt.date_time(SUMMER, LONDON) == "Tue 02 Jun 2026 10:52"
    assert timefmt.date_time(SUMMER, None) == "Tue 02 Jun 2026 09:52"
    assert timefmt.date_time(None, LONDON) == "–"
    # the database's naive datetimes are UTC
    assert timefmt.clock(SUMMER.replace(tzinfo=None), LONDON) == "10:52"
    assert timefmt.clock(SUMMER, LONDON, seconds=True) == "10:52:07"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (44.6, "45 s"), (120, "2 min"), (142, "2 min 22 s"), (725, "12 min"), (3900, "1 h 05 min")],
)
def test_duration(seconds, text):
    assert timefmt.duration(seconds) == text


def test_relative():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert timefmt.relative(now - timedelta(seconds=5.4), LONDON, now) == "5 s ago"
    assert timefmt.relative(now - timedelta(minutes=3, seconds=10), LONDON, now) == "3 min ago"
    assert timefmt.relative(now - timedelta(hours=2, minutes=5), LONDON, now) == "2 h ago"
    assert timefmt.relative(now - timedelta(days=2), LONDON, now) == "Sun 22 Nov 2026 12:00"
    assert timefmt.relative(None, LONDON, now) == "never"


def test_zone_offset_and_day_bounds():
    assert timefmt.zone_offset(SUMMER, LONDON) == "UTC+01:00"
    assert timefmt.zone_offset(WINTER, LONDON) == "UTC"
    assert timefmt.zone_offset(WINTER, ZoneInfo("Asia/Kolkata")) == "UTC+05:30"
    # a date filter's day starts at the school's midnight
    assert timefmt.day_start_utc(date(2026, 6, 2), LONDON) == datetime(2026, 6, 1, 23, 0, tzinfo=UTC)
    assert timefmt.day_start_utc(date(2026, 6, 2), None) == datetime(2026, 6, 2, tzinfo=UTC)
    assert timefmt.zone_name(LONDON) == "Europe/London"
