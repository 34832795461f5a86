"""The HTML pages. They render the frame; numbers and charts come from the JSON API and the live feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g, redirect, render_template, url_for

from dashboard import access, lesson_filters
from dashboard.auth import admin_required
from dashboard.db import get_db
from dashboard.i18n import current_locale
from dashboard.vendor import missing_files
from monitor import locales, timefmt
from monitor.labels import EMOTIONS
from monitor.reports import FORMATS
from monitor.store.site_settings import all_settings
from monitor.views.cameras import cameras_with_mood
from monitor.views.lesson import session_summary
from monitor.views.sessions import BUCKET_CHOICES_S, session_fields

bp = Blueprint("pages", __name__)


@bp.app_template_filter("datetime")
def datetime_filter(value: datetime | None) -> str:
    """``Tue 24 Nov 2026 10:52`` or ``2026年11月24日 周二 10:52`` in the school's zone."""
    return locales.date_time(value, access.school_zone(), current_locale())


@bp.app_template_filter("clock")
def clock_filter(value: datetime | None) -> str:
    return "–" if value is None else timefmt.clock(value, access.school_zone())


@bp.app_template_filter("duration")
def duration_filter(seconds: float | None) -> str:
    return locales.duration(seconds, current_locale())


@bp.app_template_filter("ago")
def ago_filter(value: datetime | None) -> str:
    return locales.relative(value, access.school_zone(), current_locale())


@bp.app_context_processor
def inject_common() -> dict[str, Any]:
    audience = access.audience(get_db()) if g.get("user") else None
    return {
        "school_tz": timefmt.zone_name(access.school_zone()),
        "privacy": audience,  # its emotions and tracks: what the site shows
        "emotions": EMOTIONS,
        "user": g.get("user"),
        "vendor_missing": missing_files() if g.get("user") else [],
    }


@bp.get("/")
def index() -> Any:
    return redirect(url_for("pages.cameras"))


@bp.get("/cameras")
def cameras() -> Any:
    db = get_db()
    cams = cameras_with_mood(db, access.audience(db))
    return render_template("cameras.html", cameras=cams)


@bp.get("/cameras/<int:camera_id>/live")
def live(camera_id: int) -> Any:
    cam = access.camera_or_404(get_db(), camera_id)
    return render_template("live.html", camera=cam)


@bp.get("/sessions")
def sessions() -> Any:
    return render_template("sessions.html", **lesson_filters.sessions_page(get_db()))


@bp.get("/sessions/<int:session_id>")
def session(session_id: int) -> Any:
    db = get_db()
    cs = access.session_or_404(db, session_id)
    return render_template(
        "session.html",
        cs=cs,
        session=session_fields(cs),
        summary=session_summary(db, cs, access.audience(db)),
        formats=FORMATS,
        bucket_choices=BUCKET_CHOICES_S,
    )


@bp.get("/settings")
@admin_required
def settings() -> Any:
    """Site settings (privacy, retention, time zone) and the links to the admin pages; the forms post to
    ``/admin/settings``, ``/admin/users`` and ``/admin/cameras``."""
    return render_template("settings.html", site=all_settings(get_db()))
