"""A camera's timetable says which lesson is on: weekly periods in the school zone, holidays, one-offs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.timetable import TimetableError, ZoneFollowingTimetable, build_timetable, parse_holidays

WEEK = [
    {"day": "Mon", "start": "09:00", "end": "09:50", "label": "Maths 7B"},
    {"day": "Tue", "start": "09:00", "end": "09:50", "label": "English 7B"},
    {"day": "Tue", "start": "10:00", "end": "10:50", "label": "Maths 7B"},
    {"day": "Tue", "start": "11:00", "end": "11:50", "label": "Science 7B"},
]
LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_period_on_now_is_labelled_with_its_class_day_and_number() -> None:
    tt = build_timetable(WEEK)  # 2026-11-24 is a Tuesday
    period = tt.period_at(utc(2026, 11, 24, 10, 20))
    assert period is not None
    assert period.label == "Maths 7B · Tue period 2"
    assert (period.start, period.end) == (utc(2026, 11, 24, 10, 0), utc(2026, 11, 24, 10, 50))
    assert tt(utc(2026, 11, 23, 9, 0)).label == "Maths 7B · Mon period 1"  # the schedule is callable


def test_between_periods_before_school_and_on_days_without_lessons_nothing_is_on() -> None:
    tt = build_timetable(WEEK)
    assert tt.period_at(utc(2026, 11, 24, 9, 55)) is None  # break
    assert tt.period_at(utc(2026, 11, 24, 10, 50)) is None  # the end is excluded
    assert tt.period_at(utc(2026, 11, 24, 8, 59, 59)) is None
    assert tt.period_at(utc(2026, 11, 25, 10, 20)) is None  # Wednesday: no periods
    assert tt.period_at(utc(2026, 11, 29, 10, 20)) is None  # Sunday


def test_periods_are_wall_clock_times_in_the_school_zone_summer_and_winter() -> None:
    tt = build_timetable(WEEK, zone=LONDON)
    # Winter (GMT): 09:00 London is 09:00 UTC. Summer (BST): 09:00 London is 08:00 UTC.
    assert tt.period_at(utc(2026, 11, 23, 9, 10)).start == utc(2026, 11, 23, 9, 0)
    assert tt.period_at(utc(2026, 6, 1, 8, 10)).start == utc(2026, 6, 1, 8, 0)
    assert tt.period_at(utc(2026, 6, 1, 9, 10)) is None
    # The Monday right after the clocks go forward (Sun 29 March 2026) and back (Sun 25 October 2026).
    assert tt.period_at(utc(2026, 3, 30, 8, 30)).label == "Maths 7B · Mon period 1"
    assert tt.period_at(utc(2026, 10, 26, 8, 30)) is None
    assert tt.period_at(utc(2026, 10, 26, 9, 30)).label == "Maths 7B · Mon period 1"


def test_the_local_day_decides_the_weekday_not_the_utc_one() -> None:
    # Auckland is 13 hours ahead in November: Monday 21:20 UTC is Tuesday 10:20 there.
    tt = build_timetable(WEEK, zone=ZoneInfo("Pacific/Auckland"))
    period = tt.period_at(utc(2026, 11, 23, 21, 20))
    assert period.label == "Maths 7B · Tue period 2"
    assert period.start == utc(2026, 11, 23, 21, 0)
    assert tt.period_at(utc(2026, 11, 24, 10, 20)) is None  # Tuesday 10:20 UTC is Tuesday 23:20 there


def test_holidays_stop_every_lesson_from_first_to_last_day_inclusive() -> None:
    holidays = parse_holidays([{"from": date(2026, 12, 21), "to": "2027-01-01", "label": "Winter break"}])
    tt = build_timetable(WEEK, zone=LONDON, holidays=holidays)
    assert tt.period_at(utc(2026, 12, 21, 9, 10)) is None  # first day (Monday)
    assert tt.period_at(utc(2026, 12, 29, 10, 10)) is None  # a Tuesday inside
    assert tt.period_at(utc(2026, 12, 14, 9, 10)) is not None  # the Monday before
    assert tt.period_at(utc(2027, 1, 5, 10, 10)).label == "Maths 7B · Tue period 2"  # back to school


def test_a_cancelled_period_records_nothing_and_the_others_keep_their_numbers() -> None:
    tt = build_timetable(WEEK, changes=[{"date": "2026-11-24", "cancel": ["10:00"]}])
    assert tt.period_at(utc(2026, 11, 24, 10, 20)) is None
    assert tt.period_at(utc(2026, 11, 24, 11, 20)).label == "Science 7B · Tue period 3"
    assert tt.period_at(utc(2026, 12, 1, 10, 20)).label == "Maths 7B · Tue period 2"  # next week as usual


def test_a_one_off_day_replaces_the_weekly_periods_of_that_date() -> None:
    exam = {"date": date(2026, 11, 24), "periods": [{"start": "09:30", "end": "11:30", "label": "Mock exam"}]}
    tt = build_timetable(WEEK, changes=[exam])
    assert tt.period_at(utc(2026, 11, 24, 9, 10)) is None
    period = tt.period_at(utc(2026, 11, 24, 11, 0))
    assert period.label == "Mock exam · Tue period 1"
    assert (period.start, period.end) == (utc(2026, 11, 24, 9, 30), utc(2026, 11, 24, 11, 30))
    # A lesson on a day that normally has none (a Saturday catch-up).
    tt = build_timetable(
        WEEK, changes=[{"date": "2026-11-28", "periods": [{"start": "10:00", "end": "11:00"}]}]
    )
    assert tt.period_at(utc(2026, 11, 28, 10, 30)).label == "Lesson · Sat period 1"


def test_next_start_finds_the_next_lesson_after_a_weekend() -> None:
    tt = build_timetable(WEEK, zone=LONDON)
    assert tt.next_start(utc(2026, 11, 27, 12, 0)) == utc(2026, 11, 30, 9, 0)  # Friday -> Monday
    assert build_timetable([]).next_start(utc(2026, 11, 27, 12, 0)) is None


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"day": "Mon", "start": "9:7x", "end": "09:50"}], "entry 1: bad time '9:7x'"),
        ([{"day": "Mon", "start": "25:00", "end": "26:00"}], "bad time '25:00'"),
        ([{"day": "Funday", "start": "09:00", "end": "09:50"}], "bad day 'Funday'"),
        ([{"day": "Mon", "start": "10:00", "end": "09:00"}], "end 09:00 is not after start 10:00"),
        ([{"day": "Mon", "start": "09:00"}], "missing 'end'"),
        ([{"day": "Mon", "start": "09:00", "end": "10:00", "room": 4}], "unknown key 'room'"),
        (
            [
                {"day": "Mon", "start": "09:00", "end": "10:00", "label": "A"},
                {"day": "mon", "start": "09:30", "end": "10:30", "label": "B"},
            ],
            "A 09:00-10:00 overlaps B 09:30",
        ),
        ("Mon 09:00", "expected a list"),
    ],
)
def test_a_bad_timetable_entry_is_refused_with_what_is_wrong(entries, message: str) -> None:
    with pytest.raises(TimetableError, match=message.replace("(", r"\(")):
        build_timetable(entries)


def test_bad_holidays_and_changes_are_refused() -> None:
    with pytest.raises(TimetableError, match="'to' 2026-12-01 is before 'from' 2026-12-21"):
        parse_holidays([{"from": "2026-12-21", "to": "2026-12-01"}])
    with pytest.raises(TimetableError, match="bad date '21/12/2026'"):
        parse_holidays([{"from": "21/12/2026"}])
    with pytest.raises(TimetableError, match="give 'periods'"):
        build_timetable(WEEK, changes=[{"date": "2026-11-24"}])
    with pytest.raises(TimetableError, match="cancel: bad time 'ten'"):
        build_timetable(WEEK, changes=[{"date": "2026-11-24", "cancel": "ten"}])


def test_a_change_of_the_school_zone_reaches_a_running_timetable_at_its_next_poll() -> None:
    zones = [ZoneInfo("UTC")]
    clock = [0.0]
    schedule = ZoneFollowingTimetable(
        build_timetable(WEEK), lambda: zones[-1], poll_s=30, clock=lambda: clock[0]
    )
    now = utc(2026, 11, 23, 9, 10)  # Monday 09:10 UTC
    assert schedule(now).label == "Maths 7B · Mon period 1"
    zones.append(ZoneInfo("Asia/Tokyo"))  # the admin sets the zone: 09:10 UTC is 18:10 there
    clock[0] = 10.0
    assert schedule(now) is not None, "not re-read before the poll"
    clock[0] = 31.0
    assert schedule(now) is None

    def away() -> ZoneInfo:
        raise OSError("database away")

    schedule.read_zone = away
    clock[0] = 62.0
    assert schedule(utc(2026, 11, 23, 0, 10)).label == "Maths 7B · Mon period 1"  # Tokyo kept
