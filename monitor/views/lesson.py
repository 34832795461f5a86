"""A lesson's figures as they leave the store, each filtered for the audience in one place.

``live_frame`` is the only filter of a live summary: the dashboard's poller (from the store) and the
worker's Redis publish (from the pipeline) both call it, so a mid-lesson switch to attention-only withholds
the engagement index of a lesson recorded with emotions on every deployment alike.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from monitor.store.schema import ClassSession
from monitor.views.privacy import Privacy


def live_frame(privacy: Privacy, recorded_mode: str, payload: dict) -> dict:
    """A live summary (``monitor.live.frame_summary``) of a lesson recorded in ``recorded_mode``
    (``ClassSession.mode``: "emotion" once it ever ran with emotions), filtered by the site's rules."""
    return privacy.for_lesson(recorded_mode).live_frame(payload)


def recorded_mode(db: sessionmaker | Session, session_id: int) -> str:
    """The mode a lesson is recorded in so far ("emotion" once it ever ran with emotion inference)."""
    if isinstance(db, Session):
        cs = db.get(ClassSession, session_id)
        return cs.mode if cs is not None else "attention"
    with db() as session:
        return recorded_mode(session, session_id)
