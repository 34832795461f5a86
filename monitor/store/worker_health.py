"""What a worker's heartbeat says is wrong, in one place for ``status``, health and the camera cards: its
camera unreachable (why, since when) and frames it processed but could not store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from monitor import timefmt
from monitor.locales import N_
from monitor.store.schema import WorkerStatus

UNREACHABLE = ("reconnecting", "offline")
"""Capture states of a camera the worker cannot read."""


def camera_unreachable(ws: WorkerStatus | None, live: bool) -> bool:
    """A live worker (fresh heartbeat) whose camera it cannot read."""
    return ws is not None and live and ws.capture_state in UNREACHABLE


def shown_state(ws: WorkerStatus | None, state: str, live: bool) -> str:
    """The worker's state, or ``camera offline`` / ``camera reconnecting`` when it runs without a camera."""
    return f"camera {ws.capture_state}" if camera_unreachable(ws, live) else state


def capture_fields(ws: WorkerStatus | None, live: bool) -> dict:
    """The capture state as the JSON answers carry it (None for a worker that is not running)."""
    if ws is None or not live or ws.capture_state is None:
        return {"capture_state": None, "capture_detail": None, "capture_since": None}
    since = ws.capture_since
    return {
        "capture_state": ws.capture_state,
        "capture_detail": ws.capture_detail,
        "capture_since": since.isoformat(timespec="milliseconds") if since else None,
    }


UNREACHABLE_SINCE = N_("camera unreachable since %(time)s (%(why)s)")
UNREACHABLE_NOW = N_("camera unreachable (%(why)s)")
FRAMES_NOT_STORED = N_("%(n)s frames not stored (%(why)s)")
DATABASE_REFUSED = N_("the database refused them")


def problems(
    ws: WorkerStatus | None,
    live: bool,
    zone: tzinfo | None = None,
    gettext: Callable[[str], str] | None = None,
) -> list[str]:
    """One line per thing wrong: "camera unreachable since 05:29 (cannot open source)", frames not stored;
    in the language of ``gettext`` (English by default; the worker's own error text stays as it wrote it)."""
    _ = gettext or (lambda text: text)
    out = []
    if camera_unreachable(ws, live):
        why = ws.capture_detail or _(ws.capture_state)
        if ws.capture_since:
            out.append(_(UNREACHABLE_SINCE) % {"time": timefmt.clock(ws.capture_since, zone), "why": why})
        else:
            out.append(_(UNREACHABLE_NOW) % {"why": why})
    if ws is not None and ws.frames_lost:
        why = ws.store_error or _(DATABASE_REFUSED)
        out.append(_(FRAMES_NOT_STORED) % {"n": ws.frames_lost, "why": why})
    elif ws is not None and ws.store_error:
        # writes were failing at the worker's last heartbeat (a full disk may not take even the last count)
        out.append(ws.store_error)
    return out


def last_error(
    ws: WorkerStatus | None,
    live: bool,
    zone: tzinfo | None = None,
    gettext: Callable[[str], str] | None = None,
) -> str | None:
    """The supervisor's last error, else what the heartbeat says is wrong; None when all is well."""
    lines = ([ws.last_error] if ws is not None and ws.last_error else []) + problems(ws, live, zone, gettext)
    return "; ".join(lines) or None
