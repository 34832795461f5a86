"""The timetable in the database (issue 24): read as ``monitor.timetable`` types, edited by admins.

A camera's timetable lives in the database once ``camera_timetables`` has a row for it: imported once from
the school TOML by ``serve`` (when the database holds none for that camera), entered in the browser, or
imported with ``classroom-monitor timetable import``. From then on the database is the truth: a restart
never overwrites a browser edit with the TOML. Holidays are school-wide (``timetable_holidays``).

``timetable_for(db, camera)`` answers with a ``Timetable`` (or None: the database holds none for it), so
any part (the worker, alerts, the dashboard) asks "is this camera in a period now" the same way.
``StoredSchedule`` is the worker's schedule: it reads the camera's timetable again every ``poll_s``, so an
edit reaches a running worker within that time, without a restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from time import monotonic
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.cameras import CameraConfigError
from monitor.schedule import Period
from monitor.store.cameras import camera_by_name, get_or_create_camera
from monitor.store.schema import (
    AuditLog,
    Camera,
    CameraTimetable,
    TimetableChange,
    TimetableHoliday,
    TimetablePeriod,
    utcnow,
)
from monitor.store.site_settings import get_setting, school_zone
from monitor.timetable import (
    DAYS,
    DayChange,
    Holiday,
    Slot,
    Timetable,
    TimetableError,
    hm,
    parse_changes,
    parse_holidays,
    parse_weekly,
)

log = logging.getLogger(__name__)
POLL_S = 10.0  # a running worker reads its timetable again this often (an edit reaches it within this)
CHANGE_KINDS = ("cancel", "period", "clear")


# --- reading ------------------------------------------------------------------------------------------


def _camera(db: Session, camera: int | str | Camera) -> Camera | None:
    if isinstance(camera, Camera):
        return camera
    if isinstance(camera, int):
        return db.get(Camera, camera)
    return camera_by_name(db, camera)


def holidays_of(db: Session) -> tuple[Holiday, ...]:
    """The school's holidays, earliest first."""
    rows = db.scalars(select(TimetableHoliday).order_by(TimetableHoliday.first, TimetableHoliday.id))
    return tuple(Holiday(h.first, h.last, h.label) for h in rows)


def weekly_of(db: Session, camera_id: int) -> dict[int, tuple[Slot, ...]]:
    rows = db.scalars(
        select(TimetablePeriod)
        .where(TimetablePeriod.camera_id == camera_id)
        .order_by(TimetablePeriod.weekday, TimetablePeriod.start)
    )
    weekly: dict[int, list[Slot]] = {}
    for p in rows:
        weekly.setdefault(p.weekday, []).append(Slot(p.start, p.end, p.label))
    return {day: tuple(slots) for day, slots in weekly.items()}


def changes_of(db: Session, camera_id: int) -> dict[date, DayChange]:
    rows = db.scalars(
        select(TimetableChange)
        .where(TimetableChange.camera_id == camera_id)
        .order_by(TimetableChange.day, TimetableChange.start)
    )
    by_day: dict[date, dict[str, Any]] = {}
    for c in rows:
        entry = by_day.setdefault(c.day, {"periods": None, "cancel": set()})
        if c.kind == "cancel" and c.start is not None:
            entry["cancel"].add(c.start)
        elif c.kind in ("period", "clear"):
            entry["periods"] = entry["periods"] or []
            if c.kind == "period" and c.start is not None and c.end is not None:
                entry["periods"].append(Slot(c.start, c.end, c.label or "Lesson"))
    return {
        day: DayChange(
            day,
            None if e["periods"] is None else tuple(sorted(e["periods"], key=lambda s: s.start)),
            frozenset(e["cancel"]),
        )
        for day, e in by_day.items()
    }


def period_rows(db: Session, camera_id: int) -> list[TimetablePeriod]:
    """The camera's weekly periods as stored (with their ids, for the edit forms), by day and start."""
    return list(
        db.scalars(
            select(TimetablePeriod)
            .where(TimetablePeriod.camera_id == camera_id)
            .order_by(TimetablePeriod.weekday, TimetablePeriod.start)
        )
    )


