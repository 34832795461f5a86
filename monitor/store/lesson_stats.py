"""Whole-lesson figures for comparing lessons: the sessions list and the trends across a term.

Each lesson's figures come from its per-second rollups in one grouped query for a whole page of lessons
(sums, the people-in-view histogram and the sparkline slices together), never a loop over rows per lesson.
An ended lesson's figures never change, so they are kept in ``lesson_stats`` and a term of 200 lessons is
read from 200 rows instead of ~700,000 rollups; running lessons are always computed afresh.

Figures:
- ``attention``: the heads-up share (monitor/heads.py): heads up over the READABLE heads of the lesson's
  frames; None when it was not measured (older sessions) or no head was ever readable;
- ``engagement``: the class engagement index averaged over frames; None with no face seen;
- ``people_typical`` / ``people_peak``: people in view, the median and the busiest second (as
  ``queries.people_in_view``);
- ``sparkline``: the heads-up share in ``SPARK_POINTS`` equal slices of the lesson (None where no head was
  readable).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Float, Integer, Row, cast, extract, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from monitor.heads import HEAD_COUNT_COLUMNS, HeadCount
from monitor.locales import N_
from monitor.store.schema import ClassSession, LessonStats, SessionRollup, UTCDateTime, utcnow

SPARK_POINTS = 24
Lesson = ClassSession | Row
"""A session as an ORM object or as a row of its columns (``find_lessons``)."""
CLASS_SEPARATOR = " · "
"""Timetable labels read ``Maths 7B · Tue period 2``: the class is the part before the separator."""


@dataclass
class LessonFigures:
    """Sums over a lesson's rollups plus its people in view and sparkline (see the module docstring)."""

    seconds: int = 0
    frames: int = 0
    faces: int = 0
    attention_sum: float = 0.0
    engagement_sum: float = 0.0
    heads_up_sum: float = 0.0  # per-frame shares summed: lessons older than the counts (migration 0012)
    heads: HeadCount = field(default_factory=HeadCount)
    people_typical: float | None = None
    people_peak: float | None = None
    sparkline: list[float | None] = field(default_factory=list)
    kept_sparkline: str | None = None  # JSON as kept in lesson_stats, parsed only when drawn

    def line(self) -> list[float | None]:
        """The sparkline (see the module docstring); empty when there is none."""
        if self.kept_sparkline and not self.sparkline:
            self.sparkline = json.loads(self.kept_sparkline)
        return self.sparkline

    def attention(self, basis: str | None) -> float | None:
        """The heads-up share of the readable heads (monitor/heads.py); None when none was readable."""
        if not (self.faces and self.frames and basis):
            return None
        return self.heads.heads_up if self.heads.per_frame() is not None else self.heads_up_sum / self.frames

    def engagement(self) -> float | None:
        return self.engagement_sum / self.frames if self.faces and self.frames else None

    def empty_reason(self) -> str | None:
        """Why a lesson has no figures ("no video stored", "no faces detected"), None when it has some."""
        if not self.frames:
            return N_("no video stored")
        if not self.faces:
            return N_("no faces detected")
        return None


def class_of(label: str) -> str:
    """The class part of a lesson label: ``Maths 7B`` for ``Maths 7B · Tue period 2``."""
    return label.split(CLASS_SEPARATOR, 1)[0].strip()


def label_matches(label: str):
    """SQL condition: the session's label is ``label`` or starts with ``label · `` (a timetable period)."""
    prefix = label + CLASS_SEPARATOR
    return or_(
        ClassSession.label == label,
        func.substr(ClassSession.label, 1, len(prefix)) == prefix,
    )


def find_lessons(
    db: Session,
    camera_ids: list[int] | None,
    *,
    label: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = True,
) -> list[Lesson]:
    """Sessions of these cameras (None: all) and class label, started in [start, end).

    Plain rows with the ``class_sessions`` columns as attributes (``id``, ``label``, ``ended_at``...), not
    ORM objects: a term of lessons reads several times faster.
    """
    order = ClassSession.started_at.desc() if newest_first else ClassSession.started_at
    stmt = select(*ClassSession.__table__.columns).order_by(
        order, ClassSession.id.desc() if newest_first else ClassSession.id
    )
    if camera_ids is not None:
        stmt = stmt.where(ClassSession.camera_id.in_(camera_ids))
    if label:
        stmt = stmt.where(label_matches(label))
    if start is not None:
        stmt = stmt.where(ClassSession.started_at >= start)
    if end is not None:
        stmt = stmt.where(ClassSession.started_at < end)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(db.execute(stmt))


