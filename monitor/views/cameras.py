"""The cameras as the camera cards and the live page show them: each with its running lesson's class mood,
and the worker's side of the live view (status, heartbeat), filtered for the audience.

Moved from ``dashboard/summaries.py`` (issue 22): no Flask here, the audience's ``gettext`` words the text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.heads import HEAD_COUNT_COLUMNS, HEAD_SHARE_COLUMNS, HeadCount
from monitor.labels import EMOTIONS, FACES_TOO_SMALL
from monitor.store import queries
from monitor.store.schema import PROB_COLUMNS, ClassSession, SessionRollup, utcnow
from monitor.store.sessions import STALE_AFTER_S
from monitor.views.audience import Audience
from monitor.views.timetable import add_timetables, camera_timetable

MOOD_SECONDS = 10
"""The class mood of a running lesson covers its last this many stored seconds."""


def emotion_shares(sums: list[float | None]) -> dict[str, float] | None:
    """Summed expression probabilities as shares of their total (None when nothing could be read)."""
    if not sums or sums[0] is None:
        return None
    values = [s or 0.0 for s in sums]
    total = sum(values)
    if total <= 0:
        return None
    return {e: round(v / total, 4) for e, v in zip(EMOTIONS, values, strict=True)}


def class_mood(db: Session, session_id: int, audience: Audience) -> dict:
    """Dominant emotion and engagement over the last stored seconds of a running session."""
    privacy, gettext = audience.privacy, audience.gettext
    rows = db.scalars(
        select(SessionRollup)
        .where(SessionRollup.session_id == session_id)
        .order_by(SessionRollup.bucket_start.desc())
        .limit(MOOD_SECONDS)
    ).all()
    frames = sum(r.frames for r in rows)
    # Seconds whose faces were all too small to read store no expression sums: only the others count.
    emotions = (
        emotion_shares([sum(getattr(r, c) or 0.0 for r in rows) for c in PROB_COLUMNS]) if rows else None
    )
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


def cameras_with_mood(db: Session, audience: Audience, camera_ids: list[int] | None = None) -> list[dict]:
    """The cameras the audience may see (or those of ``camera_ids`` among them), each with the class mood
    of its running lesson (None when nothing runs)."""
    ids = list(audience.camera_ids) if audience.camera_ids is not None else None
    if camera_ids is not None:
        ids = [c for c in camera_ids if audience.may_see(c)]
    cams = queries.list_cameras(db, ids, audience.gettext)
    for cam in cams:
        running = cam["running_session"]
        cam["mood"] = class_mood(db, running["id"], audience) if running else None
    return add_timetables(db, cams, audience)  # the next period; what an idle timetabled camera says


def camera_state(db: Session, camera_id: int, audience: Audience) -> dict:
    """The worker's side of the live view, kept apart from the lesson's: status, heartbeat and its age."""
    cams = queries.list_cameras(db, [camera_id], audience.gettext)
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
        "timetable": camera_timetable(db, camera_id, audience, now) if cams else None,
    }
