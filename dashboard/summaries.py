"""Numbers the pages and the API show that the core queries do not compute: class mood, session summary,
and the live summary of a camera's newest frame."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor import timefmt
from monitor.heads import HEAD_COUNT_COLUMNS, HEAD_SHARE_COLUMNS, NOT_READABLE, WARMUP_S, HeadCount
from monitor.labels import EMOTIONS, FACES_TOO_SMALL
from monitor.lesson_summary import lesson_figures, summary_lines
from monitor.live import frame_summary
from monitor.store import queries
from monitor.store.retention import purged_note
from monitor.store.schema import PROB_COLUMNS, ClassSession, Observation, SessionRollup, utcnow
from monitor.store.sessions import STALE_AFTER_S
from monitor.store.site_settings import school_zone
from monitor.views.lesson import live_frame
from monitor.views.privacy import Privacy

MOOD_SECONDS = 10
LIVE_WINDOW_S = 300
LIVE_BUCKET_S = 5


def _shares(sums: list[float | None]) -> dict[str, float] | None:
    if not sums or sums[0] is None:
        return None
    values = [s or 0.0 for s in sums]
    total = sum(values)
    if total <= 0:
        return None
    return {e: round(v / total, 4) for e, v in zip(EMOTIONS, values, strict=True)}


def class_mood(db: Session, session_id: int, privacy: Privacy) -> dict:
    """Dominant emotion and engagement over the last stored seconds of a running session."""
    rows = db.scalars(
        select(SessionRollup)
        .where(SessionRollup.session_id == session_id)
        .order_by(SessionRollup.bucket_start.desc())
        .limit(MOOD_SECONDS)
    ).all()
    frames = sum(r.frames for r in rows)
    # Seconds whose faces were all too small to read store no expression sums: only the others count.
    emotions = _shares([sum(getattr(r, c) or 0.0 for r in rows) for c in PROB_COLUMNS]) if rows else None
    if not privacy.emotions:
        emotions = None
    cs = db.get(ClassSession, session_id)
    shown = cs is not None and privacy.for_lesson(cs.mode).engagement
    unreadable = emotions is None and cs is not None and privacy.shows_emotions(cs.mode)
    heads = sum(
        (
            HeadCount.from_sums(
                r.frames,
                r.faces,
                tuple(getattr(r, c) for c in HEAD_COUNT_COLUMNS),
                tuple(getattr(r, c) for c in HEAD_SHARE_COLUMNS),
            )
            for r in rows
        ),
        HeadCount(),
    )
    return {
        # the heads-up share of the readable heads over the same seconds, with its base
        "heads_up": heads.as_dict(gettext)
        if heads.frames and cs is not None and cs.attention_basis
        else None,
        "label": None if emotions is None else max(emotions, key=emotions.__getitem__),
        "note": gettext(FACES_TOO_SMALL) if unreadable and any(r.faces for r in rows) else None,
        "emotions": emotions,
        "engagement": round(sum(r.engagement_sum for r in rows) / frames, 4) if frames and shown else None,
    }


def cameras_with_mood(db: Session, camera_ids: list[int] | None, privacy: Privacy) -> list[dict]:
    cams = queries.list_cameras(db, camera_ids, gettext)
    for cam in cams:
        running = cam["running_session"]
        cam["mood"] = class_mood(db, running["id"], privacy) if running else None
    return cams


def session_summary(db: Session, cs: ClassSession, privacy: Privacy) -> dict:
    """Whole-session numbers from the per-second rollups, and the plain-language summary the reports give
    (``monitor.lesson_summary``: one source of truth). Figures of a lesson with no faces are None, never 0."""
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
    emotions = _shares(list(row[7:])) if privacy.emotions else None
    duration = (queries.session_end(cs) - cs.started_at).total_seconds()
    zone = school_zone(db)
    figures = lesson_figures(db, cs, emotion=privacy.shows_emotions(cs.mode), zone=zone)
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
        "expression_note": gettext(FACES_TOO_SMALL)
        if faces and emotions is None and privacy.shows_emotions(cs.mode)
        else None,
        "auto_bucket_s": queries.auto_bucket_seconds(duration),
        "heads_up": _heads_up(cs, figures.heads),
    }


def _iso(dt: datetime) -> str:
    return timefmt.in_zone(dt, None).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _heads_up(cs: ClassSession, heads: HeadCount) -> dict | None:
    """Shares of the READABLE heads up / down / turned away, and their base ("3 of 18 readable heads up; 5
    not readable"); None before posture was measured. ``up`` is None when no head could be read."""
    if not heads.frames or not cs.attention_basis:
        return None
    out = heads.as_dict(gettext)
    out["class_size"] = cs.class_size
    out["of"] = heads.text(gettext) if heads.shares() is not None else gettext(NOT_READABLE)
    return out


def frame_payload(db: Session, cs: ClassSession, rows: list[Observation], privacy: Privacy) -> dict:
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
    return live_frame(privacy, cs.mode, payload)


def _camera_state(db: Session, camera_id: int) -> dict:
    """The worker's side of the live view, kept apart from the lesson's: status, heartbeat and its age."""
    cams = queries.list_cameras(db, [camera_id], gettext)
    cam = cams[0] if cams else {}
    now = utcnow()
    beat = cam.get("last_heartbeat")
    age = (now - datetime.fromisoformat(beat)).total_seconds() if beat else None
    return {
        "status": cam.get("status"),
        "status_detail": cam.get("status_detail"),
        "status_since": cam.get("status_since"),  # a camera that cannot be read: since when
        "problem": cam.get("problem"),  # "Camera unreachable since 05:29 (cannot open source)"
        "last_heartbeat": beat,
        "heartbeat_age_s": None if age is None else round(age, 1),
        "stale_after_s": STALE_AFTER_S,
        "now": now.isoformat(timespec="milliseconds"),
    }


def live_snapshot(db: Session, camera_id: int, privacy: Privacy) -> dict:
    """What the live page starts from: the running session, its last five minutes and its newest frame,
    the camera's heartbeat, and (no lesson running) the lesson that ended last, to link to its report."""
    cs = queries.running_session(db, camera_id)
    camera = _camera_state(db, camera_id)
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
    _, buckets = queries.session_timeline(db, cs.id, LIVE_BUCKET_S, since=since)
    rows = queries.latest_frame(db, cs.id)
    return {
        "session": queries.session_dict(cs),
        "last_session": None,
        "camera": camera,
        "bucket_s": LIVE_BUCKET_S,
        "timeline": [privacy.for_lesson(cs.mode).timeline_bucket(b.as_dict()) for b in buckets],
        "frame": frame_payload(db, cs, rows, privacy) if rows else None,
    }
