"""Reading a ``Timetable`` for people: the next periods, and one week's periods day by day (issue 24).

Both are read from ``monitor.timetable`` itself (``Timetable.day_periods``), so the week the dashboard
shows is the week the worker records by: holidays and one-off changes included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.locales import weekday_period
from monitor.timetable import Slot, Timetable, _utc, hm


@dataclass(frozen=True)
class Upcoming:
    """One period to come: its day, its number in the day, its slot and its start and end in UTC."""

    day: date
    number: int
    slot: Slot
    start: datetime
    end: datetime

    @property
    def weekday(self) -> int:
        return self.day.weekday()

    @property
    def start_local(self) -> datetime:
        return datetime.combine(self.day, self.slot.start)

    def text(self, locale: str) -> str:
        """``Tue period 2 08:00`` / ``周二第2节 08:00``."""
        return f"{weekday_period(self.weekday, self.number, locale)} {hm(self.slot.start)}"


def upcoming(tt: Timetable, now_utc: datetime, count: int = 3, days: int = 14) -> list[Upcoming]:
    """The next ``count`` periods that start after ``now_utc`` (within ``days``)."""
    out: list[Upcoming] = []
    first = now_utc.astimezone(tt.zone).date()
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        for number, slot in tt.day_periods(day):
            start = _utc(day, slot.start, tt.zone)
            if start > now_utc:
                out.append(Upcoming(day, number, slot, start, _utc(day, slot.end, tt.zone)))
                if len(out) == count:
                    return out
    return out


@dataclass(frozen=True)
class WeekEntry:
    """One period of a day in the week view. ``state``: ``on``; ``changed`` (that day's own period);
    ``cancelled``; ``holiday`` (a weekly period a holiday stops, ``note`` its name)."""

    day: date
    number: int
    slot: Slot
    state: str
    camera: str = ""
    note: str = ""

    @property
    def times(self) -> str:
        return f"{hm(self.slot.start)}–{hm(self.slot.end)}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_entries(tt: Timetable, monday: date, camera: str = "") -> dict[date, list[WeekEntry]]:
    """Each day of the week from ``monday``: its periods as they run, and those cancelled or stopped by a
    holiday (kept, marked, so the admin sees what does not happen)."""
    out: dict[date, list[WeekEntry]] = {}
    for offset in range(7):
        day = monday + timedelta(days=offset)
        weekly = list(enumerate(tt.weekly.get(day.weekday(), ()), start=1))
        holiday = next((h for h in tt.holidays if h.covers(day)), None)
        change = tt.changes.get(day)
        entries: list[WeekEntry] = []
        if holiday is not None:
            entries = [WeekEntry(day, n, s, "holiday", camera, holiday.label) for n, s in weekly]
        else:
            running = {(n, s.start) for n, s in tt.day_periods(day)}
            own = change is not None and change.periods is not None
            source = list(enumerate(change.periods, start=1)) if own else weekly
            for n, s in source:
                state = ("changed" if own else "on") if (n, s.start) in running else "cancelled"
                entries.append(WeekEntry(day, n, s, state, camera))
        out[day] = sorted(entries, key=lambda e: (e.slot.start, e.camera))
    return out


def merge_weeks(weeks: list[dict[date, list[WeekEntry]]]) -> dict[date, list[WeekEntry]]:
    """Several cameras' weeks as one (a class taught in several rooms), each day by start time."""
    out: dict[date, list[WeekEntry]] = {}
    for week in weeks:
        for day, entries in week.items():
            out.setdefault(day, []).extend(entries)
    return {day: sorted(e, key=lambda x: (x.slot.start, x.camera)) for day, e in sorted(out.items())}
