"""A lesson's figures as they leave the store, each filtered for the audience in one place: its summary,
timeline, tracks (and one track's timeline), live frame and live snapshot, and what a report says.

Every page, route, export and feed calls these with an ``Audience``; ``Privacy.for_lesson`` and the track
rules are applied here and nowhere else (moved from ``dashboard/summaries.py``, the API's routes and the
data-gathering half of ``monitor/reports/content.py``, issue 22).

``live_frame`` is the only filter of a live summary: the dashboard's poller (from the store) and the
worker's Redis publish (from the pipeline) both call it, so a mid-lesson switch to attention-only withholds
the engagement index of a lesson recorded with emotions on every deployment alike.

Hidden per-track emotions are ``None`` (``track_rows``), for the API and the reports alike; the JSON report
then leaves out the emotion keys that are ``None`` in an attention-only report (``monitor.reports``), as it
does for its timeline, so that it names no emotion anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor import timefmt
from monitor.heads import NOT_READABLE, WARMUP_S, HeadCount
from monitor.labels import FACES_TOO_SMALL
from monitor.live import frame_summary
from monitor.store import queries
from monitor.store.markers import list_markers
from monitor.store.retention import purged_note
from monitor.store.schema import (
    PROB_COLUMNS,
    Camera,
    ClassSession,
    ModelVersion,
    Observation,
    SessionRollup,
    TrackSummary,
    utcnow,
)
from monitor.views.audience import Audience
from monitor.views.cameras import camera_state, emotion_shares
from monitor.views.privacy import Privacy
from monitor.views.summary import LessonFigures, lesson_figures, summary_lines

LIVE_WINDOW_S = 300
"""The live page starts from the last five minutes of the running lesson."""
LIVE_BUCKET_S = 5


@dataclass(frozen=True)
class Shown:
    """What one audience may see of one lesson."""

    emotions: bool  # its expressions: recorded with emotions and the site allows them (``shows_emotions``)
    engagement: bool  # its engagement index (withheld from a lesson recorded with emotions, attention-only)
    tracks: bool  # per-track rows (off in class-only mode)

    @property
    def mode(self) -> str:
        """``"emotion"`` when the lesson's emotions may be shown, else ``"attention"``."""
        return "emotion" if self.emotions else "attention"


def shown(audience: Audience, recorded_mode: str) -> Shown:
    """What ``audience`` may see of a lesson recorded in ``recorded_mode`` (``ClassSession.mode``)."""
    privacy = audience.privacy
    return Shown(
        emotions=privacy.shows_emotions(recorded_mode),
        engagement=privacy.for_lesson(recorded_mode).engagement,
        tracks=privacy.tracks,
    )


# ---- live ------------------------------------------------------------------------------------------------


def live_frame(audience: Audience, recorded_mode: str, payload: dict) -> dict:
    """A live summary (``monitor.live.frame_summary``) of a lesson recorded in ``recorded_mode``
    (``ClassSession.mode``: "emotion" once it ever ran with emotions), filtered by the site's rules."""
    return _lesson_rules(audience, recorded_mode).live_frame(payload)


def _lesson_rules(audience: Audience, recorded_mode: str) -> Privacy:
    return audience.privacy.for_lesson(recorded_mode)


def recorded_mode(db: sessionmaker | Session, session_id: int) -> str:
    """The mode a lesson is recorded in so far ("emotion" once it ever ran with emotion inference)."""
    if isinstance(db, Session):
        cs = db.get(ClassSession, session_id)
        return cs.mode if cs is not None else "attention"
    with db() as session:
        return recorded_mode(session, session_id)


def frame_payload(db: Session, cs: ClassSession, rows: list[Observation], audience: Audience) -> dict:
    """The live summary (``monitor.live.frame_summary``) of one stored frame, privacy applied."""
    first = rows[0]
    rollup = db.get(SessionRollup, (cs.id, first.ts.replace(microsecond=0)))
    engagement = rollup.engagement_sum / rollup.frames if rollup and rollup.frames else None
    emotion = cs.mode == "emotion"
    tracks = [
        {
            "track_id": r.track_id,
            "box": (r.x, r.y, r.w, r.h),
            "attention": r.attention,
            "posture": r.posture,
            # no probabilities stored in emotion mode: a face too small to read (frame_summary says so)
            "probs": [getattr(r, c) for c in PROB_COLUMNS] if emotion and r.p_happy is not None else None,
        }
        for r in rows
    ]
    payload = frame_summary(
        camera_id=cs.camera_id,
        session_id=cs.id,
        ts=first.ts,
        frame_index=first.frame_index,
        tracks=tracks,
        engagement=engagement,
        mode="emotion" if emotion else "attention",
        heads_up=rollup.heads_up_sum / rollup.frames
        if rollup and rollup.frames and cs.attention_basis
        else None,
        # the worker's pipeline says so on its own feed; from the store: the first seconds of the lesson
        warming_up=(first.ts - cs.started_at).total_seconds() < WARMUP_S,
    )
    return live_frame(audience, cs.mode, payload)


