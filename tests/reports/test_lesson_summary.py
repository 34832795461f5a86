"""The lesson summary shared by the session page and the reports (monitor/views/summary.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from monitor.store.queries import auto_bucket_seconds, session_timeline
from monitor.store.schema import ClassSession
from monitor.views.summary import (
    PERIODS_PER_SESSION,
    _regroup,
    lesson_figures,
    low_attention_periods,
    summary_lines,
)


@pytest.mark.parametrize("which", ["ended", "attention", "running"])
def test_periods_summed_from_the_timeline_match_a_second_read(db, seeded, which):
    cs = db.get(ClassSession, getattr(seeded, which))
    figures = lesson_figures(db, cs, emotion=True)
    span = (figures.data_until - cs.started_at).total_seconds() if cs.ended_at is None else None
    span = span if span is not None else (cs.ended_at - cs.started_at).total_seconds()
    period_s = max(auto_bucket_seconds(span, target=PERIODS_PER_SESSION), figures.bucket_s)
    summed = _regroup(figures.timeline, cs.started_at.replace(microsecond=0), figures.bucket_s, period_s)
    _, read = session_timeline(db, cs.id, bucket_s=period_s)
    if summed is None:  # a period that is not a whole number of buckets (2 s in 15 s): read again
        assert period_s % figures.bucket_s
        summed = read
    assert [(p.start, p.frames, p.faces) for p in summed] == [(p.start, p.frames, p.faces) for p in read]
    assert [p.attention for p in summed] == pytest.approx([p.attention for p in read])
    expected = low_attention_periods(read, period_s)
    for got in (low_attention_periods(summed, period_s), figures.low_periods):
        assert [(p.start, p.end) for p in got] == [(p.start, p.end) for p in expected]
        assert [p.attention for p in got] == pytest.approx([p.attention for p in expected])


def test_summary_lines_in_the_school_zone(db, seeded):
    cs = db.get(ClassSession, seeded.ended)
    utc = summary_lines(lesson_figures(db, cs, emotion=True))
    kolkata = summary_lines(lesson_figures(db, cs, emotion=True, zone=ZoneInfo("Asia/Kolkata")))
    low = [line for line in utc if line.startswith("Lowest heads-up periods")]
    assert low, utc
    # the same lesson, the same sentences; only the clock times move (+05:30)
    assert [line for line in kolkata if not line.startswith("Lowest heads-up periods")] == [
        line for line in utc if not line.startswith("Lowest heads-up periods")
    ]
    low_kolkata = next(line for line in kolkata if line.startswith("Lowest heads-up periods"))
    assert "09:" in low[0] and "14:" in low_kolkata


def test_a_lesson_with_nothing_stored_says_so(db, seeded):
    cs = db.get(ClassSession, seeded.empty)
    assert summary_lines(lesson_figures(db, cs, emotion=True)) == [
        "No faces or frames have been stored for this lesson yet."
    ]


def test_bulk_dates_are_school_days(db, seeded):
    from datetime import date

    from monitor.reports.bulk import find_sessions
    from monitor.store.site_settings import set_setting

    # History 8A starts 11:00 UTC on 20 Nov: already 21 Nov (00:00) in Auckland (UTC+13)
    set_setting(db, "timezone", "Pacific/Auckland")
    db.commit()
    try:
        ids = find_sessions(db, camera="Room 101", date_from=date(2026, 11, 21), date_to=date(2026, 11, 21))
        assert ids == [seeded.attention]
    finally:
        set_setting(db, "timezone", "UTC")
        db.commit()
    # in UTC both lessons are on 20 Nov
    day = date(2026, 11, 20)
    both = find_sessions(db, camera="Room 101", date_from=day, date_to=day)
    assert both == [seeded.ended, seeded.attention]
