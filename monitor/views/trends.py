"""Comparing lessons, filtered for the audience: the sessions list's rows, one class's (or camera's) trend
across the term, up to four classes overlaid, and what the trends page opens on.

A lesson's figures come from ``monitor.store.lesson_stats`` (its per-second rollups, kept once it ended).
Weeks run Monday to Sunday in the school's time zone (the audience's ``zone``). Privacy: no emotion field
ever; in attention-only mode the engagement index of a lesson recorded with emotions is withheld, because it
includes an expression term (``monitor.engagement``). The routes and their parameters are
``dashboard.trends``'s; the digest reads the same figures from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor import locales, timefmt
from monitor.heads import NOT_READABLE, HeadCount
from monitor.locales import N_
from monitor.store import directory, lesson_stats
from monitor.store.markers import iso_z, markers_by_session
from monitor.store.queries import session_end
from monitor.store.schema import Camera
from monitor.views.audience import Audience
from monitor.views.privacy import Privacy

log = logging.getLogger(__name__)
Gettext = Callable[[str], str]
SaveFigures = Callable[[list[dict]], None]

MAX_POINTS = 2000
"""The newest lessons one trend (one class of an overlay) plots at most."""
MAX_CLASSES = 4
"""The most classes one chart overlays."""
DEFAULT_WEEKS = 4
SPARK_W, SPARK_H = 96, 24
ENGAGEMENT_WITHHELD = N_("hidden in attention-only mode (not computed from attention alone)")


def _ids(audience: Audience) -> list[int] | None:
    return None if audience.camera_ids is None else list(audience.camera_ids)


def cameras(db: Session, audience: Audience) -> list[Camera]:
    """The cameras this audience may see, by name."""
    return directory.cameras(db, audience.camera_ids)


def class_labels(db: Session, audience: Audience) -> list[str]:
    """The class labels of the lessons this audience may see, sorted."""
    return lesson_stats.class_labels(db, _ids(audience))


def camera_ids(audience: Audience, camera_id: int | None) -> list[int] | None:
    """The cameras a trend of ``camera_id`` (None: every visible camera) reads; [] when it is not visible."""
    if camera_id is None:
        return _ids(audience)
    return [camera_id] if audience.may_see(camera_id) else []


# ---- one lesson's figures ----------------------------------------------------------------------------


def keeper(write: Callable[[], AbstractContextManager[Session]]) -> SaveFigures:
    """A ``save`` that keeps computed figures of ended lessons through ``write`` (a write transaction); a
    busy or read-only database only costs a recomputation next time."""

    def save(rows: list[dict]) -> None:
        try:
            with write() as db:
                lesson_stats.save_rows(db, rows)
        except SQLAlchemyError as exc:
            log.warning("lesson figures not cached: %s", exc)

    return save


def figures(
    db: Session, sessions: list[lesson_stats.Lesson], save: SaveFigures | None = None
) -> dict[int, lesson_stats.LessonFigures]:
    """Each lesson's figures; ``save`` keeps those of ended lessons (see ``lesson_stats.figures_for``)."""
    return lesson_stats.figures_for(db, sessions, save=save)


def lesson_dict(
    cs: lesson_stats.Lesson, f: lesson_stats.LessonFigures, privacy: Privacy, gettext: Gettext
) -> dict:
    """The figures of one lesson as the API and the pages show them (never an emotion field); its notes
    in the language of ``gettext``."""
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


def _display(
    row: dict, cs: lesson_stats.Lesson, f: lesson_stats.LessonFigures, privacy: Privacy, gettext: Gettext
) -> dict:
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
        people = gettext("typical %(typical)s, peak %(peak)s") % counts
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


