"""Query-string parsing that answers 400 with a clear message instead of failing later."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import abort, request

MAX_BUCKET_S = 86_400


def int_arg(name: str, *, low: int, high: int, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"{name} must be a whole number, not {raw[:40]!r}")
    if not low <= value <= high:
        abort(400, description=f"{name} must be between {low} and {high}, not {value}")
    return value


def bucket_arg() -> int | None:
    """``bucket`` in seconds (1..86400); missing or ``auto``: None (choose from the session length)."""
    if request.args.get("bucket", "").lower() == "auto":
        return None
    return int_arg("bucket", low=1, high=MAX_BUCKET_S)


def date_arg(name: str, *, end: bool = False) -> datetime | None:
    """A UTC date (``2025-03-01``) or ISO date-time; for ``end``, a bare date includes that whole day."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            value = datetime.combine(day, time(), tzinfo=UTC)
            return value + timedelta(days=1) if end else value
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        abort(400, description=f"{name} must be a date like 2025-03-01 or an ISO date-time, not {raw[:40]!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
