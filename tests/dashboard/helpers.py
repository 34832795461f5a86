"""Helpers for the dashboard tests: store frames through the real writer, add cameras, lessons and users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from dashboard.auth import hash_password
from monitor.store import make_engine, session_factory
from monitor.store.schema import Camera, CameraAssignment, ClassSession, User, WorkerStatus
from monitor.store.site_settings import set_setting
from monitor.store.writer import FrameRecord, ObservationWriter

PASSWORD = "correct horse 42"


def write_frames(
    engine: Engine,
    session_id: int,
    camera_id: int,
    start: datetime,
    seconds: float,
    tracks: int = 3,
    fps: float = 2.0,
    emotion: bool = True,
    first_frame: int = 0,
    seed: int = 0,
) -> int:
    """Store ``seconds`` of frames through the real ObservationWriter; returns the next frame index."""
    rng = np.random.default_rng(seed)
    writer = ObservationWriter(engine, session_id, camera_id, interval_s=3600)
    n_frames = int(seconds * fps)
    for i in range(n_frames):
        ids = np.arange(1, tracks + 1)
        writer.add(
            FrameRecord(
                ts=start + timedelta(seconds=i / fps),
                frame_index=first_frame + i,
                track_ids=ids,
                boxes=np.tile([10, 20, 40, 40], (tracks, 1)) + ids[:, None] * 50,
                attention=(attention := rng.uniform(0.2, 1.0, tracks)),
                probs=rng.dirichlet(np.ones(7), tracks) if emotion else None,
                engagement=float(rng.uniform(0.3, 0.9)),
                postures=["up" if a >= 0.5 else "down" for a in attention],
            )
        )
    writer.close()
    return first_frame + n_frames


class World:
    """A database with helpers to add cameras, lessons and users."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url, writer=True)
        self.Session = session_factory(self.engine)

    def camera(self, name: str, status: str = "online") -> int:
        with self.Session.begin() as db:
            cam = Camera(name=name, status=status, last_heartbeat=datetime.now(UTC))
            db.add(cam)
            db.flush()
            return cam.id

    def lesson(
        self,
        camera_id: int,
        label: str = "Maths",
        start: datetime | None = None,
        seconds: float = 60,
        tracks: int = 3,
        running: bool = False,
        mode: str = "emotion",
    ) -> int:
        start = start or datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
        with self.Session.begin() as db:
            cs = ClassSession(
                camera_id=camera_id,
                label=label,
                started_at=start,
                ended_at=None if running else start + timedelta(seconds=seconds),
                mode=mode,
            )
            db.add(cs)
            db.flush()
            sid = cs.id
            if running:
                ws = db.get(WorkerStatus, camera_id) or WorkerStatus(camera_id=camera_id)
                ws.state, ws.session_id, ws.faces_in_view = "running", sid, tracks
                db.add(ws)
        if seconds:
            write_frames(
                self.engine, sid, camera_id, start, seconds, tracks=tracks, emotion=mode == "emotion"
            )
        return sid

    def user(self, name: str, admin: bool = False, cameras: tuple[int, ...] = ()) -> int:
        with self.Session.begin() as db:
            u = User(username=name, password_hash=hash_password(PASSWORD), is_admin=admin)
            db.add(u)
            db.flush()
            for cid in cameras:
                db.add(CameraAssignment(user_id=u.id, camera_id=cid))
            return u.id

    def setting(self, key: str, value) -> None:
        with self.Session.begin() as db:
            set_setting(db, key, value)


def csrf_of(client) -> str:
    with client.session_transaction() as s:
        return s.get("csrf_token", "")


def log_in(client, name: str, password: str = PASSWORD):
    client.get("/login")
    return client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(client)})
