"""What alerts and digests read and record: who gets mail, each alert episode, each digest sent.

An alert episode is one row of ``alerts`` from the moment a problem began; it is mailed once (``sent_at``)
and closed (``ended_at``) when the problem is over. A serve restarted during an episode finds the open row
and sends nothing again. A digest is one row of ``digests`` per teacher and ISO week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.db import read_sessions
from monitor.store.schema import (
    AlertSent,
    Camera,
    CameraAssignment,
    DigestSent,
    User,
    WorkerStatus,
    utcnow,
)
from monitor.store.site_settings import is_address


@dataclass(frozen=True)
class Recipient:
    user_id: int
    username: str
    email: str
    locale: str | None
    is_admin: bool


def _recipients(db: Session, *conditions) -> list[Recipient]:
    stmt = select(User).where(User.is_active.is_(True), User.email.is_not(None), *conditions)
    return [
        Recipient(u.id, u.username, u.email, u.locale, u.is_admin)
        for u in db.scalars(stmt.order_by(User.username))
        if u.email and is_address(u.email)
    ]


def admins(db: Session) -> list[Recipient]:
    """Active admins with an e-mail address: who gets camera alerts."""
    return _recipients(db, User.is_admin.is_(True))


def teachers(db: Session) -> list[Recipient]:
    """Active teachers (not admins) with an e-mail address: who gets a weekly digest."""
    return _recipients(db, User.is_admin.is_(False))


def teachers_of(db: Session, camera_id: int) -> list[Recipient]:
    """The teachers assigned to ``camera_id`` (the class's teachers), with an e-mail address."""
    assigned = select(CameraAssignment.user_id).where(CameraAssignment.camera_id == camera_id)
    return _recipients(db, User.is_admin.is_(False), User.id.in_(assigned))


def set_email(db: Session, user: User, email: str | None) -> None:
    """Store ``email`` (None or empty: no mail); raises ``ValueError`` for something that is no address."""
    text = (email or "").strip()
    if text and (len(text) > 320 or not is_address(text)):
        raise ValueError("the e-mail address must look like name@school.example")
    user.email = text or None


def camera_ids(db: Session, names: list[str]) -> dict[str, int]:
    return {
        name: id_ for name, id_ in db.execute(select(Camera.name, Camera.id).where(Camera.name.in_(names)))
    }


def capture_states(db: Session, names: list[str]) -> dict[str, str | None]:
    """Each camera's capture state as its worker last wrote it (``online``, ``reconnecting``...)."""
    rows = db.execute(
        select(Camera.name, WorkerStatus.capture_state)
        .join(WorkerStatus, WorkerStatus.camera_id == Camera.id)
        .where(Camera.name.in_(names))
    )
    return {name: state for name, state in rows}


def reads_of(factory: sessionmaker) -> sessionmaker:
    """Read-only sessions on ``factory``'s engine: on SQLite they never wait for (or hold) the write lock."""
    return read_sessions(factory.kw["bind"])


def cameras_with_open_alerts(db: Session, kind: str) -> set[int]:
    """The cameras with an episode of ``kind`` still on."""
    stmt = select(AlertSent.camera_id).where(AlertSent.kind == kind, AlertSent.ended_at.is_(None))
    return set(db.scalars(stmt))


def open_alert(db: Session, kind: str, camera_id: int) -> AlertSent | None:
    """The camera's episode of ``kind`` that is still on, if any."""
    return db.scalars(
        select(AlertSent)
        .where(AlertSent.kind == kind, AlertSent.camera_id == camera_id, AlertSent.ended_at.is_(None))
        .order_by(AlertSent.id.desc())
        .limit(1)
    ).first()


def start_alert(
    db: Session, kind: str, camera_id: int, started_at: datetime, subject: str, session_id: int | None = None
) -> AlertSent:
    """Record a new episode (caller commits), before its mail is sent: a crash mid-send never sends twice."""
    row = AlertSent(
        kind=kind, camera_id=camera_id, session_id=session_id, started_at=started_at, subject=subject[:300]
    )
    db.add(row)
    db.flush()
    return row


def end_alerts(db: Session, kind: str, camera_id: int, now: datetime | None = None) -> int:
    """Close the camera's open episodes of ``kind`` (caller commits); returns how many."""
    rows = list(
        db.scalars(
            select(AlertSent).where(
                AlertSent.kind == kind, AlertSent.camera_id == camera_id, AlertSent.ended_at.is_(None)
            )
        )
    )
    for row in rows:
        row.ended_at = now or utcnow()
    return len(rows)


def lessons_with_alerts(
    db: Session, kind: str, *, open_only: bool = False, among: list[int] | None = None
) -> set[int]:
    """The lessons with an episode of ``kind`` (``open_only``: still on; ``among``: of these lessons)."""
    stmt = select(AlertSent.session_id).where(AlertSent.kind == kind, AlertSent.session_id.is_not(None))
    if open_only:
        stmt = stmt.where(AlertSent.ended_at.is_(None))
    if among is not None:
        if not among:
            return set()
        stmt = stmt.where(AlertSent.session_id.in_(among))
    return set(db.scalars(stmt))


def end_lesson_alerts(db: Session, kind: str, session_ids: set[int], now: datetime | None = None) -> None:
    """Close the open episodes of ``kind`` of these lessons (caller commits)."""
    if not session_ids:
        return
    stmt = select(AlertSent).where(
        AlertSent.kind == kind, AlertSent.ended_at.is_(None), AlertSent.session_id.in_(session_ids)
    )
    for row in db.scalars(stmt):
        row.ended_at = now or utcnow()


def digest_sent(db: Session, week: str, user_id: int) -> bool:
    return (
        db.scalar(select(DigestSent.id).where(DigestSent.week == week, DigestSent.user_id == user_id))
        is not None
    )


def record_digest(db: Session, week: str, user_id: int, recipient: str, trigger: str) -> None:
    """Note that ``week``'s digest reached ``recipient`` (caller commits)."""
    db.add(DigestSent(week=week, user_id=user_id, recipient=recipient, trigger=trigger, sent_at=utcnow()))


def forget_digest(db: Session, week: str, user_id: int) -> None:
    """Undo ``record_digest`` for a digest that was not delivered (caller commits)."""
    db.execute(delete(DigestSent).where(DigestSent.week == week, DigestSent.user_id == user_id))


@dataclass(frozen=True)
class AlertRow:
    """One alert episode as the health page lists it (admins only: ``sent_to`` names admins' addresses)."""

    id: int
    kind: str
    camera: str
    opened: datetime
    closed: datetime | None
    sent_at: datetime | None
    sent_to: str | None
    error: str | None
    subject: str
    camera_id: int | None = None
    session_id: int | None = None  # the lesson of a low heads-up episode


def recent_alerts(db: Session, limit: int = 20) -> list[AlertRow]:
    """The latest ``limit`` alert episodes, newest first. An episode whose camera row is gone is deleted
    with it (``ondelete=CASCADE``), so no episode of a deleted camera is listed as still open."""
    rows = db.execute(
        select(AlertSent, Camera.name)
        .join(Camera, Camera.id == AlertSent.camera_id)
        .order_by(AlertSent.started_at.desc(), AlertSent.id.desc())
        .limit(limit)
    )
    return [
        AlertRow(
            a.id,
            a.kind,
            name,
            a.started_at,
            a.ended_at,
            a.sent_at,
            a.recipients,
            a.error,
            a.subject,
            a.camera_id,
            a.session_id,
        )
        for a, name in rows
    ]


def end_alerts_of(db: Session, kind: str, camera_ids: set[int], now: datetime | None = None) -> int:
    """Close the open episodes of ``kind`` of these cameras (caller commits); returns how many."""
    if not camera_ids:
        return 0
    return sum(end_alerts(db, kind, camera_id, now) for camera_id in sorted(camera_ids))


def orphaned_alerts(db: Session, kind: str, running: set[int], host: str) -> set[int]:
    """The cameras with an open episode of ``kind`` that no serve runs any more, as far as the serve on
    ``host`` can tell: not among ``running`` (the cameras it runs), and last served by a worker on ``host``
    (or never served). A camera last served on another host is left to that host's serve, which closes its
    episode when the camera is back and opens a new one when it is down there."""
    rows = db.execute(
        select(AlertSent.camera_id, WorkerStatus.hostname)
        .outerjoin(WorkerStatus, WorkerStatus.camera_id == AlertSent.camera_id)
        .where(AlertSent.kind == kind, AlertSent.ended_at.is_(None))
    )
    return {
        camera_id for camera_id, last_host in rows if camera_id not in running and last_host in (None, host)
    }
