"""What the supervisor reads and writes in the store: camera rows, lease holders, restarts and last errors.

The worker owns its ``worker_status`` row while it runs (heartbeat, lease); the supervisor only adds what a
worker cannot say about itself: that it died, how often, and why. When its own worker dies it also frees
the dead worker's lease at once (matched by pid and host), so the restart does not wait out the lease.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.store import cameras as camera_store
from monitor.store import make_engine, session_factory
from monitor.store.schema import Camera, ClassSession, WorkerStatus, utcnow
from monitor.store.sessions import LIVE_STATES, STALE_AFTER_S, is_stale, last_data_time

HOSTNAME = socket.gethostname()


@dataclass(frozen=True)
class Beat:
    """A camera's worker row as the supervisor sees it."""

    camera_id: int
    pid: int | None
    hostname: str | None
    state: str
    heartbeat: datetime | None
    lease_owner: str | None
    started_at: datetime | None = None  # when the worker took the lease (written with its first beat)

    @property
    def beaten_since_start(self) -> bool:
        """The worker has beaten since it took the lease: its start-up is over (taking it is no beat)."""
        return self.heartbeat is not None and (self.started_at is None or self.heartbeat > self.started_at)

    def age(self, now: datetime) -> float | None:
        return None if self.heartbeat is None else (now - self.heartbeat).total_seconds()

    def held_by_other(self, our_pids: set[int], now: datetime, stale_after_s: float) -> bool:
        """Another live worker (another host, or a worker this supervisor did not start) holds the lease."""
        if self.lease_owner is None or self.state not in LIVE_STATES:
            return False
        if self.hostname == HOSTNAME and self.pid in our_pids:
            return False
        age = self.age(now)
        return age is not None and age <= stale_after_s


def read_beats(db: Session, names: list[str]) -> dict[str, Beat]:
    rows = db.execute(
        select(Camera.name, WorkerStatus)
        .join(WorkerStatus, WorkerStatus.camera_id == Camera.id)
        .where(Camera.name.in_(names))
    )
    return {
        name: Beat(
            ws.camera_id, ws.pid, ws.hostname, ws.state, ws.last_heartbeat, ws.lease_owner, ws.started_at
        )
        for name, ws in rows
    }


def ensure_cameras(db_factory: sessionmaker, setups: dict[str, dict]) -> None:
    """Create the config's cameras (so the dashboard lists them at once) and store their set-up."""
    for name, changes in setups.items():
        for attempt in range(2):  # two hosts starting at once may both insert: the loser retries
            try:
                with db_factory.begin() as db:
                    camera_store.apply_changes(db, name, dict(changes), create=True)
                break
            except IntegrityError:
                if attempt:
                    raise


def record_exit(db_factory: sessionmaker, name: str, pid: int, error: str, crashed: bool) -> None:
    """Note a worker's end: count a crash, keep its error, and free the lease the dead worker held."""
    with db_factory.begin() as db:
        cam = camera_store.camera_by_name(db, name)
        if cam is None:
            return
        ws = db.get(WorkerStatus, cam.id)
        if ws is None:
            ws = WorkerStatus(camera_id=cam.id, state="failed", restarts=0)
            db.add(ws)
        if crashed:
            ws.restarts = (ws.restarts or 0) + 1
        ws.last_error = error[:500]
        if ws.pid == pid and ws.hostname == HOSTNAME and ws.lease_owner is not None:
            # Our own worker, now dead (reaped): nobody writes with its token any more.
            ws.lease_owner, ws.state, ws.message = None, "failed", error[:500]
            cam.status, cam.status_detail, cam.last_heartbeat = "offline", "worker restarting", utcnow()


def close_left_open(db_factory: sessionmaker, names: list[str]) -> list[int]:
    """At a clean stop: end sessions that no worker holds any more (a worker killed, or stopped before
    it resumed its lesson) at their last data, and mark those cameras stopped. A camera whose lease
    another live worker holds is left alone. Returns the ids closed."""
    closed = []
    now = utcnow()
    with db_factory.begin() as db:
        for cam in db.scalars(select(Camera).where(Camera.name.in_(names))):
            ws = db.get(WorkerStatus, cam.id)
            if ws is not None and ws.lease_owner and not is_stale(ws.last_heartbeat, now):
                continue
            if ws is not None and ws.state != "stopped":
                ws.state, ws.lease_owner, ws.message = "stopped", None, "serve stopped"
            for cs in db.scalars(
                select(ClassSession).where(ClassSession.camera_id == cam.id, ClassSession.ended_at.is_(None))
            ):
                cs.ended_at = max(last_data_time(db, cs.id) or cs.started_at, cs.started_at)
                closed.append(cs.id)
    return closed


def database_cameras(db: Session, skip: set[str]) -> list[tuple[str, str]]:
    """(name, source) of cameras registered in the database with a camera source, other than ``skip``.

    Only URLs and webcam indices count: a worker stores a video file's name without its folder, which
    could not be opened again."""
    rows = db.execute(
        select(Camera.name, Camera.source).where(Camera.source.is_not(None)).order_by(Camera.name)
    )
    return [(n, s) for n, s in rows if n not in skip and s and ("://" in s or s.strip().isdigit())]


def wait_while_held(db_url: str, camera: str, stop: threading.Event, poll_s: float = 0.5) -> bool:
    """A warm standby: wait, loaded and ready, while another live worker holds ``camera``; True once its
    lease is free or stale (the caller then claims it), False when ``stop`` was set first."""
    engine = make_engine(db_url)
    try:
        db = session_factory(engine)
        while not stop.is_set():
            with db() as s:
                beat = read_beats(s, [camera]).get(camera)
            if beat is None or not beat.held_by_other({os.getpid()}, utcnow(), STALE_AFTER_S):
                return True
            stop.wait(poll_s)
        return False
    finally:
        engine.dispose()
