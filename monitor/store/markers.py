"""Lesson markers: moments a teacher marks in a lesson ("group work starts", "quiz"), live or afterwards.

A marker belongs to one session and must fall within it (for a running session: not after now). Texts are
one line of at most ``MAX_TEXT`` characters. Deleting a session deletes its markers; deleting the user who
wrote one keeps the marker without an author.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.schema import ClassSession, LessonMarker, User, utcnow

MAX_TEXT = 200
CLOCK_SLACK = timedelta(seconds=5)
"""A marker stamped by a browser whose clock runs a little ahead still counts as 'now'."""


class MarkerError(ValueError):
    """A marker that cannot be stored; the message is meant for the user."""


def iso_z(dt: datetime) -> str:
    """``2026-11-20T09:05:00.000Z``: ISO 8601 in UTC with milliseconds and a ``Z``."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clean_text(text: object) -> str:
    """The marker text, stripped and on one line; ``MarkerError`` when empty, too long or not text."""
    if not isinstance(text, str):
        raise MarkerError("text must be a string")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise MarkerError("text must not be empty")
    if len(cleaned) > MAX_TEXT:
        raise MarkerError(f"text must be at most {MAX_TEXT} characters, not {len(cleaned)}")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in cleaned):
        raise MarkerError("text must not contain control characters")
    return cleaned


def parse_at(raw: object) -> datetime:
    """An ISO 8601 date-time as aware UTC (a time without a zone is taken as UTC); ``MarkerError`` else."""
    if not isinstance(raw, str) or not 10 < len(raw) <= 40:
        raise MarkerError("at must be an ISO 8601 date-time such as 2026-11-20T09:05:00Z")
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise MarkerError(f"at must be an ISO 8601 date-time, not {raw[:40]!r}") from None


def check_within(cs: ClassSession, at: datetime, now: datetime | None = None) -> datetime:
    """``at`` if it falls within the session (a running one: from its start to now), else ``MarkerError``."""
    now = now or utcnow()
    if at < cs.started_at:
        raise MarkerError(f"at is before the lesson started ({iso_z(cs.started_at)})")
    if cs.ended_at is not None and at > cs.ended_at:
        raise MarkerError(f"at is after the lesson ended ({iso_z(cs.ended_at)})")
    if cs.ended_at is None and at > now + CLOCK_SLACK:
        raise MarkerError("at is in the future: mark a moment that has happened")
    return min(at, now) if cs.ended_at is None else at


def add_marker(
    db: Session, session_id: int, at: datetime | None, text: str, user_id: int | None
) -> LessonMarker:
    """Validate and add a marker (``at`` None: now, for a running lesson); flushed, not committed."""
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise LookupError(f"no session {session_id}")
    text = clean_text(text)
    now = utcnow()
    if at is None:
        if cs.ended_at is not None:
            raise MarkerError("the lesson has ended: give the time to mark (at)")
        at = now
    marker = LessonMarker(
        session_id=session_id,
        at=check_within(cs, at, now),
        text=text,
        created_by=user_id,
        created_at=now,
    )
    db.add(marker)
    db.flush()
    return marker


def marker_dict(marker: LessonMarker, author: str | None) -> dict:
    return {"id": marker.id, "at": iso_z(marker.at), "text": marker.text, "author": author}


def list_markers(db: Session, session_id: int) -> list[dict]:
    """The session's markers in time order: ``{id, at, text, author}`` (author: a user name or None)."""
    return markers_by_session(db, [session_id]).get(session_id, [])


def markers_by_session(db: Session, session_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Markers of many sessions in one query, keyed by session id (sessions without any are absent)."""
    ids = list(session_ids)
    out: dict[int, list[dict]] = {}
    if not ids:
        return out
    rows = db.execute(
        select(LessonMarker, User.username)
        .outerjoin(User, User.id == LessonMarker.created_by)
        .where(LessonMarker.session_id.in_(ids))
        .order_by(LessonMarker.session_id, LessonMarker.at, LessonMarker.id)
    ).all()
    for marker, author in rows:
        out.setdefault(marker.session_id, []).append(marker_dict(marker, author))
    return out


def delete_marker(db: Session, session_id: int, marker_id: int) -> bool:
    """Delete one marker of a session; False when the session has no such marker."""
    marker = db.get(LessonMarker, marker_id)
    if marker is None or marker.session_id != session_id:
        return False
    db.delete(marker)
    return True
