"""The site settings change that the JSON API, the settings page and the mail page share (DESIGN.md: write
logic two routes share lives in a module of its own, not in another route file)."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, g
from flask_babel import gettext
from sqlalchemy.exc import SQLAlchemyError

from dashboard.db import write_db
from monitor.store import site_settings

log = logging.getLogger(__name__)


def save_settings(changes: dict[str, Any], *, from_text: bool = False) -> dict[str, Any]:
    """Validate (400 with the reason on a bad key or value), store and audit a site settings change, in one
    transaction (503 when the database refuses it: then nothing changed). Returns every setting now."""
    try:
        with write_db() as db:
            now, _ = site_settings.save_settings(db, changes, g.user.username, from_text=from_text)
    except site_settings.SettingError as exc:
        abort(400, description=str(exc))
    except SQLAlchemyError:
        log.exception("site settings not saved")
        abort(503, description=gettext("the database did not take the change; nothing was saved"))
    return now
