"""Comparing lessons: the sessions list's figures, and one class's trend across the term (API and page).

A lesson's figures come from ``monitor.store.lesson_stats`` (its per-second rollups, kept once it ended).
Dates in filters are days in the school's time zone (site setting ``timezone``). Privacy: no emotion
field ever; in attention-only mode the engagement index of a lesson recorded with emotions is withheld,
because it includes an expression term (monitor/engagement.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard import access
from dashboard.db import get_db, write_db
from dashboard.i18n import N_, current_locale
from dashboard.params import date_arg, int_arg
from monitor import locales, timefmt
from monitor.heads import NOT_READABLE, HeadCount
from monitor.store import lesson_stats
from monitor.store.markers import iso_z, markers_by_session
from monitor.store.queries import session_end
from monitor.store.schema import Camera
from monitor.store.site_settings import school_zone
from monitor.views.privacy import Privacy

log = logging.getLogger(__name__)
bp = Blueprint("trends", __name__)

PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_POINTS = 2000
MAX_LABEL = 200
SPARK_W, SPARK_H = 96, 24
ENGAGEMENT_WITHHELD = N_("hidden in attention-only mode (not computed from attention alone)")


# ---- parameters --------------------------------------------------------------------------------------


def label_arg() -> str | None:
    raw = request.args.get("label")
    if raw is None:
        return None
    label = " ".join(raw.split())
    if not label:
        abort(400, description=gettext("label must not be empty"))
    if len(label) > MAX_LABEL:
        abort(400, description=gettext("label must be at most %(n)s characters", n=MAX_LABEL))
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in label):
        abort(400, description=gettext("label must not contain control characters"))
    return label


def date_range(zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    start, end = date_arg("from", zone), date_arg("to", zone, end=True)
    if start and end and end <= start:
        abort(400, description=gettext("'to' must not be before 'from'"))
    return start, end


# ---- one lesson's figures ----------------------------------------------------------------------------


def _save(rows: list[dict]) -> None:
    """Keep computed figures of ended lessons; a busy or read-only database only costs a recomputation."""
    try:
        with write_db() as db:
            lesson_stats.save_rows(db, rows)
    except SQLAlchemyError as exc:
        log.warning("lesson figures not cached: %s", exc)


def figures(db: Session, sessions: list[lesson_stats.Lesson]) -> dict[int, lesson_stats.LessonFigures]:
    return lesson_stats.figures_for(db, sessions, save=_save)


def lesson_dict(cs: lesson_stats.Lesson, f: lesson_stats.LessonFigures, privacy: Privacy) -> dict:
    """The figures of one lesson as the API and the pages show them (never an emotion field)."""
    withheld = not privacy.for_lesson(cs.mode).engagement
    attention = f.attention(cs.attention_basis)
    engagement = None if withheld else f.engagement()
    empty = f.empty_reason()
    return {
        "session_id": cs.id,
        "label": cs.label,
        "camera_id": cs.camera_id,
        "started_at": iso_z(cs.started_at),
        "ended_at": None if cs.ended_at is None else iso_z(cs.ended_at),
        "in_progress": cs.ended_at is None,
        "duration_s": round((session_end(cs) - cs.started_at).total_seconds(), 1),
        "attention": None if attention is None else round(attention, 4),
        "engagement": None if engagement is None else round(engagement, 4),
        "people_typical": None if f.people_typical is None else round(f.people_typical, 1),
        "people_peak": None if f.people_peak is None else round(f.people_peak, 1),
        # why figures are missing (None when all are there), for the pages to say instead of 0%
        "heads_up_base": f.heads.text(gettext) if f.frames else None,
        "note": (gettext(empty) if empty else None)
        or (None if cs.attention_basis else gettext("heads-up ratio not measured in this lesson"))
        or (gettext(NOT_READABLE) if attention is None else None)
        or (gettext(ENGAGEMENT_WITHHELD) if withheld else None),
    }


def display(row: dict, cs: lesson_stats.Lesson, f: lesson_stats.LessonFigures, privacy: Privacy) -> dict:
    """Text for the sessions list: a figure, or what is going on instead (never a bare 0%)."""
    empty = f.empty_reason()
    empty = gettext(empty) if empty else None  # in the reader's language (monitor.store.lesson_stats)
    attention = empty or gettext("not measured")
    if row["attention"] is not None:
        attention = f"{row['attention'] * 100:.0f}%"
    if row["engagement"] is not None:
        engagement = f"{row['engagement'] * 100:.0f}%"
    elif not privacy.for_lesson(cs.mode).engagement and not empty:
        engagement = gettext("hidden in attention-only mode")
    else:
        engagement = empty or "–"
    if row["people_typical"] is None or empty:
        people = empty or "–"
    else:
        counts = {"typical": f"{row['people_typical']:g}", "peak": f"{row['people_peak']:g}"}
        people = gettext("typical %(typical)s, peak %(peak)s", **counts)
    return {"attention_text": attention, "engagement_text": engagement, "people_text": people}


def spark_paths(line: list[float | None]) -> list[str]:
    """SVG polyline ``points`` for a sparkline, one per unbroken run (a gap where no face was seen)."""
    if not line:
        return []
    step = SPARK_W / max(len(line) - 1, 1)
    runs: list[list[str]] = [[]]
    for i, v in enumerate(line):
        if v is None:
            runs.append([])
            continue
        runs[-1].append(f"{i * step:.1f},{(1 - v) * (SPARK_H - 2) + 1:.1f}")
    # a lone point is drawn as a tiny flat segment so it shows
    return [" ".join(r) if len(r) > 1 else f"{r[0]} {r[0]}" for r in runs if r]


# ---- the sessions list -------------------------------------------------------------------------------


def sessions_page(db: Session) -> dict[str, Any]:
    """Everything sessions.html needs: filters, one page of lessons with their figures, paging."""
    zone = school_zone(db)
    privacy = Privacy.load(db)
    visible = access.visible_camera_ids(db)
    stmt = select(Camera).order_by(Camera.name)
    if visible is not None:
        stmt = stmt.where(Camera.id.in_(visible))
    cams = list(db.scalars(stmt))
    camera_id = int_arg("camera_id", low=1, high=access.MAX_ID)
    ids = visible if camera_id is None else ([camera_id] if visible is None or camera_id in visible else [])
    label = label_arg() if request.args.get("label") else None
    start, end = date_range(zone)
    page = int_arg("page", low=1, high=MAX_PAGE, default=1)
    found = lesson_stats.find_lessons(
        db, ids, label=label, start=start, end=end, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    figs = figures(db, found)
    names = {c.id: c.name for c in cams}
    rows = []
    for cs in found:
        row = lesson_dict(cs, figs[cs.id], privacy)
        row["camera"] = names.get(cs.camera_id, f"camera {cs.camera_id}")
        row["when"] = locales.date_time(cs.started_at, zone, current_locale())
        row["length"] = locales.duration(row["duration_s"], current_locale())
        row["spark"] = spark_paths(figs[cs.id].line())
        row.update(display(row, cs, figs[cs.id], privacy))
        rows.append(row)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return {
        "sessions": rows,
        "cameras": cams,
        "labels": lesson_stats.class_labels(db, visible),
        "camera_id": camera_id,
        "label": label or "",
        "date_from": request.args.get("from", ""),
        "date_to": request.args.get("to", ""),
        "page": page,
        "prev_args": {**args, "page": page - 1} if page > 1 else None,
        "next_args": {**args, "page": page + 1} if more else None,
        "filtered": bool(camera_id or label or start or end),
        "zone": timefmt.zone_name(zone),
        "spark_w": SPARK_W,
        "spark_h": SPARK_H,
    }


# ---- trends --------------------------------------------------------------------------------------------


@dataclass
class _Week:
    start: date
    lessons: int = 0
    in_progress: int = 0
    heads: HeadCount = field(default_factory=HeadCount)
    eng_frames: int = 0
    engagement: float = 0.0


def weekly(
    points: list[dict], sessions: dict[int, lesson_stats.Lesson], figs: dict, zone: tzinfo
) -> list[dict]:
    """Lessons grouped by school week (Monday to Sunday in the school's zone), oldest first, with the
    change from the week before that had lessons. Weekly figures weight each lesson by its frames.

    A lesson still in progress is counted under ``in_progress`` only: its first minutes are not the
    week's figure, so it stays out of ``attention``, ``engagement`` and the change until it ends."""
    weeks: dict[date, _Week] = {}
    for p in points:
        cs, f = sessions[p["session_id"]], figs[p["session_id"]]
        local_day = timefmt.in_zone(cs.started_at, zone).date()
        monday = local_day - timedelta(days=local_day.weekday())
        w = weeks.setdefault(monday, _Week(monday))
        if cs.ended_at is None:
            w.in_progress += 1
            continue
        w.lessons += 1
        if p["attention"] is not None:
            w.heads += f.heads  # pooled: each lesson weighs by its readable heads
        if p["engagement"] is not None:
            w.eng_frames += f.frames
            w.engagement += f.engagement_sum
    out: list[dict] = []
    for monday in sorted(weeks):
        w = weeks[monday]
        att = w.heads.heads_up
        eng = w.engagement / w.eng_frames if w.eng_frames else None
        prev = out[-1] if out else None
        out.append(
            {
                "week": monday.isoformat(),
                "lessons": w.lessons,
                "in_progress": w.in_progress,
                "attention": None if att is None else round(att, 4),
                "engagement": None if eng is None else round(eng, 4),
                "previous_week": prev["week"] if prev else None,
                "change_attention": _change(att, prev and prev["attention"]),
                "change_engagement": _change(eng, prev and prev["engagement"]),
            }
        )
    return out


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 4)


