"""Logins in ``user_sessions``: one row per signed-in browser, keyed by the SHA-256 of its cookie's token.

The token and the cookie are ``dashboard.usersessions``'s; this module only reads and writes the rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, delete, select, update
from sqlalchemy.orm import Session

from monitor.store.schema import User, UserSession


def login_row(db: Session, key: str) -> Row | None:
    """The login ``key`` with its user's ``user_id``, ``last_seen`` and ``is_active`` (None: none)."""
    return db.execute(
        select(UserSession.user_id, UserSession.last_seen, User.is_active)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == key)
    ).first()


def add_login(db: Session, key: str, user_id: int, now: datetime) -> None:
    db.add(UserSession(id=key, user_id=user_id, created_at=now, last_seen=now))


def touch_login(db: Session, key: str, now: datetime) -> None:
    """Mark login ``key`` as used ``now``."""
    db.execute(update(UserSession).where(UserSession.id == key).values(last_seen=now))


def end_login(db: Session, key: str) -> None:
    db.execute(delete(UserSession).where(UserSession.id == key))


def end_idle_logins(db: Session, before: datetime) -> None:
    """End every login last used before ``before``."""
    db.execute(delete(UserSession).where(UserSession.last_seen < before))


def end_user_logins(db: Session, user_id: int, keep: str | None = None) -> int:
    """End every login of ``user_id`` except the one with key ``keep``; returns how many ended."""
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        stmt = stmt.where(UserSession.id != keep)
    return db.execute(stmt).rowcount or 0
