"""Each camera's worker as `classroom-monitor status`, `GET /api/health` and the admin health page show it.

One read model, one wording, one rule:

- a camera no worker ever served reads ``never started`` (``NEVER_STARTED``);
- a worker is **stale** when its state promises heartbeats (``LIVE_STATES``) and its last heartbeat is older
  than ``STALE_AFTER_S`` (or missing): it stopped, crashed or lost its database. Its state stays what it last
  wrote, with ``stale`` set; ``status`` shows it as ``running · stale`` like the health page;
- a live worker (fresh heartbeat) whose camera it cannot read reads ``camera offline`` /
  ``camera reconnecting``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import timefmt
from monitor.store import notifications, worker_health
from monitor.store.schema import Camera, ClassSession, WorkerStatus, utcnow
from monitor.store.sessions import LIVE_STATES, STALE_AFTER_S, is_stale
from monitor.views.audience import Audience

NEVER_STARTED = "never started"
"""The state of a camera no worker ever served (no worker row)."""

__all__ = [
    "NEVER_STARTED",
    "STALE_AFTER_S",
    "alert_rows",
    "is_worker_stale",
    "shown_state",
    "worker_rows",
]


def is_worker_stale(ws: WorkerStatus | None, now: datetime) -> bool:
    """The one staleness rule: a worker whose state promises heartbeats but whose heartbeat is too old."""
    return ws is not None and ws.state in LIVE_STATES and is_stale(ws.last_heartbeat, now)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment else None


def worker_rows(db: Session, audience: Audience | None = None, now: datetime | None = None) -> list[dict]:
    """One row per camera the audience may see, by name: its worker's state, staleness, heartbeat;
    ``last_error``'s own words in the audience's language. None: every camera, in English (``status``)."""
    now = now or utcnow()
    audience = audience or Audience.load(db, locale="en")
    zone, gettext, camera_ids = audience.zone, audience.gettext, audience.camera_ids
    stmt = (
        select(Camera, WorkerStatus, ClassSession)
        .outerjoin(WorkerStatus, WorkerStatus.camera_id == Camera.id)
        .outerjoin(ClassSession, ClassSession.id == WorkerStatus.session_id)
        .order_by(Camera.name)
    )
    if camera_ids is not None:
        stmt = stmt.where(Camera.id.in_(camera_ids))
    out = []
    for cam, ws, cs in db.execute(stmt):
        beat = ws.last_heartbeat if ws else None
        state = ws.state if ws else NEVER_STARTED
        stale = is_worker_stale(ws, now)
        live = ws is not None and state in LIVE_STATES and not stale
        out.append(
            {
                "camera_id": cam.id,
                "camera": cam.name,
                "state": worker_health.shown_state(ws, state, live),
                "stale": stale,
                "pid": ws.pid if ws else None,
                "host": ws.hostname if ws else None,
                "started_at": _iso(ws.started_at) if ws else None,
                "last_heartbeat": _iso(beat),
                "heartbeat_age_s": round((now - beat).total_seconds(), 1) if beat else None,
                "heartbeat_ago": timefmt.relative(beat, zone, now),
                "fps": round(ws.fps, 1) if ws and ws.fps is not None else None,
                "people_in_view": ws.faces_in_view if ws and state == "running" and not stale else 0,
                "frames": ws.frames if ws else 0,
                "session_id": ws.session_id if ws else None,
                "session": None
                if cs is None
                else {"id": cs.id, "label": cs.label, "in_progress": cs.ended_at is None},
                "model_version": ws.model_version if ws else None,
                "message": ws.message if ws else None,
                "restarts": (ws.restarts or 0) if ws else 0,
                # the supervisor's last error, else what the heartbeat says is wrong (camera, lost frames)
                "last_error": worker_health.last_error(ws, live, zone, gettext),
                **worker_health.capture_fields(ws, live),
                "frames_lost": (ws.frames_lost or 0) if ws else 0,
                "store_error": ws.store_error if ws else None,
                "frames_dropped": ws.frames_dropped if ws else None,
                # what reading the camera costs: capture CPU per frame read, frames sample_fps left out
                "decode_ms_per_frame": _round(ws.decode_ms_per_frame if ws else None, 2),
                "frames_skipped": ws.frames_skipped if ws else None,
                "latency_p50_ms": ws.latency_p50_ms if ws else None,
                "latency_p95_ms": ws.latency_p95_ms if ws else None,
            }
        )
    return out


def shown_state(row: dict) -> str:
    """The state as one line of text: ``running · stale`` for a stale worker, as the health page writes it."""
    return f"{row['state']} · stale" if row["stale"] else row["state"]


def alert_rows(db: Session, audience: Audience, limit: int = 20) -> list[dict] | None:
    """The latest ``limit`` alert episodes as ``GET /api/health`` lists them, newest first, as the health
    page does; None for an audience that does not see every camera (a teacher): an episode names the
    admins' addresses it was mailed to, and the page shows alerts to admins only."""
    if audience.camera_ids is not None:
        return None
    _ = audience.gettext
    kinds = {"camera_down": _("camera down"), "low_heads_up": _("low heads-up")}
    return [
        {
            "id": a.id,
            "kind": a.kind,
            "kind_text": kinds.get(a.kind, a.kind),
            "camera_id": a.camera_id,
            "camera": a.camera,
            "session_id": a.session_id,
            "subject": a.subject,
            "opened": _iso(a.opened),
            "closed": _iso(a.closed),
            "open": a.closed is None,
            "sent_at": _iso(a.sent_at),
            "sent_to": a.sent_to.split(", ") if a.sent_to else [],
            "error": a.error,
        }
        for a in notifications.recent_alerts(db, limit)
    ]