def session_rows(
    db: Session,
    audience: Audience,
    *,
    camera_id: int | None,
    label: str | None,
    start: datetime | None,
    end: datetime | None,
    page: int,
    page_size: int,
    gettext: Gettext | None = None,
    save: SaveFigures | None = None,
) -> tuple[list[dict], bool]:
    """One page (1-based) of the lessons this audience may see, newest first, each with its figures and
    their text for the sessions list; and whether an older page follows."""
    gettext = gettext or audience.gettext
    found = lesson_stats.find_lessons(
        db,
        camera_ids(audience, camera_id),
        label=label,
        start=start,
        end=end,
        limit=page_size + 1,
        offset=(page - 1) * page_size,
    )
    more = len(found) > page_size
    found = found[:page_size]
    figs = figures(db, found, save)
    names = directory.camera_names(db)
    rows = []
    for cs in found:
        row = lesson_dict(cs, figs[cs.id], audience.privacy, gettext)
        row["camera"] = names.get(cs.camera_id, f"camera {cs.camera_id}")
        row["when"] = locales.date_time(cs.started_at, audience.zone, audience.locale)
        row["length"] = locales.duration(row["duration_s"], audience.locale)
        row["spark"] = spark_paths(figs[cs.id].line())
        row.update(_display(row, cs, figs[cs.id], audience.privacy, gettext))
        rows.append(row)
    return rows, more


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


def trend(
    db: Session,
    audience: Audience,
    *,
    camera_id: int | None = None,
    label: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    gettext: Gettext | None = None,
    save: SaveFigures | None = None,
) -> dict:
    """One point per lesson (oldest first) of ``label``'s class on the audience's cameras (or on camera
    ``camera_id``), and the week-over-week table; see dashboard/API.md. A camera the audience may not see
    gives no points (the route answers 404 before)."""
    gettext = gettext or audience.gettext
    found = lesson_stats.find_lessons(
        db, camera_ids(audience, camera_id), label=label, start=start, end=end, limit=MAX_POINTS
    )
    found.reverse()  # the newest MAX_POINTS, oldest first
    figs = figures(db, found, save)
    marks = markers_by_session(db, [cs.id for cs in found])
    points = []
    for cs in found:
        p = lesson_dict(cs, figs[cs.id], audience.privacy, gettext)
        p["markers"] = marks.get(cs.id, [])
        points.append(p)
    by_id = {cs.id: cs for cs in found}
    return {
        "points": points,
        "weekly": weekly(points, by_id, figs, audience.zone),
        "zone": timefmt.zone_name(audience.zone),
        "truncated": len(found) == MAX_POINTS,
    }


def overlay(
    db: Session,
    audience: Audience,
    labels: Sequence[str],
    *,
    camera_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    gettext: Gettext | None = None,
    save: SaveFigures | None = None,
) -> dict:
    """Up to ``MAX_CLASSES`` classes on one chart: one series per label, in the order given, each exactly
    the ``trend`` of that class (its points and weekly table)."""
    if not 0 < len(labels) <= MAX_CLASSES:
        raise ValueError(f"compare 1 to {MAX_CLASSES} classes, not {len(labels)}")
    series = []
    for label in labels:
        one = trend(
            db, audience, camera_id=camera_id, label=label, start=start, end=end, gettext=gettext, save=save
        )
        series.append({"label": label, **{k: v for k, v in one.items() if k != "zone"}})
    return {"series": series, "zone": timefmt.zone_name(audience.zone)}


def default_selection(db: Session, audience: Audience, now: datetime | None = None) -> dict[str, str] | None:
    """What the trends page opens on when nothing is chosen: the class of the audience's latest lesson
    (else its first camera) over the last four school weeks, today included. None: no camera to show."""
    today = timefmt.in_zone(now or datetime.now(UTC), audience.zone).date()
    since = (today - timedelta(weeks=DEFAULT_WEEKS, days=-1)).isoformat()
    visible = _ids(audience)
    latest = lesson_stats.find_lessons(db, visible, limit=1)
    if latest and lesson_stats.class_of(latest[0].label or ""):
        return {"label": lesson_stats.class_of(latest[0].label), "from": since}
    camera_id = latest[0].camera_id if latest else (visible[0] if visible else None)
    if visible is None and camera_id is None:
        camera_id = directory.first_camera_id(db)
    return {"camera": str(camera_id), "from": since} if camera_id is not None else None
