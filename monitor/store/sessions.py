"""Session and camera bookkeeping: the camera lease, opening and closing class sessions, mode history.

**The lease.** Only one worker may write for a camera. Its ``worker_status`` row holds the token of the
worker that owns the camera; the lease stays valid while that worker's heartbeat (written by the
observation writer every batch) is younger than ``STALE_AFTER_S``. A second worker is refused while the
lease is live and takes it over once it is stale (the first was killed). The claim is a compare-and-swap
``UPDATE ... WHERE lease_owner = <old>``, so two workers starting at once cannot both win.

**Failover.** A worker that takes over a camera (its previous worker died) continues the camera's open
session when it is the same lesson (same label) and its last data is younger than ``RESUME_WITHIN_S``: frame
indices and track ids carry on after the stored ones, so no row is duplicated. Older or differently
labelled sessions left open are closed at their last data.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.store import lesson_stats
from monitor.store.cameras import get_or_create_camera
from monitor.store.schema import (
    Camera,
    ClassSession,
    Observation,
    SessionMode,
    TrackSummary,
    WorkerStatus,
    utcnow,
)

STALE_AFTER_S = 10.0
"""A worker whose heartbeat is older than this is gone: its camera shows offline and its lease is free."""
RESUME_WITHIN_S = 60.0
"""A taken-over camera continues its open session when that session stored data this recently."""
LIVE_STATES = ("starting", "running", "idle")
"""Worker states that hold the camera's lease and promise heartbeats (idle: outside the timetable, still
serving the camera): silence for STALE_AFTER_S means the worker is gone. The one definition."""
IDLE_MESSAGE = "outside timetable"


class CameraBusy(Exception):
    """Another live worker holds the camera's lease; the message is meant for the user."""


def is_stale(heartbeat: datetime | None, now: datetime | None = None) -> bool:
    return heartbeat is None or (now or utcnow()) - heartbeat > timedelta(seconds=STALE_AFTER_S)


def new_lease_token() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class LeaseLost(Exception):
    """The camera's lease belongs to another worker now."""


@dataclass(frozen=True)
class OpenedSession:
    camera_id: int
    session_id: int
    started_at: datetime
    closed_stale: list[int]
    resumed: bool = False
    frame_offset: int = 0  # a resumed session: frame indices and track ids continue after these
    track_offset: int = 0
    data_from: datetime | None = None  # the earliest timestamp new data may carry (now, or later)


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
    if ws.lease_owner == token:
        return ws  # ours already (a scheduled worker holds its camera between lessons)
    if ws.lease_owner and ws.state in LIVE_STATES and not is_stale(ws.last_heartbeat, now):
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


def _camera(db: Session, name: str) -> Camera:
    # The one name rule (monitor.cameras): " c1" or "C1" leases camera c1, never a look-alike beside it.
    return get_or_create_camera(db, name)


def take_camera(db_factory: sessionmaker, *, camera_name: str, source: str, token: str) -> int:
    """Create the camera if new and claim its lease for ``token`` (``CameraBusy`` when another live worker
    holds it); the worker serves it, idle, until a session opens. Returns the camera id."""
    now = utcnow()
    with db_factory.begin() as db:
        cam = _camera(db, camera_name)
        ws = claim_camera(db, cam.id, token, now)
        cam.source = source
        cam.status, cam.status_detail, cam.last_heartbeat = "online", "worker started", now
        ws.pid, ws.hostname, ws.state, ws.started_at = os.getpid(), socket.gethostname(), "idle", now
        ws.session_id, ws.frames, ws.faces_in_view, ws.fps, ws.message = None, 0, 0, None, None
        return cam.id


def _resumable(
    db: Session,
    cs: ClassSession,
    last_beat: tuple[int | None, datetime | None],
    label: str,
    now: datetime,
    within: float,
) -> bool:
    """Whether a session left open by a previous worker is this same lesson, recently alive."""
    if cs.label != label:
        return False
    alive = [cs.started_at, last_data_time(db, cs.id)]
    if last_beat[0] == cs.id:
        alive.append(last_beat[1])  # an empty room stores no rows, but its worker beat for it
    last = max(t for t in alive if t is not None)
    return now - last <= timedelta(seconds=within)


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
    resume_within_s: float | None = RESUME_WITHIN_S,
) -> OpenedSession:
    """Claim the camera and open a session labelled ``label``, or continue the camera's open session of the
    same label when its data is younger than ``resume_within_s`` (None: never continue). Other sessions left
    open by a killed worker are closed at their last data."""
    now = utcnow()
    with db_factory.begin() as db:
        cam = _camera(db, camera_name)
        before = db.get(WorkerStatus, cam.id)  # the previous worker's last beat, before we take the lease
        last_beat = (before.session_id, before.last_heartbeat) if before is not None else (None, None)
        ours = before is not None and before.lease_owner == token  # a scheduled worker's next lesson
        ws = claim_camera(db, cam.id, token, now)
        cam.source = source
        cam.status, cam.status_detail, cam.last_heartbeat = "online", "worker started", now
        left_open = list(
            db.scalars(
                select(ClassSession)
                .where(ClassSession.camera_id == cam.id, ClassSession.ended_at.is_(None))
                .order_by(ClassSession.started_at.desc(), ClassSession.id.desc())
            )
        )
        resumed = None
        if (
            left_open
            and resume_within_s is not None
            and _resumable(db, left_open[0], last_beat, label, now, resume_within_s)
        ):
            resumed = left_open.pop(0)
        closed = []
        for stale in left_open:
            stale.ended_at = max(last_data_time(db, stale.id) or stale.started_at, stale.started_at)
            closed.append(stale.id)
        if resumed is None:
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
            opened = OpenedSession(cam.id, cs.id, now, closed, data_from=now)
        else:
            cs = resumed
            opened = _continue(db, cs, now, mode, model_version, closed)
        ws.pid, ws.hostname, ws.state = os.getpid(), socket.gethostname(), "running"
        ws.session_id, ws.faces_in_view, ws.message, ws.model_version = cs.id, 0, None, model_version
        if not ours:
            ws.started_at, ws.frames, ws.fps = now, 0, None
        return opened


