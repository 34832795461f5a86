"""Session and camera bookkeeping: the camera lease, opening and closing class sessions, mode history.

**The lease.** Only one worker may write for a camera. Its ``worker_status`` row holds the token of the
worker that owns the camera; the lease stays valid while that worker's heartbeat (written by the
observation writer every batch) is younger than ``STALE_AFTER_S``. A second worker is refused while the
lease is live and takes it over once it is stale (the first was killed). The claim is a compare-and-swap
``UPDATE ... WHERE lease_owner = <old>``, so two workers starting at once cannot both win.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.schema import Camera, ClassSession, Observation, SessionMode, WorkerStatus, utcnow

STALE_AFTER_S = 10.0
"""A worker whose heartbeat is older than this is gone: its camera shows offline and its lease is free."""


class CameraBusy(Exception):
    """Another live worker holds the camera's lease; the message is meant for the user."""


def is_stale(heartbeat: datetime | None, now: datetime | None = None) -> bool:
    return heartbeat is None or (now or utcnow()) - heartbeat > timedelta(seconds=STALE_AFTER_S)


def new_lease_token() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class OpenedSession:
    camera_id: int
    session_id: int
    started_at: datetime
    closed_stale: list[int]


def last_data_time(db: Session, session_id: int) -> datetime | None:
    """When a session last stored an observation (the (session_id, ts) index answers this at once)."""
    return db.scalar(select(func.max(Observation.ts)).where(Observation.session_id == session_id))


def claim_camera(db: Session, camera_id: int, token: str, now: datetime) -> WorkerStatus:
    """Take the camera's lease for ``token`` or raise ``CameraBusy`` (caller commits)."""
    ws = db.get(WorkerStatus, camera_id)
    if ws is None:
        ws = WorkerStatus(camera_id=camera_id, lease_owner=token, state="starting", last_heartbeat=now)
        db.add(ws)
        try:
            db.flush()
        except IntegrityError as exc:  # another worker inserted the row first
            raise CameraBusy("another worker is starting for this camera; try again shortly") from exc
        return ws
    if ws.lease_owner and ws.state in ("starting", "running") and not is_stale(ws.last_heartbeat, now):
        age = (now - ws.last_heartbeat).total_seconds()
        raise CameraBusy(
            f"camera is already served by worker pid {ws.pid} on {ws.hostname} (heartbeat {age:.0f} s ago); "
            f"stop that worker first, or wait {STALE_AFTER_S:.0f} s if it died"
        )
    won = db.execute(
        update(WorkerStatus)
        .where(WorkerStatus.camera_id == camera_id)
        .where(
            WorkerStatus.lease_owner.is_(None)
            if ws.lease_owner is None
            else WorkerStatus.lease_owner == ws.lease_owner
        )
        .values(lease_owner=token, state="starting", last_heartbeat=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise CameraBusy("another worker took this camera a moment ago")
    db.refresh(ws)
    return ws


def open_session(
    db_factory: sessionmaker,
    *,
    camera_name: str,
    source: str,
    label: str,
    mode: str,
    model_version: str | None,
    detector: str,
    token: str,
) -> OpenedSession:
    """Claim the camera, close sessions a killed worker left open (at their last data) and open a new one."""
    now = utcnow()
    with db_factory.begin() as db:
        cam = db.scalar(select(Camera).where(Camera.name == camera_name))
        if cam is None:
            cam = Camera(name=camera_name)
            db.add(cam)
            db.flush()
        ws = claim_camera(db, cam.id, token, now)
        cam.source = source
        cam.status, cam.status_detail, cam.last_heartbeat = "online", "worker started", now
        closed = []
        for stale in db.scalars(
            select(ClassSession).where(ClassSession.camera_id == cam.id, ClassSession.ended_at.is_(None))
        ):
            stale.ended_at = max(last_data_time(db, stale.id) or stale.started_at, stale.started_at)
            closed.append(stale.id)
        cs = ClassSession(
            camera_id=cam.id,
            label=label,
            started_at=now,
            mode=mode,
            model_version=model_version,
            detector=detector,
        )
        db.add(cs)
        db.flush()
        db.add(SessionMode(session_id=cs.id, changed_at=now, mode=mode))
        ws.pid, ws.hostname, ws.state, ws.started_at = os.getpid(), socket.gethostname(), "running", now
        ws.session_id, ws.frames, ws.faces_in_view, ws.fps, ws.message = cs.id, 0, 0, None, None
        ws.model_version = model_version
        return OpenedSession(cam.id, cs.id, now, closed)


def record_mode(
    db_factory: sessionmaker, session_id: int, mode: str, model_version: str | None = None
) -> None:
    """Note that the session runs in ``mode`` from now on.

    A session that ever ran with emotion inference keeps ``mode = "emotion"`` (it holds emotion data); the
    history says when. Exports follow the site's settings of the moment, whatever the session ran in.
    """
    with db_factory.begin() as db:
        db.add(SessionMode(session_id=session_id, changed_at=utcnow(), mode=mode))
        cs = db.get(ClassSession, session_id)
        if mode == "emotion" and cs is not None:
            cs.mode = "emotion"
            cs.model_version = cs.model_version or model_version


def mode_history(db: Session, session_id: int) -> list[dict]:
    rows = db.scalars(
        select(SessionMode).where(SessionMode.session_id == session_id).order_by(SessionMode.changed_at)
    )
    return [{"at": r.changed_at.isoformat(timespec="milliseconds"), "mode": r.mode} for r in rows]


def close_session(
    db_factory: sessionmaker, *, camera_id: int, session_id: int, frames: int, last_ts: datetime, token: str
) -> None:
    """End the session (at the later of now and its last frame's timestamp) and release the lease."""
    now = utcnow()
    with db_factory.begin() as db:
        cs = db.get(ClassSession, session_id)
        cs.ended_at = max(now, last_ts)  # a file's timestamps run at its own pace
        cam = db.get(Camera, camera_id)
        ws = db.get(WorkerStatus, camera_id)
        if ws is None or ws.lease_owner != token:
            return  # the lease was taken over: the camera's status is no longer ours to set
        cam.status, cam.status_detail, cam.last_heartbeat = "offline", "worker stopped", now
        ws.state, ws.frames, ws.faces_in_view, ws.last_heartbeat = "stopped", frames, 0, now
        ws.lease_owner = None