def trends(
    db: Session,
    camera_ids: list[int] | None,
    label: str | None,
    start: datetime | None,
    end: datetime | None,
    privacy: Privacy,
    zone: tzinfo,
) -> dict:
    """One point per lesson (oldest first) and the week-over-week table; see dashboard/API.md."""
    found = lesson_stats.find_lessons(db, camera_ids, label=label, start=start, end=end, limit=MAX_POINTS)
    found.reverse()  # the newest MAX_POINTS, oldest first
    figs = figures(db, found)
    marks = markers_by_session(db, [cs.id for cs in found])
    points = []
    for cs in found:
        p = lesson_dict(cs, figs[cs.id], privacy)
        p["markers"] = marks.get(cs.id, [])
        points.append(p)
    by_id = {cs.id: cs for cs in found}
    return {
        "points": points,
        "weekly": weekly(points, by_id, figs, zone),
        "zone": timefmt.zone_name(zone),
        "truncated": len(found) == MAX_POINTS,
    }


@bp.get("/api/trends")
def trends_api() -> Any:
    db = get_db()
    zone = school_zone(db)
    camera_id = int_arg("camera", low=1, high=access.MAX_ID)
    label = label_arg()
    if camera_id is None and label is None:
        abort(400, description=gettext("give camera=ID or label=TEXT (a class label such as 'Maths 7B')"))
    start, end = date_range(zone)
    ids = access.visible_camera_ids(db)
    if camera_id is not None:
        access.camera_or_404(db, camera_id)
        ids = [camera_id]
    out = trends(db, ids, label, start, end, Privacy.load(db), zone)
    return jsonify(camera=camera_id, label=label, **out)