def _continue(
    db: Session, cs: ClassSession, now: datetime, mode: str, model_version: str | None, closed: list[int]
) -> OpenedSession:
    """Resume ``cs``: new data comes after its stored frames, tracks and timestamps."""
    last_frame = db.scalar(select(func.max(Observation.frame_index)).where(Observation.session_id == cs.id))
    last_track = db.scalar(select(func.max(TrackSummary.track_id)).where(TrackSummary.session_id == cs.id))
    last_ts = last_data_time(db, cs.id)
    data_from = now if last_ts is None else max(now, last_ts + timedelta(milliseconds=1))
    last_mode = db.scalar(
        select(SessionMode.mode)
        .where(SessionMode.session_id == cs.id)
        .order_by(SessionMode.changed_at.desc(), SessionMode.id.desc())
        .limit(1)
    )
    if last_mode != mode:
        db.add(SessionMode(session_id=cs.id, changed_at=now, mode=mode))
        if mode == "emotion":
            cs.mode = "emotion"
            cs.model_version = cs.model_version or model_version
    return OpenedSession(
        cs.camera_id,
        cs.id,
        cs.started_at,
        closed,
        resumed=True,
        frame_offset=(last_frame + 1) if last_frame is not None else 0,
        track_offset=last_track or 0,
        data_from=data_from,
    )


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


def end_session(
    db_factory: sessionmaker, *, camera_id: int, session_id: int, frames: int, last_ts: datetime, token: str
) -> None:
    """End the session (a timetable period is over); the worker keeps the camera, idle."""
    _end(db_factory, camera_id, session_id, frames, last_ts, token, release=False)


def close_session(
    db_factory: sessionmaker,
    *,
    camera_id: int,
    session_id: int | None,
    frames: int,
    last_ts: datetime | None,
    token: str,
) -> None:
    """End the session (at the later of now and its last frame's timestamp), if one is open, and release
    the lease: the worker stops."""
    _end(db_factory, camera_id, session_id, frames, last_ts, token, release=True)


def _end(
    db_factory: sessionmaker,
    camera_id: int,
    session_id: int | None,
    frames: int,
    last_ts: datetime | None,
    token: str,
    release: bool,
) -> None:
    now = utcnow()
    with db_factory.begin() as db:
        ws = db.get(WorkerStatus, camera_id)
        if ws is None or ws.lease_owner != token:
            # Taken over: the new worker continued this session or closed it at its last data; neither it
            # nor the camera's status is ours to set any more.
            return
        if session_id is not None:
            cs = db.get(ClassSession, session_id)
            cs.ended_at = max(now, last_ts or now)  # a file's timestamps run at its own pace
            db.flush()
            # The lesson's figures for the sessions list and trends, kept now rather than at first view.
            lesson_stats.figures_for(db, [cs], save=lambda rows: lesson_stats.save_rows(db, rows))
        cam = db.get(Camera, camera_id)
        ws.frames, ws.faces_in_view, ws.last_heartbeat = frames, 0, now
        if release:
            cam.status, cam.status_detail, cam.last_heartbeat = "offline", "worker stopped", now
            ws.state, ws.lease_owner = "stopped", None
        else:
            cam.status_detail, cam.last_heartbeat = IDLE_MESSAGE, now
            ws.state, ws.session_id, ws.message = "idle", None, IDLE_MESSAGE


def beat(conn: Connection, camera_id: int, token: str, now: datetime, fields: dict | None = None) -> None:
    """The heartbeat: renew ``token``'s lease on the camera and store the worker's status ``fields``;
    ``LeaseLost`` when the lease is another worker's now (no lease, no writes)."""
    done = conn.execute(
        update(WorkerStatus)
        .where(WorkerStatus.camera_id == camera_id)
        .where(WorkerStatus.lease_owner == token)
        .values(**(fields or {}), last_heartbeat=now)
    )
    if done.rowcount != 1:
        raise LeaseLost
