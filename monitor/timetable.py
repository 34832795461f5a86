"""A camera's weekly timetable: which lesson, if any, is on now (the ``Schedule`` a worker records by).

A timetable is a list of weekly periods (``Mon 09:00-09:50 Maths 7B``) read in the school's time zone,
school-wide holidays (date ranges with no lessons) and one-off changes (a date with its own periods, or a
period cancelled on a date). ``Timetable.period_at(now_utc)`` answers with the ``Period`` covering that
instant, labelled ``"Maths 7B · Tue period 2"``, or None: outside the timetable a camera records nothing.

Periods are numbered by their order in the day's weekly list, so period 2 stays period 2 when period 1 is
cancelled. Times are wall-clock times in the zone: a 09:00 lesson starts at 09:00 in summer and in winter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from monitor.locales import weekday_period
from monitor.schedule import Period

log = logging.getLogger(__name__)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


class TimetableError(ValueError):
    """A timetable entry that cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class Slot:
    """One period of a day, in wall-clock time: ``start`` inclusive, ``end`` exclusive."""

    start: time
    end: time
    label: str


@dataclass(frozen=True)
class Holiday:
    first: date
    last: date  # inclusive
    label: str = "holiday"

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class DayChange:
    """A one-off change on one date: its own periods (replacing the weekly ones) and/or cancelled starts."""

    day: date
    periods: tuple[Slot, ...] | None = None
    cancel: frozenset[time] = frozenset()


@dataclass
class Timetable:
    """The ``Schedule`` of one camera (a callable: UTC now -> ``Period`` or None)."""

    weekly: dict[int, tuple[Slot, ...]]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    holidays: tuple[Holiday, ...] = ()
    changes: dict[date, DayChange] = field(default_factory=dict)
    locale: str = "en"  # the site's language (monitor.locales): ``Tue period 2`` or ``周二第2节``

    def __call__(self, now_utc: datetime) -> Period | None:
        return self.period_at(now_utc)

    def day_periods(self, day: date) -> list[tuple[int, Slot]]:
        """The (number, slot) pairs that run on ``day``, after holidays and one-off changes."""
        if any(h.covers(day) for h in self.holidays):
            return []
        change = self.changes.get(day)
        if change is not None and change.periods is not None:
            numbered = list(enumerate(change.periods, start=1))
        else:
            numbered = list(enumerate(self.weekly.get(day.weekday(), ()), start=1))
        if change is not None:
            numbered = [(n, s) for n, s in numbered if s.start not in change.cancel]
        return numbered

    def period_at(self, now_utc: datetime) -> Period | None:
        if now_utc.tzinfo is None:
            raise ValueError("period_at needs an aware UTC datetime")
        local = now_utc.astimezone(self.zone)
        for number, slot in self.day_periods(local.date()):
            start = _utc(local.date(), slot.start, self.zone)
            end = _utc(local.date(), slot.end, self.zone)
            if start <= now_utc < end:
                label = f"{slot.label} · {weekday_period(local.weekday(), number, self.locale)}"
                return Period(label=label, start=start, end=end)
        return None

    def next_start(self, now_utc: datetime, days: int = 14) -> datetime | None:
        """When the next period starts (within ``days``), for status lines; None when there is none."""
        local_day = now_utc.astimezone(self.zone).date()
        for offset in range(days + 1):
            day = date.fromordinal(local_day.toordinal() + offset)
            for _, slot in self.day_periods(day):
                start = _utc(day, slot.start, self.zone)
                if start > now_utc:
                    return start
        return None


class ZoneFollowingTimetable:
    """A ``Timetable`` read in the school's zone *as it is now*: ``read_zone`` (the site setting) is asked
    again every ``poll_s``, so an admin's change of time zone reaches a running worker within that time.
    A failed read keeps the last zone."""

    def __init__(
        self,
        timetable: Timetable,
        read_zone: Callable[[], ZoneInfo],
        poll_s: float = 30.0,
        clock: Callable[[], float] = monotonic,
        read_locale: Callable[[], str] | None = None,
    ) -> None:
        self.timetable, self.read_zone, self.poll_s, self.clock = timetable, read_zone, poll_s, clock
        self.read_locale = read_locale
        self._next = float("-inf")

    def __call__(self, now_utc: datetime) -> Period | None:
        if self.clock() >= self._next:
            self._next = self.clock() + self.poll_s
            try:
                self.timetable.zone = self.read_zone()
                if self.read_locale is not None:
                    self.timetable.locale = self.read_locale()
            except Exception as exc:  # the database is away for a moment: the last zone holds
                log.warning("time zone not re-read (%s); keeping %s", exc, self.timetable.zone)
        return self.timetable.period_at(now_utc)


def _utc(day: date, t: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=zone).astimezone(UTC)


# --- reading a timetable from TOML values --------------------------------------------------------------


def parse_time(value: Any, what: str) -> time:
    """``"09:00"`` (seconds allowed: ``"09:00:30"``) or a TOML local time (``09:00:00``)."""
    if isinstance(value, time):
        return value.replace(microsecond=0, tzinfo=None)
    m = _TIME.match(str(value).strip()) if isinstance(value, str) else None
    if m is None:
        raise TimetableError(f'{what}: bad time {value!r} (use HH:MM, 24-hour, e.g. "09:00")')
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def hm(t: time) -> str:
    """``09:00``, or ``09:00:30`` when the time has seconds."""
    return f"{t:%H:%M:%S}" if t.second else f"{t:%H:%M}"