DEFAULT_WEEKS = 4


def default_selection(db: Session, visible: list[int] | None, zone: tzinfo) -> dict[str, str] | None:
    """What the trends page opens on when nothing is chosen: the class of the user's latest lesson (else
    their first camera) over the last four school weeks, today included. None: no camera to show."""
    since = (
        timefmt.in_zone(datetime.now(UTC), zone).date() - timedelta(weeks=DEFAULT_WEEKS, days=-1)
    ).isoformat()
    latest = lesson_stats.find_lessons(db, visible, limit=1)
    if latest and lesson_stats.class_of(latest[0].label or ""):
        return {"label": lesson_stats.class_of(latest[0].label), "from": since}
    camera_ids = [latest[0].camera_id] if latest else visible
    if camera_ids is None:
        camera_ids = list(db.scalars(select(Camera.id).order_by(Camera.name).limit(1)))
    return {"camera": str(camera_ids[0]), "from": since} if camera_ids else None


@bp.get("/trends")
def trends_page() -> Any:
    db = get_db()
    visible = access.visible_camera_ids(db)
    if not request.args:
        chosen = default_selection(db, visible, school_zone(db))
        if chosen is not None:
            return redirect(url_for("trends.trends_page", **chosen))
    stmt = select(Camera).order_by(Camera.name)
    if visible is not None:
        stmt = stmt.where(Camera.id.in_(visible))
    cams = list(db.scalars(stmt))
    # The page draws whatever /api/trends answers for these parameters (errors included).
    query = {k: v for k in ("camera", "label", "from", "to") if (v := request.args.get(k, "").strip())}
    camera = next((c.name for c in cams if str(c.id) == query.get("camera")), None)
    if "label" in query and "camera" in query:
        title = _("Class %(label)s on camera %(camera)s", label=query["label"], camera=camera or "?")
    elif "label" in query:
        title = _("Class %(label)s", label=query["label"])
    elif "camera" in query:
        title = _("Camera %(camera)s", camera=camera) if camera else _("Camera")
    else:
        title = ""
    return render_template(
        "trends.html",
        cameras=cams,
        labels=lesson_stats.class_labels(db, visible),
        zone=timefmt.zone_name(school_zone(db)),
        api_url=url_for("trends.trends_api", **query) if {"camera", "label"} & set(query) else None,
        title=title,
    )
