"""When a camera records: a ``Schedule`` maps the current UTC time to the lesson ``Period`` covering it.

The worker asks its schedule (about every ``SCHEDULE_POLL_S``) and opens a class session labelled with the
period at its start and closes it at its end; between periods it records nothing. Timetables (weekly
tables, holidays, one-off changes) are one way to build a schedule; a worker without one is always on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

SCHEDULE_POLL_S = 0.25
"""How often a scheduled worker asks its schedule whether a period started or ended."""


@dataclass(frozen=True)
class Period:
    """One lesson: its label (``Maths 7B · Tue period 2``) and its start and end (aware UTC, end excluded)."""

    label: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period's start and end must be aware (UTC) datetimes")
        if self.end <= self.start:
            raise ValueError(f"period {self.label!r} ends before it starts")

    def covers(self, now: datetime) -> bool:
        return self.start <= now < self.end


Schedule = Callable[[datetime], Period | None]
"""UTC now -> the period covering it, or None: record nothing now."""


def fixed_periods(periods: Iterable[Period]) -> Schedule:
    """A schedule from a list of periods (the first that covers ``now`` wins)."""
    kept = sorted(periods, key=lambda p: p.start)

    def schedule(now: datetime) -> Period | None:
        return next((p for p in kept if p.covers(now)), None)

    return schedule


__all__ = ["SCHEDULE_POLL_S", "Period", "Schedule", "fixed_periods"]
