"""Many sessions in one zip: choosing them (a camera, a date range) and streaming their reports in."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy.orm import Session

from monitor import timefmt
from monitor.reports.core import ReportError, check_format, get_session, render, report_filename
from monitor.reports.files import atomic_file, output_path, session_db_url
from monitor.store import directory
from monitor.store.cameras import camera_by_name
from monitor.store.lesson_stats import lesson_ids
from monitor.store.site_settings import school_zone
from monitor.views.sessions import session_fields


def _local_midnight(day: date, zone: tzinfo) -> datetime | None:
    """The start of the school's day ``day`` (site setting ``timezone``), as a UTC instant; ``None`` when that
    instant lies outside what ``datetime`` can hold (the day after 9999-12-31), i.e. no bound at all."""
    try:
        return timefmt.day_start_utc(day, zone)
    except OverflowError:
        return None


def _day_after(day: date) -> date | None:
    """The day after ``day``; ``None`` after the last day ``date`` can hold."""
    return None if day == date.max else day + timedelta(days=1)


def bulk_name(camera: str | None, label: str | None, date_from: date | None, date_to: date | None) -> str:
    """The zip's file name: ``sessions-room-12-maths-7b-2026-11-01-to-2026-11-30.zip``."""
    parts = ["sessions"]
    for text, fallback in ((camera, "camera"), (label, "class")):
        if text:
            parts.append(re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or fallback)
    if date_from:
        parts.append(f"{date_from:%Y-%m-%d}")
    if date_to:
        parts.append(f"to-{date_to:%Y-%m-%d}")
    return "-".join(parts) + ".zip"


def find_sessions(
    db: Session,
    camera: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    label: str | None = None,
    camera_ids: Iterable[int] | None = None,
) -> list[int]:
    """Ids of the sessions of ``camera`` (by name) started within the days ``date_from``..``date_to`` (both
    included, in the school's time zone), oldest first; only those of class ``label`` (the lesson label, or
    its part before `` · `` for a timetabled period) when given, and only on ``camera_ids`` when given (what
    a teacher may see). ``ReportError`` for an unknown camera or when nothing matches."""
    zone = school_zone(db)
    on_cameras = None if camera_ids is None else list(camera_ids)
    if camera is not None:
        cam = camera_by_name(db, camera)  # the name rule of every camera look-up: C1 finds c1
        if cam is None:
            known = ", ".join(c.name for c in directory.cameras(db)) or "none"
            raise ReportError(f"no camera named {camera!r} (cameras: {known})")
        on_cameras = [cam.id] if on_cameras is None or cam.id in on_cameras else []
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ReportError(f"--to {date_to} is before --from {date_from}")
    # A bound that falls outside datetime's range (9999-12-31's end, 0001-01-01 east of UTC) is no bound.
    start = _local_midnight(date_from, zone) if date_from is not None else None
    next_day = _day_after(date_to) if date_to is not None else None
    end = _local_midnight(next_day, zone) if next_day is not None else None
    ids = lesson_ids(db, camera_ids=on_cameras, label=label, start=start, end=end)
    if not ids:
        raise ReportError(
            "no sessions match"
            + (f" camera {camera!r}" if camera else "")
            + (f" class {label!r}" if label else "")
            + (f" from {date_from}" if date_from else "")
            + (f" to {date_to}" if date_to else "")
        )
    return ids


def write_bulk_zip(
    db: Session,
    session_ids: Iterable[int],
    fmts: Iterable[str],
    path: str | Path,
    *,
    models_dir: Path | None = None,
    force: bool = False,
    locale: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the reports of several sessions, each in every one of ``fmts``, into one zip at ``path``
    (an existing file is replaced only with ``force``; the database and model files never are).

    ``locale`` is the reader's language (None: the site's); ``progress(done, total)`` is called after each
    session's reports are in."""
    fmts = [check_format(f) for f in dict.fromkeys(fmts)]
    ids = list(dict.fromkeys(session_ids))
    if not fmts:
        raise ReportError("no report format given")
    if not ids:
        raise ReportError("no sessions to export")
    sessions = [session_fields(get_session(db, sid)) for sid in ids]
    target = output_path(path, "sessions.zip", force=force, db_url=session_db_url(db), models_dir=models_dir)
    zone = school_zone(db)
    stamp = datetime.now(zone).timetuple()[:6]
    with atomic_file(target, overwrite=force) as tmp, zipfile.ZipFile(tmp, "x", zipfile.ZIP_DEFLATED) as zf:
        for done, session in enumerate(sessions, 1):
            for fmt in fmts:
                # Streamed member by member: a session of millions of rows never sits in memory.
                info = zipfile.ZipInfo(report_filename(session, fmt, zone), date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w", force_zip64=True) as member:
                    for chunk in render(db, session["id"], fmt, models_dir=models_dir, locale=locale):
                        member.write(chunk)
            if progress is not None:
                progress(done, len(sessions))
    return target
