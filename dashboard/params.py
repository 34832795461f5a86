"""Query-string and form parsing that answers 400 with a clear message instead of failing later."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from flask import abort, request
from flask_babel import gettext

from monitor import timefmt

MAX_BUCKET_S = 86_400
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}")
"""ASCII digits only: ``int()`` also takes '١٢', '1_000' and ' 7 ', and ``str.isdigit`` takes '²'."""


def parse_int(raw: str | None) -> int | None:
    """``raw`` as a whole number written in ASCII digits (at most 19), else None."""
    if raw is None or not _WHOLE_NUMBER.fullmatch(raw):
        return None
    return int(raw)


def _checked_int(name: str, raw: str, low: int, high: int) -> int:
    value = parse_int(raw)
    if value is None:
        abort(
            400,
            description=gettext(
                "%(name)s must be a whole number, not %(raw)s", name=name, raw=repr(raw[:40])
            ),
        )
    if not low <= value <= high:
        abort(
            400,
            description=gettext(
                "%(name)s must be between %(low)s and %(high)s, not %(value)s",
                name=name,
                low=low,
                high=high,
                value=value,
            ),
        )
    return value


def int_arg(name: str, *, low: int, high: int, default: int | None = None) -> int | None:
    """Query parameter ``name`` as a whole number in ``low..high`` (missing or empty: ``default``)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return _checked_int(name, raw, low, high)


def bucket_arg() -> int | None:
    """``bucket`` in seconds (1..86400); missing or ``auto``: None (choose from the session length)."""
    if request.args.get("bucket", "").lower() == "auto":
        return None
    return int_arg("bucket", low=1, high=MAX_BUCKET_S)


def date_arg(name: str, zone: tzinfo, *, end: bool = False) -> datetime | None:
    """Query date ``name`` (``2025-03-01``) as the UTC start of that day in the school's ``zone``; for
    ``end`` the start of the next day, so that the day is included. An ISO date-time is taken as it is
    (without an offset: in the school's zone). The one date filter of every page and API route."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return timefmt.day_start_utc(day + timedelta(days=1) if end else day, zone)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return (value.replace(tzinfo=zone) if value.tzinfo is None else value).astimezone(UTC)
    except ValueError:
        abort(
            400,
            description=gettext(
                "%(name)s must be a date like 2025-03-01 or an ISO date-time, not %(raw)s",
                name=name,
                raw=repr(raw[:40]),
            ),
        )
    except OverflowError:  # 9999-12-31 plus a day, 0001-01-01T00:00+14:00 in UTC
        abort(400, description=gettext("%(name)s is out of range: %(raw)s", name=name, raw=repr(raw[:40])))