def live_snapshot(db: Session, camera_id: int, audience: Audience) -> dict:
    """What the live page starts from: the running session, its last five minutes and its newest frame,
    the camera's heartbeat, and (no lesson running) the lesson that ended last, to link to its report."""
    cs = queries.running_session(db, camera_id)
    camera = camera_state(db, camera_id, audience)
    if cs is None:
        last = db.scalars(
            select(ClassSession)
            .where(ClassSession.camera_id == camera_id, ClassSession.ended_at.is_not(None))
            .order_by(ClassSession.ended_at.desc())
            .limit(1)
        ).first()
        return {
            "session": None,
            "last_session": None if last is None else queries.session_dict(last),
            "camera": camera,
            "bucket_s": LIVE_BUCKET_S,
            "timeline": [],
            "frame": None,
        }
    newest = db.scalar(select(func.max(SessionRollup.bucket_start)).where(SessionRollup.session_id == cs.id))
    since = newest - timedelta(seconds=LIVE_WINDOW_S) if newest else None
    _, buckets = timeline(db, cs, audience, LIVE_BUCKET_S, since=since)
    rows = queries.latest_frame(db, cs.id)
    return {
        "session": queries.session_dict(cs),
        "last_session": None,
        "camera": camera,
        "bucket_s": LIVE_BUCKET_S,
        "timeline": buckets,
        "frame": frame_payload(db, cs, rows, audience) if rows else None,
    }


# ---- the session page and the API ------------------------------------------------------------------------


def timeline(
    db: Session,
    cs: ClassSession,
    audience: Audience,
    bucket_s: int | None = None,
    since: datetime | None = None,
) -> tuple[int, list[dict]]:
    """The lesson's class timeline in buckets of ``bucket_s`` seconds (auto when None), filtered."""
    used, buckets = queries.session_timeline(db, cs.id, bucket_s, since=since)
    rules = _lesson_rules(audience, cs.mode)
    return used, [rules.timeline_bucket(b.as_dict()) for b in buckets]


def tracks_shown(audience: Audience) -> bool:
    """Whether per-track rows may leave the server at all (not in class-only mode)."""
    return audience.privacy.tracks


def track_rows(db: Session, cs: ClassSession, audience: Audience) -> list[dict]:
    """The lesson's per-track rows (``queries.track_summaries``): none in class-only mode, and their
    ``emotions`` and ``dominant`` None unless the lesson's emotions may be shown (``shows_emotions``)."""
    if not tracks_shown(audience):
        return []
    privacy = audience.privacy
    return [privacy.track_row(r, cs.mode) for r in queries.track_summaries(db, cs.id)]


def has_track(db: Session, cs: ClassSession, track_id: int) -> bool:
    """Whether the lesson has a track of this id."""
    return db.get(TrackSummary, (cs.id, track_id)) is not None


def track_timeline(
    db: Session, cs: ClassSession, track_id: int, audience: Audience, bucket_s: int | None = None
) -> tuple[int, list[dict]]:
    """One track's timeline (bucket size, buckets), its emotions None when emotions are off; no buckets
    in class-only mode."""
    if bucket_s is None:
        bucket_s = queries.auto_bucket_seconds((queries.session_end(cs) - cs.started_at).total_seconds())
    if not tracks_shown(audience):
        return bucket_s, []
    rows = queries.track_timeline(db, cs.id, track_id, bucket_s)
    return bucket_s, [audience.privacy.track_bucket(r) for r in rows]