def lesson_ids(
    db: Session,
    *,
    camera_ids: list[int] | None = None,
    label: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[int]:
    """Ids of the sessions of these cameras (None: all) and class ``label`` (None: any; see
    :func:`label_matches`), started in [start, end), oldest first (the bulk export's order)."""
    stmt = select(ClassSession.id).order_by(ClassSession.started_at, ClassSession.id)
    if camera_ids is not None:
        stmt = stmt.where(ClassSession.camera_id.in_(camera_ids))
    if label is not None:
        stmt = stmt.where(label_matches(label))
    if start is not None:
        stmt = stmt.where(ClassSession.started_at >= start)
    if end is not None:
        stmt = stmt.where(ClassSession.started_at < end)
    return list(db.scalars(stmt))


def class_labels(db: Session, camera_ids: list[int] | None) -> list[str]:
    """The distinct class labels (see ``class_of``) of these cameras' sessions, sorted."""
    stmt = select(ClassSession.label).distinct()
    if camera_ids is not None:
        stmt = stmt.where(ClassSession.camera_id.in_(camera_ids))
    return sorted({class_of(x) for x in db.scalars(stmt) if x and class_of(x)}, key=str.casefold)


def _epoch_s(db: Session, ts):
    """SQL seconds since the epoch of a timestamp expression, on SQLite or PostgreSQL."""
    if db.get_bind().dialect.name == "sqlite":
        return (func.julianday(ts) - 2440587.5) * 86400.0
    return extract("epoch", ts)


def compute(db: Session, sessions: Iterable[Lesson], now: datetime | None = None) -> dict:
    """Figures of these sessions from their rollups: ``{session_id: LessonFigures}``, in one grouped query
    (by lesson, sparkline slice and people in view), so the rollups are read once."""
    by_id = {cs.id: cs for cs in sessions}
    out = {sid: LessonFigures() for sid in by_id}
    if not by_id:
        return out
    per_second = cast(SessionRollup.faces, Float) / SessionRollup.frames
    rows = db.execute(
        select(
            SessionRollup.session_id,
            _slot(db, now or utcnow()),
            per_second,
            func.count(),
            func.sum(SessionRollup.frames),
            func.sum(SessionRollup.faces),
            func.sum(SessionRollup.attention_sum),
            func.sum(SessionRollup.engagement_sum),
            func.sum(SessionRollup.heads_up_sum),
            *(func.sum(getattr(SessionRollup, c)) for c in HEAD_COUNT_COLUMNS),
        )
        .join(ClassSession, ClassSession.id == SessionRollup.session_id)
        .where(SessionRollup.session_id.in_(list(by_id)), SessionRollup.frames > 0)
        .group_by(literal_column("1"), literal_column("2"), literal_column("3"))  # by position: bound values
    ).all()
    histograms: dict[int, dict[float, int]] = {}
    slices: dict[int, list[HeadCount]] = {}  # per lesson: the heads of each slice
    for sid, k, people, n, frames, faces, att, eng, up, *counts in rows:
        f = out[sid]
        f.seconds += n
        f.frames += int(frames or 0)
        f.faces += int(faces or 0)
        f.attention_sum += att or 0.0
        f.engagement_sum += eng or 0.0
        f.heads_up_sum += up or 0.0
        heads = HeadCount.from_sums(frames, faces, tuple(counts), (up, 0.0, 0.0))
        f.heads += heads
        hist = histograms.setdefault(sid, {})
        hist[float(people)] = hist.get(float(people), 0) + n
        cells = slices.setdefault(sid, [HeadCount() for _ in range(SPARK_POINTS)])
        cells[int(k)] += heads
    for sid, hist in histograms.items():
        out[sid].people_typical = _median(list(hist.items()))
        out[sid].people_peak = max(hist)
        if by_id[sid].attention_basis:  # the heads-up ratio was measured
            out[sid].sparkline = [None if h.heads_up is None else round(h.heads_up, 3) for h in slices[sid]]
    return out


def _median(hist: list[tuple[float, int]]) -> float:
    """The median of a multiset given as (value, count) pairs (as ``statistics.median`` of the values)."""
    hist = sorted(hist)
    total = sum(n for _, n in hist)

    def nth(k: int) -> float:
        for value, n in hist:
            if k < n:
                return value
            k -= n
        return hist[-1][0]

    mid = total // 2
    return nth(mid) if total % 2 else statistics.fmean([nth(mid - 1), nth(mid)])


def _slot(db: Session, now: datetime):
    """SQL: which of the ``SPARK_POINTS`` equal slices of its lesson a rollup second falls in (clamped: a
    clock step may put a second outside the lesson); needs ``class_sessions`` joined."""
    start = _epoch_s(db, ClassSession.started_at)
    end = _epoch_s(db, func.coalesce(ClassSession.ended_at, literal(now, UTCDateTime())))
    share = (_epoch_s(db, SessionRollup.bucket_start) - start) * SPARK_POINTS / (end - start + 1.0)
    if db.get_bind().dialect.name == "sqlite":
        return func.min(func.max(cast(share, Integer), 0), SPARK_POINTS - 1)  # CAST truncates; >= 0 here
    return func.least(func.greatest(cast(func.floor(share), Integer), 0), SPARK_POINTS - 1)


def figures_for(
    db: Session,
    sessions: list[Lesson],
    save: Callable[[list[dict]], None] | None = None,
) -> dict[int, LessonFigures]:
    """Figures of these sessions: ended ones from ``lesson_stats`` where kept, the rest computed.

    ``save`` (optional) is given the ``lesson_stats`` rows of the ended sessions just computed, to keep
    them (the caller owns the write transaction; see ``save_rows``).
    """
    ended = {cs.id: cs for cs in sessions if cs.ended_at is not None}
    out: dict[int, LessonFigures] = {}
    if ended:
        # plain rows, not ORM objects: a term of lessons reads several times faster
        kept = select(*LessonStats.__table__.columns).where(LessonStats.session_id.in_(list(ended)))
        for row in db.execute(kept):
            if row.ended_at == ended[row.session_id].ended_at:
                out[row.session_id] = _from_row(row)
    missing = [cs for cs in sessions if cs.id not in out]
    if missing:
        fresh = compute(db, missing)
        out.update(fresh)
        rows = [_to_row(ended[sid], f) for sid, f in fresh.items() if sid in ended]
        if rows and save is not None:
            save(rows)
    return out


def save_rows(db: Session, rows: list[dict]) -> None:
    """Insert or replace ``lesson_stats`` rows (from ``figures_for``) in the caller's transaction."""
    for values in rows:
        db.merge(LessonStats(**values))


def _to_row(cs: Lesson, f: LessonFigures) -> dict:
    return {
        "session_id": cs.id,
        "ended_at": cs.ended_at,
        "computed_at": utcnow(),
        "seconds": f.seconds,
        "frames": f.frames,
        "faces": f.faces,
        "attention_sum": f.attention_sum,
        "engagement_sum": f.engagement_sum,
        "heads_up_sum": f.heads_up_sum,
        **dict(
            zip(HEAD_COUNT_COLUMNS, (f.heads.up, f.heads.down, f.heads.away, f.heads.unknown), strict=True)
        ),
        "people_typical": f.people_typical,
        "people_peak": f.people_peak,
        "sparkline": json.dumps(f.sparkline) if f.sparkline else None,
    }


def _counts(heads: HeadCount) -> tuple[int, int, int, int]:
    return heads.up, heads.down, heads.away, heads.unknown


def _from_row(row) -> LessonFigures:
    return LessonFigures(
        seconds=row.seconds,
        frames=row.frames,
        faces=row.faces,
        attention_sum=row.attention_sum,
        engagement_sum=row.engagement_sum,
        heads_up_sum=row.heads_up_sum,
        heads=HeadCount.from_sums(
            row.frames,
            row.faces,
            tuple(getattr(row, c) for c in HEAD_COUNT_COLUMNS),
            (row.heads_up_sum, 0.0, 0.0),
        ),
        people_typical=row.people_typical,
        people_peak=row.people_peak,
        kept_sparkline=row.sparkline,
    )