def parse_date(value: Any, what: str) -> date:
    """``"2026-12-21"`` or a TOML date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip()) if isinstance(value, str) else _bad_date(value, what)
    except ValueError:
        return _bad_date(value, what)


def _bad_date(value: Any, what: str) -> date:
    raise TimetableError(f"{what}: bad date {value!r} (use YYYY-MM-DD, e.g. 2026-12-21)")


def parse_day(value: Any, what: str) -> int:
    word = str(value).strip()[:3].title() if isinstance(value, str) else ""
    if word not in DAYS or len(str(value).strip()) < 3:
        raise TimetableError(f"{what}: bad day {value!r} (use one of {', '.join(DAYS)})")
    return DAYS.index(word)


def _table(value: Any, what: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TimetableError(f"{what}: expected a table like {{{', '.join(sorted(required))}}}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise TimetableError(f"{what}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(value))
    if missing:
        raise TimetableError(f"{what}: missing {missing[0]!r}")
    return value


def parse_slot(value: Any, what: str, with_day: bool) -> tuple[int | None, Slot]:
    keys = {"start", "end", "label"} | ({"day"} if with_day else set())
    entry = _table(value, what, keys, keys - {"label"})
    start, end = parse_time(entry["start"], what), parse_time(entry["end"], what)
    if end <= start:
        raise TimetableError(f"{what}: end {hm(end)} is not after start {hm(start)}")
    label = entry.get("label", "Lesson")
    if not isinstance(label, str) or not label.strip() or len(label) > 150:
        raise TimetableError(f"{what}: label must be a text of 1 to 150 characters")
    day = parse_day(entry["day"], what) if with_day else None
    return day, Slot(start, end, label.strip())


def _check_overlaps(slots: Iterable[Slot], what: str) -> tuple[Slot, ...]:
    ordered = tuple(sorted(slots, key=lambda s: s.start))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end:
            raise TimetableError(
                f"{what}: {a.label} {hm(a.start)}-{hm(a.end)} overlaps {b.label} {hm(b.start)}"
            )
    return ordered


def parse_weekly(entries: Any, what: str) -> dict[int, tuple[Slot, ...]]:
    """A list of ``{day, start, end, label}`` tables -> the day's slots, sorted, checked for overlaps."""
    if not isinstance(entries, list):
        raise TimetableError(f"{what}: expected a list of {{day, start, end, label}} tables")
    by_day: dict[int, list[Slot]] = {}
    for i, entry in enumerate(entries, start=1):
        day, slot = parse_slot(entry, f"{what} entry {i}", with_day=True)
        by_day.setdefault(day, []).append(slot)
    return {day: _check_overlaps(slots, f"{what} {DAYS[day]}") for day, slots in by_day.items()}


def parse_holidays(entries: Any, what: str = "holidays") -> tuple[Holiday, ...]:
    """A list of ``{from, to, label}`` tables (``to`` inclusive, defaults to ``from``: a single day)."""
    if not isinstance(entries, list):
        raise TimetableError(f"{what}: expected a list of {{from, to, label}} tables")
    out = []
    for i, entry in enumerate(entries, start=1):
        where = f"{what} entry {i}"
        entry = _table(entry, where, {"from", "to", "label"}, {"from"})
        first = parse_date(entry["from"], where)
        last = parse_date(entry.get("to", entry["from"]), where)
        if last < first:
            raise TimetableError(f"{where}: 'to' {last} is before 'from' {first}")
        out.append(Holiday(first, last, str(entry.get("label", "holiday"))))
    return tuple(out)


def parse_changes(entries: Any, what: str) -> dict[date, DayChange]:
    """One-off changes: ``{date, periods = [{start, end, label}]}`` and/or ``{date, cancel = ["09:00"]}``."""
    if not isinstance(entries, list):
        raise TimetableError(f"{what}: expected a list of {{date, periods | cancel}} tables")
    out: dict[date, DayChange] = {}
    for i, entry in enumerate(entries, start=1):
        where = f"{what} entry {i}"
        entry = _table(entry, where, {"date", "periods", "cancel"}, {"date"})
        day = parse_date(entry["date"], where)
        if day in out:
            raise TimetableError(f"{where}: {day} already has a change (give one entry per date)")
        if "periods" not in entry and "cancel" not in entry:
            raise TimetableError(f"{where}: give 'periods' (that day's own) or 'cancel' (start times)")
        periods = None
        if "periods" in entry:
            if not isinstance(entry["periods"], list):
                raise TimetableError(f"{where}: periods must be a list of {{start, end, label}} tables")
            slots = [
                parse_slot(p, f"{where} period {j}", with_day=False)[1]
                for j, p in enumerate(entry["periods"], 1)
            ]
            periods = _check_overlaps(slots, where)
        cancel = entry.get("cancel", [])
        cancel = [cancel] if isinstance(cancel, str | time) else cancel
        if not isinstance(cancel, list):
            raise TimetableError(f"{where}: cancel must be a start time or a list of them")
        out[day] = DayChange(day, periods, frozenset(parse_time(c, f"{where} cancel") for c in cancel))
    return out


def build_timetable(
    weekly: Any,
    *,
    zone: ZoneInfo | None = None,
    holidays: tuple[Holiday, ...] = (),
    changes: Any = (),
    what: str = "timetable",
) -> Timetable:
    """A ``Timetable`` from TOML-shaped values (holidays already parsed: they are school-wide); raises
    ``TimetableError`` naming the bad entry."""
    return Timetable(
        weekly=parse_weekly(weekly, what),
        zone=zone or ZoneInfo("UTC"),
        holidays=holidays,
        changes=parse_changes(list(changes), f"{what} changes"),
    )
