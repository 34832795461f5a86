"""Who may see what: teachers see their assigned cameras (and those cameras' sessions), admins see all.

Anything outside a user's cameras answers 404, exactly like something that does not exist, so ids of
other classes cannot be probed.
"""

from __future__ import annotations

from datetime import tzinfo

from flask import abort, g
from flask_babel import get_locale, gettext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.db import get_db
from monitor import timefmt
from monitor.locales import DEFAULT_LOCALE, LOCALES
from monitor.store import directory, site_settings
from monitor.store.schema import Camera, ClassSession
from monitor.views.audience import Audience

MAX_ID = 2**63 - 1


def visible_camera_ids(db: Session, user=None) -> list[int] | None:
    """The camera ids the user may see; ``None`` means all (admins)."""
    user = user or g.user
    return None if user.is_admin else directory.camera_ids_for_user(db, user.id)


def audience(db: Session) -> Audience:
    """Who asks, loaded once per request: the site's privacy rules, the school's zone, the reader's language
    and the cameras this user may see (``monitor.views.audience``), for every view the request reads."""
    if "audience" not in g:
        asked = str(get_locale() or DEFAULT_LOCALE)  # the reader's language, as dashboard.i18n picked it
        locale = asked if asked in LOCALES else DEFAULT_LOCALE
        g.audience = Audience.load(db, visible_camera_ids(db), locale)
    return g.audience


def school_zone() -> tzinfo:
    """The school's time zone, read once per request (the template filters and Flask-Babel's dates)."""
    if "school_zone" not in g:
        try:
            g.school_zone = site_settings.school_zone(get_db())
        except SQLAlchemyError:  # an error page while the database is down still renders, in UTC
            g.school_zone = timefmt.UTC_ZONE
    return g.school_zone


def can_see_camera(db: Session, camera_id: int, user=None) -> bool:
    ids = visible_camera_ids(db, user)
    return ids is None or camera_id in ids


def camera_or_404(db: Session, camera_id: int) -> Camera:
    cam = db.get(Camera, camera_id) if 0 < camera_id <= MAX_ID else None
    if cam is None or not can_see_camera(db, camera_id):
        abort(404, description=gettext("no camera %(id)s", id=camera_id))
    return cam


def session_or_404(db: Session, session_id: int) -> ClassSession:
    cs = db.get(ClassSession, session_id) if 0 < session_id <= MAX_ID else None
    if cs is None or not can_see_camera(db, cs.camera_id):
        abort(404, description=gettext("no session %(id)s", id=session_id))
    return cs
