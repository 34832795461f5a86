"""One way to show a time: in the school's time zone (site setting ``timezone``), the same on every page,
report and export. Stored times stay UTC; these functions only format them.

- ``date_time``: ``Tue 24 Nov 2026 10:52`` (24-hour clock, no seconds)
- ``day``: ``Tue 24 Nov 2026``; ``clock``: ``10:52`` (``10:52:07`` with ``seconds=True``)
- ``duration``: ``45 s``, ``2 min 22 s``, ``12 min``, ``1 h 05 min``
- ``relative``: ``5 s ago``, ``3 min ago``, ``2 h ago``, then the date and time
- ``zone_offset``: ``UTC+01:00``

The browser mirrors these in ``dashboard/static/js/common.js`` (``CM.dateTime``, ``CM.clock``,
``CM.duration``, ``CM.ago``) with ``Intl.DateTimeFormat`` in the same zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

UTC_ZONE = ZoneInfo("UTC")


def in_zone(dt: datetime, zone: tzinfo | None) -> datetime:
    """``dt`` (aware, or naive UTC as the database stores it) in ``zone`` (None: UTC)."""
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    return aware.astimezone(zone or UTC_ZONE)


def day(dt: datetime, zone: tzinfo | None) -> str:
    """``Tue 24 Nov 2026``."""
    return in_zone(dt, zone).strftime("%a %d %b %Y")


def clock(dt: datetime, zone: tzinfo | None, seconds: bool = False) -> str:
    """``10:52`` (``10:52:07`` with ``seconds``)."""
    return in_zone(dt, zone).strftime("%H:%M:%S" if seconds else "%H:%M")


def date_time(dt: datetime | None, zone: tzinfo | None) -> str:
    """``Tue 24 Nov 2026 10:52``; an en dash for no time."""
    if dt is None:
        return "–"
    return f"{day(dt, zone)} {clock(dt, zone)}"


def duration(seconds: float | None) -> str:
    """``45 s``, ``2 min 22 s``, ``12 min`` (seconds dropped from 10 min), ``1 h 05 min``."""
    if seconds is None:
        return "–"
    total = int(round(max(seconds, 0.0)))
    if total < 60:
        return f"{total} s"
    minutes, s = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min" if minutes >= 10 or not s else f"{minutes} min {s} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"


def relative(dt: datetime | None, zone: tzinfo | None, now: datetime | None = None) -> str:
    """``5 s ago``, ``3 min ago``, ``2 h ago`` within a day, else ``date_time``; ``never`` for None."""
    if dt is None:
        return "never"
    aware = in_zone(dt, UTC)
    age = ((now or datetime.now(UTC)) - aware).total_seconds()
    if age < -5 or age >= 86_400:
        return date_time(aware, zone)
    age = max(age, 0.0)
    if age < 60:
        return f"{int(age)} s ago"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    return f"{int(age // 3600)} h ago"


def zone_offset(dt: datetime, zone: tzinfo | None) -> str:
    """``UTC+01:00`` (``UTC`` itself for a zero offset)."""
    offset = in_zone(dt, zone).utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


def day_start_utc(d: date, zone: tzinfo | None) -> datetime:
    """The UTC instant at which the school's day ``d`` begins (for date filters: ``[start, next start)``)."""
    return datetime.combine(d, time(), tzinfo=zone or UTC_ZONE).astimezone(UTC)


def zone_name(zone: tzinfo | None) -> str:
    """The IANA name for the browser's ``Intl.DateTimeFormat`` (``UTC`` when unknown)."""
    return getattr(zone, "key", None) or "UTC"
