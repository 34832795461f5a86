"""Lessons as lists and listing fields: the sessions API, a session's page and export, and the lessons the
live feed polls. The dashboard reads them here, never from ``monitor.store.queries`` (issue 22).

The figures of one lesson, filtered for the audience, are ``monitor.views.lesson``'s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from monitor.store import queries
from monitor.store.schema import ClassSession, Observation
from monitor.views.audience import Audience

BUCKET_CHOICES_S = queries.BUCKET_CHOICES_S
"""The timeline bucket widths a page offers (seconds)."""


def session_fields(cs: ClassSession) -> dict:
    """A lesson's listing fields (id, camera, label, times, mode, model, counts), as the API answers them."""
    return queries.session_dict(cs)


def session_list(
    db: Session,
    audience: Audience,
    *,
    camera_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 500,
) -> list[dict]:
    """The lessons this audience may see (of ``camera_id`` when given), newest first, started in
    [start, end); a camera it may not see lists nothing."""
    camera_ids = None if audience.camera_ids is None else list(audience.camera_ids)
    if camera_id is not None:
        camera_ids = [camera_id] if audience.may_see(camera_id) else []
    return queries.list_sessions(db, camera_ids, start, end, limit=limit)


def running_lessons(db: Session) -> list[ClassSession]:
    """Every lesson not ended yet, on any camera (the live poller's)."""
    return queries.running_sessions(db)


def newest_frame(db: Session, session_id: int, after_frame: int = -1) -> list[Observation]:
    """The observations of a lesson's newest stored frame if newer than ``after_frame``; filter them for an
    audience with ``monitor.views.lesson.frame_payload``."""
    return queries.latest_frame(db, session_id, after_frame)
