"""The timetable in the database: TOML import and export round trip, bad input refused, read back."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time

import pytest

from monitor.store import make_engine, session_factory
from monitor.store.cameras import camera_by_name
from monitor.store.schema import AuditLog
from monitor.store.site_settings import set_setting
from monitor.store.timetables import (
    StoredSchedule,
    add_change,
    export_timetables,
    import_timetables,
    save_period,
    timetable_for,
)
from monitor.timetable import TimetableError

SCHOOL = """
[[holidays]]
from = 2026-12-21
to = 2027-01-01
label = "Winter break"

[[cameras]]
name = "room-7"
source = "rtsp://cam7/stream"
timetable = [
  {day = "Mon", start = "09:00", end = "09:50", label = "Maths 7B"},
  {day = "Mon", start = "10:00", end = "10:50", label = "English 7B"},
  {day = "Tue", start = "08:00:30", end = "08:45", label = "数学 7B"},
]
changes = [
  {date = 2026-12-07, cancel = ["09:00"]},
  {date = 2026-12-08, periods = [{start = "13:00", end = "13:40", label = "Assembly"}]},
  {date = 2026-12-09, periods = []},
]

[[cameras]]
name = "hall"
source = "0"
always_on = true
"""


def room7(db) -> int:
    return camera_by_name(db, "room-7").id


@pytest.fixture
def factory(any_db_url: str):
    engine = make_engine(any_db_url)
    yield session_factory(engine)
    engine.dispose()


def test_a_school_toml_imports_and_exports_back_to_the_same_timetable(factory) -> None:
    with factory.begin() as db:
        done = import_timetables(db, tomllib.loads(SCHOOL), actor="cli")
        assert done == ["holidays: 1", "room-7: 3 periods, 3 day changes"]
        assert db.query(AuditLog).filter_by(action="timetable_import").count() == 1
    with factory() as db:
        first = export_timetables(db)
        tt = timetable_for(db, "room-7")
        assert timetable_for(db, "hall") is None  # always on: no timetable stored
    assert tt is not None and tt.holidays[0].label == "Winter break"
    # Mon 7 Dec 2026: 09:00 cancelled, 10:00 runs as period 2
    assert tt.period_at(datetime(2026, 12, 7, 9, 10, tzinfo=UTC)) is None
    assert tt.period_at(datetime(2026, 12, 7, 10, 10, tzinfo=UTC)).label == "English 7B · Mon period 2"
    assert tt.period_at(datetime(2026, 12, 8, 13, 10, tzinfo=UTC)).label == "Assembly · Tue period 1"
    assert tt.day_periods(date(2026, 12, 9)) == []  # a day with periods = []
    assert tt.day_periods(date(2026, 12, 22)) == []  # the holiday
    assert tt.weekly[1][0].start == time(8, 0, 30)
    # export -> import -> export: the same text, the same timetable
    with factory.begin() as db:
        import_timetables(db, tomllib.loads(first), actor="cli")
    with factory() as db:
        assert export_timetables(db) == first
        again = timetable_for(db, "room-7")
    assert (again.weekly, again.changes, again.holidays) == (tt.weekly, tt.changes, tt.holidays)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[cameras]]\nname = "r"\ntimetable = [{day = "Mon", start = "25:00", end = "26:00"}]', "bad time"),
        ('[[cameras]]\nname = "r"\ntimetable = [{day = "Xyz", start = "09:00", end = "10:00"}]', "bad day"),
        ('[[cameras]]\nname = "r"\ntimetable = [{day = "Mon", start = "10:00", end = "09:00"}]', "not after"),
        (
            '[[cameras]]\nname = "r"\ntimetable = [{day = "Mon", start = "09:00", end = "10:00"},'
            ' {day = "Mon", start = "09:30", end = "10:30"}]',
            "overlaps",
        ),
        ("[[holidays]]\nfrom = 2026-12-21\nto = 2026-12-01\n", "before"),
        ('[[cameras]]\nname = "r"\nchanges = []', "without a 'timetable'"),
        ("[[cameras]]\ntimetable = []", "missing 'name'"),
    ],
)
def test_bad_input_is_refused_with_one_line_and_nothing_stored(factory, toml: str, message: str) -> None:
    with factory() as db:
        with pytest.raises(TimetableError, match=message):
            import_timetables(db, tomllib.loads(toml), actor="cli")
        db.rollback()
        assert export_timetables(db).count("[[") == 0


def test_serve_imports_only_what_the_database_does_not_hold_yet(factory) -> None:
    with factory.begin() as db:
        import_timetables(db, tomllib.loads(SCHOOL), actor="serve", origin="toml", only_missing=True)
        save_period(db, room7(db), 4, time(11), time(11, 45), "Art 7B")  # a browser edit
    with factory.begin() as db:
        assert import_timetables(db, tomllib.loads(SCHOOL), actor="serve", only_missing=True) == []
    with factory() as db:
        assert timetable_for(db, "room-7").weekly[4][0].label == "Art 7B"  # the edit survived a restart


def test_browser_edits_are_checked(factory) -> None:
    with factory.begin() as db:
        import_timetables(db, tomllib.loads(SCHOOL), actor="cli")
    with factory() as db:
        with pytest.raises(TimetableError, match="overlaps"):
            save_period(db, room7(db), 0, time(9, 30), time(9, 40), "Extra")
        with pytest.raises(TimetableError, match="not after"):
            save_period(db, room7(db), 0, time(12), time(11), "Backwards")
        with pytest.raises(TimetableError, match="no period starts at 11:00"):
            add_change(db, room7(db), date(2026, 12, 14), "cancel", time(11), None, None)


def test_a_running_schedule_sees_an_edit_at_its_next_read(factory) -> None:
    now = [0.0]
    with factory.begin() as db:
        set_setting(db, "timezone", "UTC")
        import_timetables(db, tomllib.loads(SCHOOL), actor="cli")
    schedule = StoredSchedule(factory, "room-7", poll_s=10, clock=lambda: now[0])
    friday = datetime(2026, 12, 11, 11, 10, tzinfo=UTC)
    assert schedule(friday) is None
    with factory.begin() as db:
        save_period(db, room7(db), 4, time(11), time(11, 45), "Art 7B")
    assert schedule(friday) is None  # not read again yet
    now[0] = 10.0
    assert schedule(friday).label == "Art 7B · Fri period 1"
