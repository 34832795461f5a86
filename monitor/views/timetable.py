"""The timetable as the dashboard shows it (issue 24): the next period on the camera cards and the live page,
and the week view per camera and per class. Read from the database through ``monitor.store.timetables``
(the same ``monitor.timetable`` types the worker records by), worded in the audience's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.locales import N_
from monitor.store.schema import Camera, TimetableChange, TimetableHoliday, TimetablePeriod, utcnow
from monitor.store.timetables import (
    change_rows,
    holiday_rows,
    period_rows,
    timetable_for,
    timetabled_cameras,
)
from monitor.timetable_week import WeekEntry, merge_weeks, monday_of, upcoming, week_entries
from monitor.views.audience import Audience

NEXT = N_("next: %(period)s")
BETWEEN_LESSONS = N_("no lesson now (timetabled)")
NO_PERIOD_SOON = N_("no period in the next 14 days")


def camera_timetable(db: Session, camera_id: int, audience: Audience, now: datetime | None = None) -> dict:
    """``{"timetabled", "idle", "next", "next_start"}`` for one camera: ``next`` reads
    ``next: Tue period 2 08:00 · Maths 7B`` (``下一节：周二第2节 08:00 · Maths 7B``); ``idle`` is what
    its card says while no lesson runs (None: not timetabled, the card says "none running")."""
    _ = audience.gettext
    tt = timetable_for(db, camera_id, audience.zone)
    if tt is None:
        return {"timetabled": False, "idle": None, "next": None, "next_start": None}
    items = upcoming(tt, now or utcnow(), 1)
    nxt = items[0] if items else None
    text = _(NO_PERIOD_SOON)
    if nxt is not None:
        text = _(NEXT) % {"period": f"{nxt.text(audience.locale)} · {nxt.slot.label}"}
    return {
        "timetabled": True,
        "idle": _(BETWEEN_LESSONS),
        "next": text,
        "next_start": None if nxt is None else nxt.start.isoformat(timespec="seconds"),
    }


def add_timetables(db: Session, cams: list[dict], audience: Audience) -> list[dict]:
    """Each camera dict (``list_cameras``) gets its ``timetable`` (``camera_timetable``)."""
    now = utcnow()
    for cam in cams:
        cam["timetable"] = camera_timetable(db, cam["id"], audience, now)
    return cams


@dataclass(frozen=True)
class WeekView:
    """One week of periods, Monday first, for a camera or a class, and what the edit forms list."""

    monday: date
    days: dict[date, list[WeekEntry]]
    camera: Camera | None = None
    class_label: str | None = None
    periods: tuple[TimetablePeriod, ...] = ()
    changes: tuple[TimetableChange, ...] = ()
    holidays: tuple[TimetableHoliday, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(self.days.values())


def class_labels(db: Session, audience: Audience) -> list[str]:
    """The classes (period labels) on the cameras the audience may see, by name."""
    labels: set[str] = set()
    for cam in timetabled_cameras(db):
        if audience.may_see(cam.id):
            labels |= {p.label for p in period_rows(db, cam.id)}
    return sorted(labels, key=str.casefold)


def visible_cameras(db: Session, audience: Audience) -> list[Camera]:
    """The cameras the audience may see (for the week view's camera choice), by name."""
    cams = db.scalars(select(Camera).order_by(Camera.name)).all()
    return [c for c in cams if audience.may_see(c.id)]


def camera_week(db: Session, camera: Camera, audience: Audience, day: date | None = None) -> WeekView:
    monday = monday_of(day or utcnow().astimezone(audience.zone).date())
    tt = timetable_for(db, camera.id, audience.zone)
    days = week_entries(tt, monday, camera.name) if tt is not None else {}
    return WeekView(
        monday,
        days,
        camera=camera,
        periods=tuple(period_rows(db, camera.id)),
        changes=tuple(change_rows(db, camera.id)),
        holidays=tuple(holiday_rows(db)),
    )


def class_week(db: Session, label: str, audience: Audience, day: date | None = None) -> WeekView:
    """The week of one class across the rooms it is taught in (its periods only)."""
    monday = monday_of(day or utcnow().astimezone(audience.zone).date())
    key = label.strip().casefold()
    weeks = []
    for cam in timetabled_cameras(db):
        if not audience.may_see(cam.id):
            continue
        tt = timetable_for(db, cam.id, audience.zone)
        if tt is None:
            continue
        week = week_entries(tt, monday, cam.name)
        weeks.append({d: [e for e in es if e.slot.label.casefold() == key] for d, es in week.items()})
    return WeekView(monday, merge_weeks(weeks), class_label=label.strip(), holidays=tuple(holiday_rows(db)))


def day_heading(day: date, locale: str) -> str:
    """``Mon 7 Dec`` / ``12月7日 周一``: a column of the week view."""
    if locale == "zh_Hans_CN":
        return format_date(day, "M月d日 EEE", locale=locale)
    return format_date(day, "EEE d MMM", locale="en")


def weekday_name(weekday: int, locale: str) -> str:
    """``Mon`` / ``周一`` (0 is Monday)."""
    return day_heading(date(2024, 1, 1 + weekday), locale).split()[-1 if locale == "zh_Hans_CN" else 0]
