"""The admin page's "Test connection" requests, answered by the host that serves the camera (issue 24).

The admin page adds a row (:func:`request_probe`); any running ``serve`` (cameras from its config file or
the database) that may serve the camera claims it (:func:`claim`, one host only), opens the source itself
and writes what it found (:func:`answer`): reachable, resolution, fps or the error, credentials masked. Never
a frame. A request that
no serve host claims within seconds is claimed by the dashboard, which probes from its own host instead.
Rows older than :data:`KEEP_S` are deleted when a new request comes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from monitor.source_mask import mask_source
from monitor.store.schema import Camera, SourceProbe, WorkerStatus, utcnow
from monitor.store.sessions import STALE_AFTER_S

KEEP_S = 3600.0
"""Probe rows are only needed while the page waits: an hour is plenty."""
OPEN_FOR_S = 10.0
"""A request older than this is not taken any more: the page has stopped waiting."""


@dataclass(frozen=True)
class ProbeRow:
    """A probe request and, once answered, what it found."""

    id: int
    camera_id: int
    requested_at: datetime
    claimed_by: str | None
    answered_by: str | None
    reachable: bool | None
    width: int | None
    height: int | None
    fps: float | None
    error: str | None
    tested_source: str | None = None  # masked
    tested_from_file: bool = False  # the serve config file's source, not the one saved on the admin page

    @property
    def answered(self) -> bool:
        return self.answered_by is not None


def purge_old(db: Session, now: datetime | None = None) -> int:
    """Delete probe rows older than :data:`KEEP_S`; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(seconds=KEEP_S)
    return db.execute(delete(SourceProbe).where(SourceProbe.requested_at < cutoff)).rowcount or 0


def request_probe(db: Session, camera_id: int, username: str) -> int:
    """Ask for a connection test of ``camera_id``; old rows are purged first. Returns the request's id."""
    purge_old(db)
    row = SourceProbe(camera_id=camera_id, requested_at=utcnow(), requested_by=username[:150])
    db.add(row)
    db.flush()
    return row.id


def probe_row(db: Session, probe_id: int) -> ProbeRow | None:
    """One request as it stands now (None: unknown or purged)."""
    p = db.get(SourceProbe, probe_id)
    if p is None:
        return None
    return ProbeRow(
        p.id,
        p.camera_id,
        p.requested_at,
        p.claimed_by,
        p.answered_by,
        p.reachable,
        p.width,
        p.height,
        p.fps,
        p.error,
        p.tested_source,
        bool(p.tested_from_file),
    )


@dataclass(frozen=True)
class OpenRequest:
    """A request nobody has taken yet, with what a serve host needs to decide whether it is its own."""

    id: int
    camera_id: int
    age_s: float
    serve_hosts: str | None
    serving_host: str | None  # the host whose worker holds the camera's lease now (None: nobody)
    name: str = ""
    file_host: str | None = None  # the host whose serve config file sets the camera's source (None: none)


def open_requests(db: Session, now: datetime | None = None) -> list[OpenRequest]:
    """Unclaimed requests younger than :data:`OPEN_FOR_S`, for cameras with a source set (on the admin page or
    in a serve's config file)."""
    now = now or utcnow()
    rows = db.execute(
        select(
            SourceProbe.id,
            SourceProbe.camera_id,
            SourceProbe.requested_at,
            Camera.serve_hosts,
            WorkerStatus,
            Camera.name,
            Camera.file_host,
        )
        .join(Camera, Camera.id == SourceProbe.camera_id)
        .outerjoin(WorkerStatus, WorkerStatus.camera_id == SourceProbe.camera_id)
        .where(
            SourceProbe.claimed_by.is_(None),
            SourceProbe.requested_at >= now - timedelta(seconds=OPEN_FOR_S),
            or_(Camera.configured_source.is_not(None), Camera.file_host.is_not(None)),
        )
        .order_by(SourceProbe.id)
    )
    out = []
    for probe_id, camera_id, requested_at, serve_hosts, ws, name, file_host in rows:
        serving = None
        beat = None if ws is None or not ws.lease_owner else ws.last_heartbeat
        if beat is not None and (now - beat).total_seconds() <= STALE_AFTER_S:
            serving = ws.hostname
        out.append(
            OpenRequest(
                probe_id,
                camera_id,
                (now - requested_at).total_seconds(),
                serve_hosts,
                serving,
                name,
                file_host,
            )
        )
    return out


def claim(db: Session, probe_id: int, host: str) -> bool:
    """Take request ``probe_id`` for ``host``; False when another host took it first."""
    taken = db.execute(
        update(SourceProbe)
        .where(SourceProbe.id == probe_id, SourceProbe.claimed_by.is_(None))
        .values(claimed_by=host[:200])
    )
    return taken.rowcount == 1


def answer(
    db: Session,
    probe_id: int,
    host: str,
    found: dict,
    tested: str | None = None,
    from_file: bool = False,
) -> None:
    """Write what the probe found: ``{"width", "height", "fps"}`` or ``{"error"}`` (already masked), and
    which source it opened (``tested``, masked here) and whether it was a serve config file's."""
    values: dict = {
        "answered_by": host[:200],
        "answered_at": utcnow(),
        "tested_source": None if tested is None else mask_source(tested)[:1000],
        "tested_from_file": from_file,
    }
    if "error" in found:
        values.update(reachable=False, error=str(found["error"])[:500])
    else:
        values.update(
            reachable=True, width=int(found["width"]), height=int(found["height"]), fps=float(found["fps"])
        )
    db.execute(update(SourceProbe).where(SourceProbe.id == probe_id).values(**values))