def session_summary(db: Session, cs: ClassSession, audience: Audience) -> dict:
    """Whole-session numbers from the per-second rollups, and the plain-language summary the reports give
    (``monitor.views.summary``: one source of truth). Figures of a lesson with no faces are None, never 0."""
    gettext, see = audience.gettext, shown(audience, cs.mode)
    cols = [
        SessionRollup.frames,
        SessionRollup.faces,
        SessionRollup.attention_sum,
        SessionRollup.engagement_sum,
        SessionRollup.heads_up_sum,
        SessionRollup.heads_down_sum,
        SessionRollup.turned_away_sum,
    ]
    cols += [getattr(SessionRollup, c) for c in PROB_COLUMNS]
    row = db.execute(select(*(func.sum(c) for c in cols)).where(SessionRollup.session_id == cs.id)).one()
    frames, faces, attention, engagement, up, down, away = (v or 0 for v in row[:7])
    emotions = emotion_shares(list(row[7:])) if audience.privacy.emotions else None
    duration = (queries.session_end(cs) - cs.started_at).total_seconds()
    zone = audience.zone
    figures = lesson_figures(db, cs, emotion=see.emotions, zone=zone)
    return {
        "lines": summary_lines(figures, gettext),
        "faces_seen": bool(faces),
        # the retention policy deleted (some of) its observations: the page says so, not "no faces"
        "purged": purged_note(cs.observations_purged_at, zone, all_gone=not frames),
        "low_periods": [
            {"start": _iso(p.start), "end": _iso(p.end), "attention": round(p.attention, 4)}
            for p in figures.low_periods
        ],
        "duration_text": timefmt.duration(duration),
        "duration_s": round(duration, 1),
        "frames": int(frames),
        "faces": int(faces),
        "tracks": cs.tracks,
        "faces_per_frame": round(faces / frames, 3) if frames else None,
        "people": figures.people.as_dict() if figures.people else {"typical": 0.0, "peak": 0.0, "seconds": 0},
        # one meaning of attention: the heads-up share of the readable heads (monitor/heads.py)
        "attention": None if figures.mean_attention is None else round(figures.mean_attention, 4),
        "engagement": round(engagement / frames, 4) if faces and not figures.engagement_withheld else None,
        "engagement_withheld": figures.engagement_withheld,
        "emotions": emotions,
        "dominant": None if emotions is None else max(emotions, key=emotions.__getitem__),
        "expression_note": gettext(FACES_TOO_SMALL) if faces and emotions is None and see.emotions else None,
        "auto_bucket_s": queries.auto_bucket_seconds(duration),
        "heads_up": _heads_up(cs, figures.heads, gettext),
    }


def _iso(dt: datetime) -> str:
    return timefmt.in_zone(dt, None).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _heads_up(cs: ClassSession, heads: HeadCount, gettext) -> dict | None:
    """Shares of the READABLE heads up / down / turned away, and their base ("3 of 18 readable heads up; 5
    not readable"); None before posture was measured. ``up`` is None when no head could be read."""
    if not heads.frames or not cs.attention_basis:
        return None
    out = heads.as_dict(gettext)
    out["class_size"] = cs.class_size
    out["of"] = heads.text(gettext) if heads.shares() is not None else gettext(NOT_READABLE)
    return out


# ---- what a report says -----------------------------------------------------------------------------------


@dataclass
class LessonReport(LessonFigures):
    """Everything a report shows about one session: the lesson's figures (``monitor.views.summary``, the
    same the session page shows) plus the camera, tracks and model, filtered for the audience. ``emotion``
    is False when the lesson's expressions may not be shown; times are worded in ``zone``, the school's."""

    camera: str
    generated_at: datetime
    tracks: list[dict]
    class_only: bool
    model: dict | None
    markers: list[dict] = field(default_factory=list)  # monitor.store.markers.list_markers, in time order
    locale: str = "en"  # the requester's language (monitor.locales): headings, dates and the notes


def lesson_report(
    db: Session, session_id: int, audience: Audience, *, models_dir: Path | None = None
) -> LessonReport:
    """Read one session's metadata, timeline, tracks and model, and work out the headline figures, as
    ``audience`` may see them (the site's settings now decide, whatever the session ran in)."""
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise LookupError(f"no session {session_id}")
    camera = db.get(Camera, cs.camera_id)
    see = shown(audience, cs.mode)
    figures = lesson_figures(db, cs, emotion=see.emotions, zone=audience.zone)
    figures.session["mode"] = see.mode  # what this report may show, not what ran
    return LessonReport(
        **{f.name: getattr(figures, f.name) for f in fields(LessonFigures)},
        camera=camera.name if camera else f"camera {cs.camera_id}",
        generated_at=utcnow(),
        tracks=track_rows(db, cs, audience),
        class_only=not see.tracks,
        model=model_info(db, cs.model_version, models_dir) if see.emotions else None,
        markers=list_markers(db, session_id),
        locale=audience.locale,
    )


def model_info(db: Session, version: str | None, models_dir: Path | None) -> dict | None:
    """Version, accuracy and macro-F1 of a model: from the registry table, else its ``metrics.json``."""
    if not version:
        return None
    info: dict = {"version": version, "accuracy": None, "macro_f1": None}
    row = db.scalars(select(ModelVersion).where(ModelVersion.version == version)).first()
    if row is not None:
        info.update(accuracy=row.accuracy, macro_f1=row.macro_f1)
    if info["accuracy"] is None and Path(version).name == version:
        if models_dir is None:
            from monitor.config import Settings

            models_dir = Settings().models_dir
        try:
            metrics = json.loads((Path(models_dir) / version / "metrics.json").read_text())
            info["accuracy"] = _fraction(metrics.get("accuracy"))
            info["macro_f1"] = (
                info["macro_f1"] if info["macro_f1"] is not None else _fraction(metrics.get("macro_f1"))
            )
        except (OSError, ValueError, AttributeError):
            pass
    return info


def _fraction(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
