"""Read queries shared by the dashboard, the reports and the CLI.

Timelines are built from the per-second rollups (3,600 rows for an hour), aggregated in Python so that the
same code runs on every database; per-track timelines read the observations through their index.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import timefmt
from monitor.heads import HEAD_COUNT_COLUMNS, HEAD_SHARE_COLUMNS, HeadCount
from monitor.labels import EMOTIONS
from monitor.locales import N_
from monitor.store.schema import (
    PROB_COLUMNS,
    Camera,
    ClassSession,
    Observation,
    SessionRollup,
    TrackSummary,
    WorkerStatus,
    utcnow,
)
from monitor.store.sessions import is_stale
from monitor.store.site_settings import school_zone
from monitor.store.worker_health import UNREACHABLE

BUCKET_CHOICES_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
TARGET_BUCKETS = 120
ROLLUP_COLUMNS = list(SessionRollup.__table__.columns)
_ROLLUP_NAMES = [c.name for c in ROLLUP_COLUMNS]


def auto_bucket_seconds(duration_s: float, target: int = TARGET_BUCKETS) -> int:
    """The smallest standard bucket that draws a session of ``duration_s`` in at most ``target`` buckets."""
    for choice in BUCKET_CHOICES_S:
        if duration_s / choice <= target:
            return choice
    return BUCKET_CHOICES_S[-1]


@dataclass
class TimelineBucket:
    """One bucket of a class timeline. ``emotions`` is None in attention-only sessions or with no faces."""

    start: datetime
    frames: int
    faces: int
    faces_per_frame: float
    attention: float | None
    engagement: float | None
    emotions: dict[str, float] | None = field(default=None)
    # Shares of the READABLE heads (monitor/heads.py): up / (up + down + away), pooled over the bucket
    heads_up: float | None = None
    heads_down: float | None = None
    turned_away: float | None = None
    heads: HeadCount | None = None  # the counts the shares come from: their base

    @classmethod
    def of_heads(cls, heads: HeadCount, **fields) -> TimelineBucket:
        """A bucket whose attention is the heads-up share of ``heads`` (one meaning of attention)."""
        shares = heads.shares() or (None, None, None)
        up, down, away = shares
        return cls(attention=up, heads_up=up, heads_down=down, turned_away=away, heads=heads, **fields)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(timespec="milliseconds"),
            "frames": self.frames,
            "faces": self.faces,
            "faces_per_frame": round(self.faces_per_frame, 3),
            "attention": None if self.attention is None else round(self.attention, 4),
            "engagement": None if self.engagement is None else round(self.engagement, 4),
            "emotions": None if self.emotions is None else {k: round(v, 4) for k, v in self.emotions.items()},
            **{k: None if v is None else round(v, 4) for k, v in self._heads().items()},
            "heads": None if self.heads is None else self.heads.as_dict(),
        }

    def _heads(self) -> dict[str, float | None]:
        return {"heads_up": self.heads_up, "heads_down": self.heads_down, "turned_away": self.turned_away}


def session_end(cs: ClassSession) -> datetime:
    """When a session ended, or now if it is still running."""
    return cs.ended_at or utcnow()


def session_timeline(
    db: Session,
    session_id: int,
    bucket_s: int | None = None,
    since: datetime | None = None,
) -> tuple[int, list[TimelineBucket]]:
    """Aggregate a session's per-second rollups into buckets of ``bucket_s`` seconds (auto when None).

    Returns the bucket size used and the non-empty buckets in time order.
    """
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise LookupError(f"no session {session_id}")
    if bucket_s is None:
        bucket_s = auto_bucket_seconds((session_end(cs) - cs.started_at).total_seconds())
    # Plain rows, not ORM objects: ~10x faster for the 3,600 rollups of an hour.
    stmt = select(*ROLLUP_COLUMNS).where(SessionRollup.session_id == session_id)
    if since is not None:
        stmt = stmt.where(SessionRollup.bucket_start >= since)
    # Core execution on the session's connection: no ORM result bookkeeping for 3,600 plain rows.
    rows = db.connection().execute(stmt.order_by(SessionRollup.bucket_start)).all()
    origin = cs.started_at.replace(microsecond=0)  # rollups are whole seconds
    buckets: dict[int, list] = {}
    for row in rows:
        key = int((row.bucket_start - origin).total_seconds() // bucket_s)
        buckets.setdefault(key, []).append(row)
    out = []
    for key in sorted(buckets):
        # One column at a time (by position: a Row's attribute lookup by name costs more than the sum)
        col = dict(zip(_ROLLUP_NAMES, zip(*buckets[key], strict=True), strict=True))
        frames = sum(col["frames"])
        faces = sum(col["faces"])
        emotions = None
        if faces and any(v is not None for v in col["p_happy"]):  # None: no face readable that second
            sums = [sum((v or 0.0) for v in col[c]) for c in PROB_COLUMNS]
            total = sum(sums) or 1.0
            emotions = {label: s / total for label, s in zip(EMOTIONS, sums, strict=True)}
        heads = HeadCount.from_sums(
            frames,
            faces,
            tuple(sum(col[c]) for c in HEAD_COUNT_COLUMNS),
            tuple(sum(col[c]) for c in HEAD_SHARE_COLUMNS),
        )
        out.append(
            TimelineBucket.of_heads(
                heads,
                start=origin + timedelta(seconds=key * bucket_s),
                frames=frames,
                faces=faces,
                faces_per_frame=faces / frames if frames else 0.0,
                engagement=sum(col["engagement_sum"]) / frames if frames else None,
                emotions=emotions,
            )
        )
    return bucket_s, out


@dataclass
class PeopleInView:
    """How many people a session had in view, from its per-second rollups (faces / frames of each second).

    ``typical`` is the median over the session's seconds, ``peak`` the highest second: a one-frame false box
    does not make a peak. Both are 0 for a session with no frames stored yet.
    """

    typical: float
    peak: float
    seconds: int

    def as_dict(self) -> dict:
        return {"typical": round(self.typical, 1), "peak": round(self.peak, 1), "seconds": self.seconds}

    def text(self) -> str:
        """``typical 3, peak 4`` (whole numbers where the figure is within 0.05 of one)."""
        return "typical {typical}, peak {peak}".format(**self.counts())

    def counts(self) -> dict[str, str]:
        """The typical and peak counts as words: ``{"typical": "3", "peak": "4"}``."""
        return {"typical": _count(self.typical), "peak": _count(self.peak)}


def _count(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def people_in_view(db: Session, session_id: int) -> PeopleInView:
    """Typical and peak people in view of a session (see ``PeopleInView``); one query over its rollups."""
    rows = db.execute(
        select(SessionRollup.frames, SessionRollup.faces).where(
            SessionRollup.session_id == session_id, SessionRollup.frames > 0
        )
    ).all()
    per_second = [faces / frames for frames, faces in rows]
    if not per_second:
        return PeopleInView(0.0, 0.0, 0)
    return PeopleInView(statistics.median(per_second), max(per_second), len(per_second))


def track_summaries(db: Session, session_id: int) -> list[dict]:
    """Per-track rows (anonymous ids): time in view, attention, mean emotion shares, dominant label."""
    rows = db.scalars(
        select(TrackSummary).where(TrackSummary.session_id == session_id).order_by(TrackSummary.track_id)
    ).all()
    out = []
    for r in rows:
        n = max(r.observations, 1)
        emotions = None
        if r.p_happy is not None:
            # shares of the observations that had an expression (faces too small to read have none)
            read = sum(getattr(r, c) for c in PROB_COLUMNS) or 1.0
            emotions = {label: getattr(r, c) / read for label, c in zip(EMOTIONS, PROB_COLUMNS, strict=True)}
        out.append(
            {
                "track_id": r.track_id,
                "first_seen": r.first_seen.isoformat(timespec="milliseconds"),
                "last_seen": r.last_seen.isoformat(timespec="milliseconds"),
                "seconds_in_view": round((r.last_seen - r.first_seen).total_seconds(), 3),
                "observations": r.observations,
                "attention": round(r.attention_sum / n, 4),
                "emotions": None if emotions is None else {k: round(v, 4) for k, v in emotions.items()},
                "dominant": None if emotions is None else max(emotions, key=emotions.__getitem__),
            }
        )
    return out


def track_timeline(db: Session, session_id: int, track_id: int, bucket_s: int) -> list[dict]:
    """One track's observations averaged per bucket (reads observations, so for one track at a time)."""
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise LookupError(f"no session {session_id}")
    cols = [Observation.ts, Observation.attention, *(getattr(Observation, c) for c in PROB_COLUMNS)]
    rows = db.execute(
        select(*cols)
        .where(Observation.session_id == session_id, Observation.track_id == track_id)
        .order_by(Observation.ts)
    ).all()
    buckets: dict[int, list] = {}
    for row in rows:
        buckets.setdefault(int((row[0] - cs.started_at).total_seconds() // bucket_s), []).append(row)
    out = []
    for key in sorted(buckets):
        group = buckets[key]
        n = len(group)
        emotions = None
        if group[0][2] is not None:
            emotions = {label: round(sum(r[2 + i] for r in group) / n, 4) for i, label in enumerate(EMOTIONS)}
        out.append(
            {
                "start": (cs.started_at + timedelta(seconds=key * bucket_s)).isoformat(
                    timespec="milliseconds"
                ),
                "observations": n,
                "attention": round(sum(r[1] for r in group) / n, 4),
                "emotions": emotions,
            }
        )
    return out


CAMERA_UNREACHABLE = N_("Camera unreachable since %(time)s (%(why)s)")
NO_HEARTBEAT = N_("No heartbeat since %(time)s (the worker stopped or crashed)")


def list_cameras(
    db: Session, camera_ids: list[int] | None = None, gettext: Callable[[str], str] | None = None
) -> list[dict]:
    """Cameras with their status, heartbeat and running session (``camera_ids=None``: all); ``problem`` in
    the language of ``gettext`` (English by default; the worker's own detail stays as it wrote it)."""
    _ = gettext or (lambda text: text)
    stmt = select(Camera).order_by(Camera.name)
    if camera_ids is not None:
        stmt = stmt.where(Camera.id.in_(camera_ids))
    out = []
    now = utcnow()
    zone = school_zone(db)
    for cam in db.scalars(stmt):
        running = running_session(db, cam.id)
        ws = db.get(WorkerStatus, cam.id)
        status, detail = cam.status, cam.status_detail
        # A camera its worker cannot read: since when (the worker's capture state) and a line that says so.
        problem, since = None, None
        if ws is not None and status in UNREACHABLE and ws.capture_state == status and ws.capture_since:
            since = ws.capture_since
            problem = _(CAMERA_UNREACHABLE) % {"time": timefmt.clock(since, zone), "why": detail or _(status)}
        if status != "offline" and is_stale(cam.last_heartbeat, now):
            # A killed worker writes nothing more: its last word was "online", but silence means offline.
            status, detail = "offline", "no heartbeat: the worker stopped or crashed"
            since = cam.last_heartbeat
            problem = _(NO_HEARTBEAT) % {"time": timefmt.clock(since, zone)}
        out.append(
            {
                "id": cam.id,
                "name": cam.name,
                "status": status,
                "status_detail": detail,
                "status_since": since.isoformat(timespec="milliseconds") if since else None,
                "problem": problem,
                "last_heartbeat": cam.last_heartbeat.isoformat(timespec="milliseconds")
                if cam.last_heartbeat
                else None,
                "running_session": None if running is None else session_dict(running),
                "faces_in_view": ws.faces_in_view if ws and running else 0,
                "fps": ws.fps if ws else None,
            }
        )
    return out


def running_session(db: Session, camera_id: int) -> ClassSession | None:
    return db.scalars(
        select(ClassSession)
        .where(ClassSession.camera_id == camera_id, ClassSession.ended_at.is_(None))
        .order_by(ClassSession.started_at.desc())
        .limit(1)
    ).first()


def running_sessions(db: Session) -> list[ClassSession]:
    """Every lesson not ended yet, on any camera."""
    return list(db.scalars(select(ClassSession).where(ClassSession.ended_at.is_(None))))


def session_dict(cs: ClassSession) -> dict:
    return {
        "id": cs.id,
        "camera_id": cs.camera_id,
        "label": cs.label,
        "started_at": cs.started_at.isoformat(timespec="milliseconds"),
        "ended_at": cs.ended_at.isoformat(timespec="milliseconds") if cs.ended_at else None,
        "in_progress": cs.ended_at is None,
        "mode": cs.mode,
        "model_version": cs.model_version,
        "detector": cs.detector,
        "frames": cs.frames,
        "faces": cs.faces,
        "tracks": cs.tracks,
        # the heads-up ratio's denominator: "class_size" (of class_size students) or "in_view" (people seen)
        "attention_basis": cs.attention_basis,
        "class_size": cs.class_size,
        # set when the retention purge deleted (some of) its observations (monitor.store.retention)
        "observations_purged_at": cs.observations_purged_at.isoformat(timespec="milliseconds")
        if cs.observations_purged_at
        else None,
    }


def list_sessions(
    db: Session,
    camera_ids: list[int] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 500,
) -> list[dict]:
    """Sessions newest first, filtered by cameras and by a start-time range [start, end)."""
    stmt = select(ClassSession).order_by(ClassSession.started_at.desc()).limit(limit)
    if camera_ids is not None:
        stmt = stmt.where(ClassSession.camera_id.in_(camera_ids))
    if start is not None:
        stmt = stmt.where(ClassSession.started_at >= start)
    if end is not None:
        stmt = stmt.where(ClassSession.started_at < end)
    return [session_dict(cs) for cs in db.scalars(stmt)]


def latest_frame(db: Session, session_id: int, after_frame: int = -1) -> list[Observation]:
    """The observations of the newest stored frame of a session, if newer than ``after_frame``.

    Goes through the (session_id, ts) index: all faces of a frame share its timestamp. Sorted in Python:
    ORDER BY track_id would lead SQLite to the (session_id, track_id) index and a scan of the session.
    """
    newest = db.execute(
        select(Observation.ts, Observation.frame_index)
        .where(Observation.session_id == session_id)
        .order_by(Observation.ts.desc())
        .limit(1)
    ).first()
    if newest is None or newest.frame_index <= after_frame:
        return []
    found = db.scalars(
        select(Observation).where(Observation.session_id == session_id, Observation.ts == newest.ts)
    ).all()
    return sorted(found, key=lambda o: o.track_id)
