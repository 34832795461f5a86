"""Each camera's worker as ``classroom-monitor status`` shows it: one row per camera, from the store.

A running worker whose camera cannot be read shows ``camera offline`` (or ``camera reconnecting``) with why
and since when; frames it could not store are counted in ``frames_lost`` and named in ``last_error``. A
worker whose heartbeat went silent shows ``running · stale``, a camera never served ``never started``: the
rows are ``monitor.views.health``'s, the same as ``GET /api/health``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.views.audience import Audience
from monitor.views.health import shown_state, worker_rows

COLUMNS = (
    "camera",
    "state",
    "heartbeat",
    "fps",
    "restarts",
    "dropped",
    "skipped",
    "decode ms",
    "lost",
    "p95 ms",
    "host",
    "last error",
)


def camera_rows(db: Session) -> list[dict]:
    """Cameras with their worker's state, from the one health read model (``monitor.views.health``)."""
    return worker_rows(db, Audience.load(db, locale="en"))  # every camera, in English


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def format_table(rows: list[dict]) -> str:
    cells = [
        [
            r["camera"],
            shown_state(r),
            "-" if r["heartbeat_age_s"] is None else f"{r['heartbeat_age_s']:.0f} s ago",
            _cell(r["fps"]),
            _cell(r["restarts"]),
            _cell(r["frames_dropped"]),
            _cell(r["frames_skipped"]),
            "-" if r["decode_ms_per_frame"] is None else f"{r['decode_ms_per_frame']:.1f}",
            _cell(r["frames_lost"]),
            "-" if r["latency_p95_ms"] is None else f"{r['latency_p95_ms']:.0f}",
            f"{r['host']} pid {r['pid']}" if r["host"] else "-",
            _cell(r["last_error"])[:120],
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(COLUMNS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