def change_rows(db: Session, camera_id: int) -> list[TimetableChange]:
    """The camera's one-off changes as stored, by date and start."""
    return list(
        db.scalars(
            select(TimetableChange)
            .where(TimetableChange.camera_id == camera_id)
            .order_by(TimetableChange.day, TimetableChange.start)
        )
    )


def holiday_rows(db: Session) -> list[TimetableHoliday]:
    return list(db.scalars(select(TimetableHoliday).order_by(TimetableHoliday.first, TimetableHoliday.id)))


def holds_timetable(db: Session, camera_id: int) -> bool:
    """Whether the database holds this camera's timetable (even an empty one)."""
    return db.get(CameraTimetable, camera_id) is not None


def timetable_for(db: Session, camera: int | str | Camera, zone: ZoneInfo | None = None) -> Timetable | None:
    """The camera's stored ``Timetable`` in ``zone`` (default: the school's), labelled in the site's
    language; None when the camera is unknown or the database holds no timetable for it."""
    cam = _camera(db, camera)
    if cam is None or not holds_timetable(db, cam.id):
        return None
    return Timetable(
        weekly=weekly_of(db, cam.id),
        zone=zone or school_zone(db),
        holidays=holidays_of(db),
        changes=changes_of(db, cam.id),
        locale=get_setting(db, "locale"),
    )


def weekly_entries(db: Session, camera_id: int) -> list[dict[str, str]] | None:
    """The camera's stored weekly periods as TOML-shaped ``{day, start, end, label}`` tables (what a school
    config's ``timetable`` holds); None when the database holds no timetable for it."""
    if not holds_timetable(db, camera_id):
        return None
    return [
        {"day": DAYS[p.weekday], "start": hm(p.start), "end": hm(p.end), "label": p.label}
        for p in period_rows(db, camera_id)
    ]


def timetabled_cameras(db: Session) -> list[Camera]:
    """The cameras whose timetable the database holds, by name."""
    return list(
        db.scalars(
            select(Camera).join(CameraTimetable, CameraTimetable.camera_id == Camera.id).order_by(Camera.name)
        )
    )


def period_now(db: Session, camera: int | str | Camera, now_utc: datetime | None = None) -> Period | None:
    """The period the camera is in at ``now_utc`` (default: now); None outside its periods or untimetabled."""
    tt = timetable_for(db, camera)
    return None if tt is None else tt.period_at(now_utc or utcnow())


