"""The next periods and the week view read from a ``Timetable``: holidays, cancellations and a day's own
periods as the worker would record them, in a zone far from UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from monitor.timetable import build_timetable, parse_holidays
from monitor.timetable_week import merge_weeks, upcoming, week_entries

ZONE = ZoneInfo("Asia/Shanghai")
TT = build_timetable(
    [
        {"day": "Mon", "start": "08:00", "end": "08:45", "label": "数学 7B"},
        {"day": "Mon", "start": "09:00", "end": "09:45", "label": "English 7B"},
        {"day": "Tue", "start": "08:00", "end": "08:45", "label": "数学 7B"},
    ],
    zone=ZONE,
    holidays=parse_holidays([{"from": "2026-12-15", "label": "Sports day"}]),
    changes=[
        {"date": "2026-12-07", "cancel": ["08:00"]},
        {"date": "2026-12-14", "periods": [{"start": "13:00", "end": "13:40", "label": "Assembly"}]},
    ],
)


def test_the_next_periods_skip_cancelled_ones_and_holidays_and_keep_their_numbers() -> None:
    sunday_night = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # Mon 7 Dec 04:00 in Shanghai
    items = upcoming(TT, sunday_night, 4)
    assert [(p.day.isoformat(), p.number, p.slot.label) for p in items] == [
        ("2026-12-07", 2, "English 7B"),  # period 1 is cancelled; period 2 keeps its number
        ("2026-12-08", 1, "数学 7B"),
        ("2026-12-14", 1, "Assembly"),  # that Monday's own period; Tue 15 Dec is a holiday
        ("2026-12-21", 1, "数学 7B"),
    ]
    assert items[0].start == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert items[0].text("zh_Hans_CN") == "周一第2节 09:00" and items[1].text("en") == "Tue period 1 08:00"
    assert [p.slot.label for p in upcoming(TT, datetime(2026, 12, 7, 1, 30, tzinfo=UTC), 1)] == ["数学 7B"]


def test_the_week_view_marks_what_does_not_happen() -> None:
    week = week_entries(TT, date(2026, 12, 7), "room-7")
    assert [(e.times, e.state) for e in week[date(2026, 12, 7)]] == [
        ("08:00–08:45", "cancelled"),
        ("09:00–09:45", "on"),
    ]
    assert [e.state for e in week[date(2026, 12, 8)]] == ["on"]
    following = week_entries(TT, date(2026, 12, 14), "room-7")
    assert [(e.slot.label, e.state) for e in following[date(2026, 12, 14)]] == [("Assembly", "changed")]
    assert [(e.state, e.note) for e in following[date(2026, 12, 15)]] == [("holiday", "Sports day")]
    both = merge_weeks([week, week_entries(TT, date(2026, 12, 7), "room-8")])
    assert [e.camera for e in both[date(2026, 12, 8)]] == ["room-7", "room-8"]
