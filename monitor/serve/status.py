"""Each camera's worker as ``classroom-monitor status`` shows it: one row per camera, from the store.

A running worker whose camera cannot be read shows ``camera offline`` (or ``camera reconnecting``) with why
and since when; frames it could not store are counted in ``frames_lost`` and named in ``last_error``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store import worker_health
from monitor.store.schema import Camera, WorkerStatus, utcnow
from monitor.store.sessions import LIVE_STATES, is_stale
from monitor.store.site_settings import school_zone

COLUMNS = (
    "camera",
    "state",
    "heartbeat",
    "fps",
    "restarts",
    "dropped",
    "lost",
    "p95 ms",
    "host",
    "last error",
)


def camera_rows(db: Session) -> list[dict]:
    """Cameras with their worker's state; a live state with a stale heartbeat reads ``offline``."""
    now = utcnow()
    zone = school_zone(db)
    out = []
    for cam, ws in db.execute(
        select(Camera, WorkerStatus)
        .outerjoin(WorkerStatus, WorkerStatus.camera_id == Camera.id)
        .order_by(Camera.name)
    ):
        state = ws.state if ws else "never run"
        age = None
        if ws is not None and ws.last_heartbeat is not None:
            age = round((now - ws.last_heartbeat).total_seconds(), 1)
        if ws is not None and state not in ("stopped", "failed") and is_stale(ws.last_heartbeat, now):
            state = "offline"
        live = state in LIVE_STATES
        out.append(
            {
                "camera": cam.name,
                "state": worker_health.shown_state(ws, state, live),
                "heartbeat_age_s": age,
                "fps": None if ws is None or ws.fps is None else round(ws.fps, 1),
                "restarts": ws.restarts if ws else 0,
                "frames_dropped": getattr(ws, "frames_dropped", None),
                "latency_p50_ms": getattr(ws, "latency_p50_ms", None),
                "latency_p95_ms": getattr(ws, "latency_p95_ms", None),
                "host": f"{ws.hostname} pid {ws.pid}" if ws and ws.hostname else None,
                "session_id": ws.session_id if ws else None,
                "message": ws.message if ws else None,
                **worker_health.capture_fields(ws, live),
                "frames_lost": ws.frames_lost if ws else 0,
                "store_error": ws.store_error if ws else None,
                "last_error": worker_health.last_error(ws, live, zone),
            }
        )
    return out


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def format_table(rows: list[dict]) -> str:
    cells = [
        [
            r["camera"],
            r["state"],
            "-" if r["heartbeat_age_s"] is None else f"{r['heartbeat_age_s']:.0f} s ago",
            _cell(r["fps"]),
            _cell(r["restarts"]),
            _cell(r["frames_dropped"]),
            _cell(r["frames_lost"]),
            "-" if r["latency_p95_ms"] is None else f"{r['latency_p95_ms']:.0f}",
            _cell(r["host"]),
            _cell(r["last_error"])[:120],
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(COLUMNS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
