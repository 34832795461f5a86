"""Site-wide settings: the keys an admin sets once for the whole school, stored in the database.

This module is the one place that says which keys are site-wide and what values they take. Per-process keys
(database URL, detector, flags...) live in :mod:`monitor.config`; the two sets never overlap, except that a
worker may be started *stricter* than the site (``--mode attention``), never looser (see
:func:`effective_mode`). Running workers poll these keys every couple of seconds, so a change reaches them
within ``SITE_POLL_S`` plus one batch.

Keys:
- ``mode``: ``emotion`` | ``attention``. Attention-only: no emotion is estimated, stored or shown.
- ``class_only``: no per-track rows anywhere (UI, live feed, every export).
- ``retention_days``: observations older than this are purged; 0 keeps them forever.
- ``timezone``: the school's IANA time zone (``Europe/London``); every time shown, date filter and timetable
  period is read in it. Stored times stay UTC.
- ``locale``: the dashboard's and the reports' language when neither the user's own setting nor the browser
  asks for one: ``en`` or ``zh_Hans_CN`` (``zh-CN`` is read as ``zh_Hans_CN``).
- Mail (alerts and the weekly digest, ``monitor.mail``): ``smtp_host`` (empty: no mail is sent),
  ``smtp_port``, ``smtp_starttls``, ``smtp_sender``, ``smtp_username`` (its password is the per-process
  ``smtp_password``, never stored here), ``alert_after_min``, ``alert_low_heads_up``, ``weekly_digest`` and
  ``base_url`` (the dashboard's address, for links in messages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.orm import Session

from monitor.config import MODES
from monitor.store.schema import AuditLog, Setting, utcnow

MAX_RETENTION_DAYS = 36_500
SITE_POLL_S = 2.0
"""How often a running worker re-reads the site settings."""

_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


class SettingError(ValueError):
    """A site setting that cannot be stored; the message is meant for the user."""


def _mode(value: Any) -> str:
    if value not in MODES:
        raise SettingError("mode must be 'emotion' or 'attention'")
    return value


def _flag(name: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise SettingError(f"{name} must be true or false")
        return value

    return check


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETENTION_DAYS:
        raise SettingError(f"retention_days must be a whole number from 0 to {MAX_RETENTION_DAYS}")
    return value


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingError("timezone must be an IANA zone name such as Europe/London or UTC")
    name = value.strip()
    if name not in available_timezones() and name != "UTC":
        raise SettingError(f"unknown timezone {name[:60]!r} (use an IANA name such as Europe/London or UTC)")
    return name


def _locale(value: Any) -> str:
    from monitor.locales import LOCALES, normalise_locale

    name = normalise_locale(value) if isinstance(value, str) else None
    if name is None:
        raise SettingError(f"locale must be one of {', '.join(LOCALES)} (zh-CN is read as zh_Hans_CN)")
    return name


MAX_ALERT_MIN = 1440
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")
_ADDRESS = re.compile(r"^[^@\s<>,;\"']{1,64}@[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def _host(value: Any) -> str:
    if not isinstance(value, str) or (value.strip() and not _HOST.match(value.strip())):
        raise SettingError("smtp_host must be a host name or address such as mail.school.example (or empty)")
    return value.strip()


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise SettingError("smtp_port must be a whole number from 1 to 65535")
    return value


def is_address(value: str) -> bool:
    """A plain e-mail address (``name@host``): no display name, no spaces, nothing a header could hide."""
    return bool(_ADDRESS.match(value))


def _sender(value: Any) -> str:
    if not isinstance(value, str) or (value.strip() and not is_address(value.strip())):
        raise SettingError("smtp_sender must be an e-mail address such as monitor@school.example (or empty)")
    return value.strip()


def _smtp_user(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 200 or any(ord(c) < 32 for c in value):
        raise SettingError("smtp_username must be a text of at most 200 characters, one line (or empty)")
    return value.strip()


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ALERT_MIN:
        raise SettingError(f"alert_after_min must be a whole number of minutes from 0 to {MAX_ALERT_MIN}")
    return value


def _base_url(value: Any) -> str:
    text = value.strip().rstrip("/") if isinstance(value, str) else None
    if text is None or (text and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", text)) or len(text) > 300:
        raise SettingError("base_url must be the dashboard's address, such as https://monitor.school.example")
    return text


def _from_text(spec_default: Any, text: str) -> Any:
    """A value typed on the command line or in a form, read as the key's type where it can be."""
    word = str(text).strip()
    if isinstance(spec_default, bool):
        return True if word.lower() in _TRUE else False if word.lower() in _FALSE else word
    if isinstance(spec_default, int) and word.isascii() and word.isdigit():
        return int(word)
    return word