class StoredSchedule:
    """A worker's schedule read from the database: the camera's timetable, zone and language are read again
    every ``poll_s``. While the database holds no timetable for the camera, ``fallback`` (the TOML's) is
    used; a failed read keeps the last timetable."""

    def __init__(
        self,
        factory: sessionmaker,
        camera: str,
        fallback: Timetable | None = None,
        poll_s: float = POLL_S,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.factory, self.camera, self.fallback, self.poll_s, self.clock = (
            factory,
            camera,
            fallback,
            poll_s,
            clock,
        )
        self.timetable: Timetable | None = fallback
        self._next = float("-inf")

    def refresh(self) -> None:
        with self.factory() as db:
            stored = timetable_for(db, self.camera)
            if stored is None and self.fallback is not None:
                self.fallback.zone, self.fallback.locale = school_zone(db), get_setting(db, "locale")
            self.timetable = stored or self.fallback

    def __call__(self, now_utc: datetime) -> Period | None:
        if self.clock() >= self._next:
            self._next = self.clock() + self.poll_s
            try:
                self.refresh()
            except Exception as exc:  # the database is away for a moment: the last timetable holds
                log.warning("timetable of %s not re-read (%s); keeping the last one", self.camera, exc)
        return None if self.timetable is None else self.timetable.period_at(now_utc)


# --- writing ------------------------------------------------------------------------------------------


def _mark(db: Session, camera_id: int, origin: str) -> None:
    row = db.get(CameraTimetable, camera_id)
    if row is None:
        db.add(CameraTimetable(camera_id=camera_id, origin=origin, updated_at=utcnow()))
    else:
        row.updated_at = utcnow()


def replace_timetable(
    db: Session,
    camera_id: int,
    weekly: Mapping[int, Iterable[Slot]],
    changes: Mapping[date, DayChange],
    origin: str,
) -> None:
    """Store ``weekly`` and ``changes`` as the camera's whole timetable (caller commits)."""
    db.execute(delete(TimetablePeriod).where(TimetablePeriod.camera_id == camera_id))
    db.execute(delete(TimetableChange).where(TimetableChange.camera_id == camera_id))
    for day, slots in sorted(weekly.items()):
        for s in slots:
            db.add(TimetablePeriod(camera_id=camera_id, weekday=day, start=s.start, end=s.end, label=s.label))
    for day, change in sorted(changes.items()):
        if change.periods is not None:
            if not change.periods:
                db.add(TimetableChange(camera_id=camera_id, day=day, kind="clear"))
            for s in change.periods:
                db.add(
                    TimetableChange(
                        camera_id=camera_id, day=day, kind="period", start=s.start, end=s.end, label=s.label
                    )
                )
        for start in sorted(change.cancel):
            db.add(TimetableChange(camera_id=camera_id, day=day, kind="cancel", start=start))
    _mark(db, camera_id, origin)
    db.flush()


def replace_holidays(db: Session, holidays: Iterable[Holiday]) -> None:
    """Store ``holidays`` as the school's holidays (caller commits)."""
    db.execute(delete(TimetableHoliday))
    for h in holidays:
        db.add(TimetableHoliday(first=h.first, last=h.last, label=h.label))
    db.flush()


def audit(db: Session, actor: str, action: str, **detail: Any) -> None:
    db.add(AuditLog(actor=actor, action=action, detail=json.dumps(detail, sort_keys=True, default=str)))


# --- TOML import and export ---------------------------------------------------------------------------

CAMERA_KEYS = ("name", "timetable", "changes")


def parse_timetable_file(raw: Mapping[str, Any]) -> tuple[tuple[Holiday, ...] | None, dict[str, tuple]]:
    """The holidays (None: the file has no ``[[holidays]]``) and ``{camera: (weekly, changes)}`` of a
    timetable file or a whole school config (its other keys are left alone); raises ``TimetableError``."""
    holidays = parse_holidays(raw["holidays"], "[[holidays]]") if "holidays" in raw else None
    cameras_raw = raw.get("cameras", [])
    if not isinstance(cameras_raw, list):
        raise TimetableError("cameras must be [[cameras]] tables")
    cameras: dict[str, tuple] = {}
    for i, table in enumerate(cameras_raw, start=1):
        if not isinstance(table, Mapping):
            raise TimetableError(f"camera {i}: must be a [[cameras]] table")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise TimetableError(f"camera {i}: missing 'name'")
        what = f"camera {name!r}"
        if "timetable" not in table:
            if "changes" in table:
                raise TimetableError(f"{what}: 'changes' without a 'timetable'")
            continue  # an always-on camera of a school config
        if name.strip() in cameras:
            raise TimetableError(f"{what}: listed twice")
        weekly = parse_weekly(table["timetable"], f"{what} timetable")
        changes = parse_changes(list(table.get("changes", [])), f"{what} changes")
        cameras[name.strip()] = (weekly, changes)
    return holidays, cameras


def import_timetables(
    db: Session,
    raw: Mapping[str, Any],
    *,
    actor: str,
    origin: str = "cli",
    only_missing: bool = False,
) -> list[str]:
    """Store the timetables of ``raw`` (a parsed TOML file); returns what was done, one line each."""
    holidays, cameras = parse_timetable_file(raw)
    return import_parsed(db, holidays, cameras, actor=actor, origin=origin, only_missing=only_missing)


def import_parsed(
    db: Session,
    holidays: tuple[Holiday, ...] | None,
    cameras: Mapping[str, tuple],
    *,
    actor: str,
    origin: str,
    only_missing: bool = False,
) -> list[str]:
    """Store ``holidays`` (None: leave them) and ``{camera: (weekly, changes)}``; returns what was done.

    ``only_missing`` (``serve`` at start): only the cameras whose timetable the database does not hold yet,
    and the holidays only when the database has none and holds no camera's timetable yet."""
    done: list[str] = []
    first_import = db.scalar(select(CameraTimetable.camera_id).limit(1)) is None
    if holidays is not None:
        empty = db.scalar(select(TimetableHoliday.id).limit(1)) is None
        if not only_missing or (empty and first_import):
            replace_holidays(db, holidays)
            done.append(f"holidays: {len(holidays)}")
    for name, (weekly, changes) in cameras.items():
        try:
            cam = get_or_create_camera(db, name)
        except CameraConfigError as exc:
            raise TimetableError(f"camera {name!r}: {exc}") from exc
        if only_missing and holds_timetable(db, cam.id):
            continue
        replace_timetable(db, cam.id, weekly, changes, origin)
        count = sum(len(s) for s in weekly.values())
        done.append(f"{cam.name}: {count} periods, {len(changes)} day changes")
    if done:
        audit(db, actor, "timetable_import", imported=done)
    return done


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _slot_toml(slot: Slot, day: int | None = None) -> str:
    day_part = f"day = {_toml_str(DAYS[day])}, " if day is not None else ""
    return (
        f"{{{day_part}start = {_toml_str(hm(slot.start))}, end = {_toml_str(hm(slot.end))}, "
        f"label = {_toml_str(slot.label)}}}"
    )


def export_timetables(db: Session, cameras: Iterable[str] | None = None) -> str:
    """The school's holidays and the stored timetables (all, or of ``cameras``) as TOML that
    ``timetable import`` reads back, in the school config's own shape."""
    lines = ["# classroom-monitor timetable export (classroom-monitor timetable import reads it back)", ""]
    for h in holidays_of(db):
        lines += ["[[holidays]]", f"from = {h.first.isoformat()}", f"to = {h.last.isoformat()}"]
        lines += [f"label = {_toml_str(h.label)}", ""]
    wanted = None if cameras is None else {c.strip() for c in cameras}
    found: set[str] = set()
    for cam in timetabled_cameras(db):
        if wanted is not None and cam.name not in wanted:
            continue
        found.add(cam.name)
        lines += ["[[cameras]]", f"name = {_toml_str(cam.name)}", "timetable = ["]
        for day, slots in sorted(weekly_of(db, cam.id).items()):
            lines += [f"  {_slot_toml(s, day)}," for s in slots]
        lines.append("]")
        changes = changes_of(db, cam.id)
        if changes:
            lines.append("changes = [")
            for day, change in sorted(changes.items()):
                parts = [f"date = {day.isoformat()}"]
                if change.periods is not None:
                    parts.append("periods = [" + ", ".join(_slot_toml(s) for s in change.periods) + "]")
                if change.cancel:
                    parts.append(
                        "cancel = [" + ", ".join(_toml_str(hm(t)) for t in sorted(change.cancel)) + "]"
                    )
                lines.append("  {" + ", ".join(parts) + "},")
            lines.append("]")
        lines.append("")
    missing = sorted((wanted or set()) - found)
    if missing:
        raise TimetableError(f"no timetable stored for camera {missing[0]!r}")
    return "\n".join(lines)


# --- browser edits (each checked like the TOML, each a TimetableError for the user) -------------------


def _check_no_overlap(slots: list[Slot], what: str) -> None:
    ordered = sorted(slots, key=lambda s: s.start)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end:
            raise TimetableError(
                f"{what}: {a.label} {hm(a.start)}-{hm(a.end)} overlaps {b.label} {hm(b.start)}"
            )


def _check_slot(start: time, end: time, label: str) -> str:
    if end <= start:
        raise TimetableError(f"end {hm(end)} is not after start {hm(start)}")
    label = (label or "").strip()
    if not label or len(label) > 150:
        raise TimetableError("label must be a text of 1 to 150 characters")
    return label


def save_period(
    db: Session,
    camera_id: int,
    weekday: int,
    start: time,
    end: time,
    label: str,
    period_id: int | None = None,
) -> TimetablePeriod:
    """Add a weekly period (or change period ``period_id``); refuses an overlap with the day's others."""
    if not 0 <= weekday <= 6:
        raise TimetableError(f"bad day {weekday!r} (0 is Monday, 6 is Sunday)")
    label = _check_slot(start, end, label)
    row = None
    if period_id is not None:
        row = db.get(TimetablePeriod, period_id)
        if row is None or row.camera_id != camera_id:
            raise TimetableError(f"no period {period_id} on this camera")
    others = db.scalars(
        select(TimetablePeriod).where(
            TimetablePeriod.camera_id == camera_id, TimetablePeriod.weekday == weekday
        )
    )
    slots = [Slot(p.start, p.end, p.label) for p in others if row is None or p.id != row.id]
    _check_no_overlap([*slots, Slot(start, end, label)], DAYS[weekday])
    if row is None:
        row = TimetablePeriod(camera_id=camera_id, weekday=weekday, start=start, end=end, label=label)
        db.add(row)
    else:
        row.weekday, row.start, row.end, row.label = weekday, start, end, label
    _mark(db, camera_id, "browser")
    db.flush()
    return row


_Row = TypeVar("_Row", TimetablePeriod, TimetableChange)


def _delete_on_camera(db: Session, model: type[_Row], camera_id: int, row_id: int, what: str) -> _Row:
    """Delete one of a camera's timetable rows (a weekly period or a one-off change); refuse another's."""
    row = db.get(model, row_id)
    if row is None or row.camera_id != camera_id:
        raise TimetableError(f"no {what} {row_id} on this camera")
    db.delete(row)
    _mark(db, camera_id, "browser")
    db.flush()
    return row


def delete_period(db: Session, camera_id: int, period_id: int) -> TimetablePeriod:
    return _delete_on_camera(db, TimetablePeriod, camera_id, period_id, "period")


def add_change(
    db: Session, camera_id: int, day: date, kind: str, start: time | None, end: time | None, label: str | None
) -> TimetableChange:
    """A one-off change on ``day``: ``cancel`` the period starting at ``start``, or a ``period`` of that
    day's own (the weekly periods then do not run that day)."""
    if kind not in ("cancel", "period"):
        raise TimetableError(f"bad change {kind!r} (cancel or period)")
    if start is None:
        raise TimetableError("give the start time")
    if kind == "period":
        if end is None:
            raise TimetableError("give the end time")
        label = _check_slot(start, end, label or "")
        existing = changes_of(db, camera_id).get(day)
        slots = list(existing.periods or ()) if existing else []
        _check_no_overlap([*slots, Slot(start, end, label)], day.isoformat())
    else:
        end, label = None, None
        tt = Timetable(weekly=weekly_of(db, camera_id), changes=changes_of(db, camera_id))
        if start not in {s.start for _, s in tt.day_periods(day)}:
            raise TimetableError(f"no period starts at {hm(start)} on {day.isoformat()}")
    row = TimetableChange(camera_id=camera_id, day=day, kind=kind, start=start, end=end, label=label)
    db.add(row)
    _mark(db, camera_id, "browser")
    db.flush()
    return row


def delete_change(db: Session, camera_id: int, change_id: int) -> TimetableChange:
    return _delete_on_camera(db, TimetableChange, camera_id, change_id, "change")


def add_holiday(db: Session, first: date, last: date, label: str) -> TimetableHoliday:
    if last < first:
        raise TimetableError(f"'to' {last} is before 'from' {first}")
    label = (label or "").strip() or "holiday"
    if len(label) > 150:
        raise TimetableError("label must be a text of 1 to 150 characters")
    row = TimetableHoliday(first=first, last=last, label=label)
    db.add(row)
    db.flush()
    return row


def delete_holiday(db: Session, holiday_id: int) -> TimetableHoliday:
    row = db.get(TimetableHoliday, holiday_id)
    if row is None:
        raise TimetableError(f"no holiday {holiday_id}")
    db.delete(row)
    db.flush()
    return row
