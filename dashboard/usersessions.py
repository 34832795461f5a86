"""Logins the server can end: a signed cookie, valid only while its row in ``user_sessions`` lives.

The cookie (Flask's signed session) carries a random token; the database keeps its SHA-256, the user and
when it was last used. Each request checks that row, so deleting it ends the login everywhere at once:
logout deletes it, a password change or disabling the account deletes all of the user's rows, and a login
idle for longer than ``session_idle_hours`` is refused and deleted. ``last_seen`` is written at most once a
minute per login. Flask-SocketIO keeps its own copy of the session per socket; that copy is emptied too,
so an open socket's next event is refused once its login has ended.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, Request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.db import Database
from dashboard.security import cookie_secure
from monitor.config import Settings
from monitor.config import check_settings as check_process_settings
from monitor.store import logins
from monitor.store.schema import utcnow

log = logging.getLogger(__name__)
TOKEN_KEY = "sid"
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_settings(settings: Settings) -> None:
    """Raise ValueError (one line) for login settings that cannot be used (rules: ``PROCESS_KEYS``)."""
    check_process_settings(settings, ("session_idle_hours", "cookie_secure", "proxy_hops"))


def init_app(app: Flask, settings: Settings) -> None:
    check_settings(settings)
    app.config["COOKIE_SECURE_MODE"] = settings.cookie_secure
    app.session_interface = RevocableSessionInterface(timedelta(hours=settings.session_idle_hours))


class RevocableSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, emptied when the login they carry has ended server-side."""

    def __init__(self, idle: timedelta) -> None:
        self.idle = idle

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure(app)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        sess = super().open_session(app, request)
        if sess is None or ("user_id" not in sess and TOKEN_KEY not in sess):
            return sess
        token, user_id = sess.get(TOKEN_KEY), sess.get("user_id")
        if not (isinstance(token, str) and isinstance(user_id, int) and self._valid(app, token, user_id)):
            sess.clear()  # the cookie is rewritten (or deleted) at the end of this request
            saved = request.environ.get("saved_session")  # Flask-SocketIO's per-socket copy
            if saved is not None:
                saved.clear()
        return sess

    def _valid(self, app: Flask, token: str, user_id: int) -> bool:
        database: Database = app.extensions["monitor_db"]
        key = token_hash(token)
        now = utcnow()
        with database.reader() as db:
            row = logins.login_row(db, key)
        if row is None or row.user_id != user_id or not row.is_active:
            return False
        if now - row.last_seen > self.idle:
            _write(database, lambda db: logins.end_login(db, key))
            return False
        if now - row.last_seen > TOUCH_EVERY:
            _write(database, lambda db: logins.touch_login(db, key, now))
        return True


def _write(database: Database, change: Callable[[Session], None]) -> None:
    """Best effort: a busy or read-only database must not turn a page view into an error."""
    try:
        with database.write() as db:
            change(db)
    except SQLAlchemyError as exc:
        log.warning("cannot update user_sessions: %s", exc)


def start(db: Session, user_id: int, idle: timedelta | None = None) -> str:
    """Record a new login for ``user_id`` and return the token for its cookie; drops logins idle too long."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    if idle is not None:
        logins.end_idle_logins(db, now - idle)
    logins.add_login(db, token_hash(token), user_id, now)
    return token


def end(db: Session, token: str | None) -> None:
    """End one login (logout)."""
    if isinstance(token, str):
        logins.end_login(db, token_hash(token))


def end_all(db: Session, user_id: int, keep: str | None = None) -> int:
    """End every login of ``user_id`` (password change, account disabled), except the token ``keep``."""
    return logins.end_user_logins(db, user_id, keep=token_hash(keep) if keep else None)


def current_token() -> str | None:
    """The login token of this request's session, if any."""
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def idle_of(app: Flask) -> timedelta:
    return app.session_interface.idle  # type: ignore[attr-defined]
