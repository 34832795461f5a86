"""The words of an alert mail, in the reader's language (``monitor.locales``): a camera down during a
period (to the admins), a class far below its usual heads-up share (to its teachers).

Class-level words only: a camera, a lesson, a share of heads; never a track, never an expression.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from monitor import locales
from monitor.locales import gettext_for


def _link(base_url: str, path: str) -> str:
    return f"{base_url}{path}" if base_url else ""


def camera_down(
    locale: str,
    *,
    camera: str,
    period: str | None,
    since: datetime,
    why: str,
    zone: tzinfo,
    base_url: str = "",
) -> tuple[str, str]:
    """(subject, text) of a camera-down alert."""
    _ = gettext_for(locale)
    when = locales.date_time(since, zone, locale)
    subject = _("Camera %(camera)s is down") % {"camera": camera}
    lines = [
        _("Camera %(camera)s has been down since %(time)s: %(why)s.")
        % {"camera": camera, "time": when, "why": why},
        (_("It should be recording %(period)s.") % {"period": period})
        if period
        else _("It records at all hours (always on)."),
        _("serve keeps restarting its worker; this alert is sent once, until the camera is back."),
    ]
    if link := _link(base_url, "/health"):
        lines.append(_("Health page: %(url)s") % {"url": link})
    return subject, "\n\n".join(lines) + "\n"


def low_heads_up(
    locale: str,
    *,
    camera: str,
    lesson: str,
    share: float,
    usual: float,
    minutes: int,
    session_id: int,
    base_url: str = "",
) -> tuple[str, str]:
    """(subject, text) of a low heads-up alert for one lesson."""
    _ = gettext_for(locale)
    subject = _("Heads-up share low in %(lesson)s") % {"lesson": lesson}
    lines = [
        _(
            "For the last %(minutes)s minutes of %(lesson)s (camera %(camera)s), %(share)s of the readable "
            "heads were up; this class usually has %(usual)s."
        )
        % {
            "minutes": minutes,
            "lesson": lesson,
            "camera": camera,
            "share": f"{share:.0%}",
            "usual": f"{usual:.0%}",
        },
    ]
    if link := _link(base_url, f"/sessions/{session_id}"):
        lines.append(_("Lesson page: %(url)s") % {"url": link})
    return subject, "\n\n".join(lines) + "\n"