@dataclass(frozen=True)
class SiteKey:
    name: str
    default: Any
    check: Callable[[Any], Any]
    help: str


SITE_KEYS: dict[str, SiteKey] = {
    k.name: k
    for k in (
        SiteKey("mode", "emotion", _mode, "emotion | attention (attention: no emotion estimated or shown)"),
        SiteKey("class_only", False, _flag("class_only"), "true: no per-track rows in UI, live or exports"),
        SiteKey("retention_days", 0, _days, "delete observations older than this (days; 0: keep forever)"),
        SiteKey("timezone", "UTC", _timezone, "IANA time zone for display, date filters and timetables"),
        SiteKey("locale", "en", _locale, "default language of pages and reports: en | zh_Hans_CN"),
        SiteKey("smtp_host", "", _host, "mail server for alerts and digests (empty: send no mail)"),
        SiteKey("smtp_port", 25, _port, "mail server port (25, 587 with STARTTLS...)"),
        SiteKey("smtp_starttls", False, _flag("smtp_starttls"), "true: STARTTLS before logging in"),
        SiteKey("smtp_sender", "", _sender, "From address of alerts and digests"),
        SiteKey("smtp_username", "", _smtp_user, "mail login (password: CLASSROOM_MONITOR_SMTP_PASSWORD)"),
        SiteKey("alert_after_min", 5, _minutes, "alert the admins when a camera is down this many minutes"),
        SiteKey("alert_low_heads_up", False, _flag("alert_low_heads_up"), "true: low heads-up alerts"),
        SiteKey("weekly_digest", True, _flag("weekly_digest"), "true: serve mails a digest on Mondays"),
        SiteKey("base_url", "", _base_url, "the dashboard's address for links in mail (https://...)"),
    )
}
DEFAULTS: dict[str, Any] = {k.name: k.default for k in SITE_KEYS.values()}


def validate(changes: dict[str, Any], *, from_text: bool = False) -> dict[str, Any]:
    """Checked values for ``changes``; raises ``SettingError`` on the first bad key or value.

    JSON values (the API) must have the right type; ``from_text`` values (the CLI and the HTML form) are
    text and are read as true/false or whole numbers first.
    """
    out: dict[str, Any] = {}
    for key, value in changes.items():
        spec = SITE_KEYS.get(key) if isinstance(key, str) else None
        if spec is None:
            raise SettingError(f"unknown setting {str(key)[:40]!r} (site settings: {', '.join(SITE_KEYS)})")
        if from_text:
            value = _from_text(spec.default, value)
        out[key] = spec.check(value)
    return out


def get_setting(db: Session, key: str) -> Any:
    row = db.get(Setting, key)
    if row is None:
        return DEFAULTS.get(key)
    try:
        return SITE_KEYS[key].check(json.loads(row.value)) if key in SITE_KEYS else json.loads(row.value)
    except (SettingError, ValueError):
        # A value edited by hand into something invalid: the strictest reading is the safe one.
        return "attention" if key == "mode" else (True if key == "class_only" else DEFAULTS.get(key))


def all_settings(db: Session) -> dict[str, Any]:
    return {key: get_setting(db, key) for key in DEFAULTS}


def set_setting(db: Session, key: str, value: Any) -> None:
    """Validate and store ``value`` (caller commits)."""
    value = validate({key: value})[key]
    row = db.get(Setting, key)
    text = json.dumps(value)
    if row is None:
        db.add(Setting(key=key, value=text, updated_at=utcnow()))
    else:
        row.value, row.updated_at = text, utcnow()


def save_settings(
    db: Session, changes: dict[str, Any], actor: str, *, from_text: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate and store ``changes`` with their audit row (``actor``, action ``settings``) in the caller's
    transaction, so that both are committed or neither; returns (all settings now, what actually changed).
    Nothing changed: no audit row."""
    changes = validate(changes, from_text=from_text)
    before = all_settings(db)
    for key, value in changes.items():
        set_setting(db, key, value)
    changed = {k: v for k, v in changes.items() if before.get(k) != v}
    if changed:
        db.add(AuditLog(actor=actor, action="settings", detail=json.dumps(changed, sort_keys=True)))
    return {**before, **changes}, changed


def school_zone(db: Session) -> ZoneInfo:
    """The school's time zone (UTC when unset or no longer known to this machine)."""
    try:
        return ZoneInfo(get_setting(db, "timezone"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def effective_mode(process_mode: str, site_mode: str) -> str:
    """The stricter of a worker's own mode and the site's: attention-only can never be overridden."""
    return "attention" if "attention" in (process_mode, site_mode) else "emotion"
