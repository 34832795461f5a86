"""``CaptureWorker``: one camera → faces → tracks → emotions and attention → the store (and the live feed).

One process per camera (Frigate's shape). The loop reads a frame, detects faces every ``detect_every``
frames and tracks in between, classifies all tracked faces in one LiteRT call, smooths per track, scores
attention and the class engagement index, and hands the frame to the batched writer. Stopping (end of
source, ``max_frames``, SIGINT/SIGTERM) writes everything still queued and closes the class session.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from monitor.capture import FrameSource, SourceError
from monitor.classify import EmotionClassifier, ModelError
from monitor.config import Settings
from monitor.detect import make_detector
from monitor.engagement import EngagementIndex
from monitor.live import LivePublisher, frame_summary
from monitor.pipeline import FramePipeline
from monitor.registry import active_model_dir, active_version
from monitor.store import DatabaseError, make_engine, session_factory
from monitor.store.schema import Camera, ClassSession, WorkerStatus
from monitor.store.site_settings import get_setting
from monitor.store.writer import FrameRecord, ObservationWriter

log = logging.getLogger(__name__)
HEARTBEAT_S = 1.0
FPS_WINDOW = 120  # frames over which the heartbeat's fps is measured
MODEL_POLL_S = 5.0


class WorkerError(Exception):
    """A worker that cannot start; the message is meant for the user."""


@dataclass
class WorkerSummary:
    camera: str
    session_id: int
    frames: int
    faces: int
    tracks: int
    seconds: float
    mode: str

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"camera {self.camera}: session {self.session_id} closed, {self.frames} frames, "
            f"{self.faces} faces, {self.tracks} tracks, {self.fps:.1f} fps ({self.mode} mode)"
        )


class CaptureWorker:
    def __init__(
        self,
        settings: Settings,
        camera: str,
        source: str,
        session_label: str | None = None,
        max_frames: int | None = None,
        model: Path | None = None,
        loop: bool = False,
        realtime: bool = False,
    ) -> None:
        self.settings = settings
        self.camera_name = camera
        self.max_frames = max_frames
        self.stop_event = threading.Event()
        self.engine = make_engine(settings.db_url, writer=True)
        self.db = session_factory(self.engine)
        self._check_schema()
        with self.db() as db:
            site_mode = get_setting(db, "mode")
        # The stricter wins: an admin's attention-only setting cannot be overridden by a worker flag.
        self.mode = "attention" if "attention" in (settings.mode, site_mode) else "emotion"
        self.classifier: EmotionClassifier | None = None
        self._explicit_model = model
        if self.mode == "emotion":
            self.classifier = self._load_classifier(model)
        self.detector = make_detector(settings.detector)
        self.source = FrameSource(
            source,
            sample_fps=settings.sample_fps,
            loop=loop,
            realtime=realtime,
            read_timeout_s=settings.read_timeout_s,
            reconnect_max_s=settings.reconnect_max_s,
            on_status=self._on_source_status,
            stop_event=self.stop_event,
        )
        self.session_label = session_label or f"{camera} {datetime.now().strftime('%Y-%m-%d %H:%M')}"
        self.publisher = LivePublisher(settings.redis_url) if settings.redis_url else None
        self.writer: ObservationWriter | None = None
        self.pipeline: FramePipeline | None = None

    def _check_schema(self) -> None:
        try:
            with self.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
        except (OperationalError, DatabaseError, SQLAlchemyError) as exc:
            raise WorkerError(f"cannot open database: {exc}") from exc
        if "observations" not in tables:
            raise WorkerError("database has no schema yet: run `classroom-monitor db upgrade` first")

    def _load_classifier(self, model: Path | None) -> EmotionClassifier:
        if model is None:
            with self.db() as db:
                model = active_model_dir(db, self.settings.models_dir)
        return EmotionClassifier(model, precision=self.settings.model_precision)

    def request_stop(self) -> None:
        self.stop_event.set()

    def _on_source_status(self, status: str, detail: str) -> None:
        log.info("camera %s: %s (%s)", self.camera_name, status, detail)
        if self.writer is not None:
            self.writer.set_camera_status(status, detail)

    def _start_session(self) -> tuple[int, int, datetime]:
        now = datetime.now(UTC)
        with self.db.begin() as db:
            cam = db.scalar(select(Camera).where(Camera.name == self.camera_name))
            if cam is None:
                cam = Camera(name=self.camera_name)
                db.add(cam)
            cam.source = self.source.spec if self.source.kind != "file" else Path(self.source.spec).name
            cam.status, cam.status_detail, cam.last_heartbeat = "online", "worker started", now
            db.flush()
            # A session left open by a killed worker is closed at its last stored second.
            for stale in db.scalars(
                select(ClassSession).where(ClassSession.camera_id == cam.id, ClassSession.ended_at.is_(None))
            ):
                stale.ended_at = now
            cs = ClassSession(
                camera_id=cam.id,
                label=self.session_label,
                started_at=now,
                mode=self.mode,
                model_version=self.classifier.version if self.classifier else None,
                detector=self.detector.name,
            )
            db.add(cs)
            ws = db.get(WorkerStatus, cam.id) or WorkerStatus(camera_id=cam.id)
            ws.pid, ws.hostname, ws.state, ws.started_at = os.getpid(), socket.gethostname(), "running", now
            ws.frames, ws.faces_in_view, ws.fps, ws.message = 0, 0, None, None
            ws.model_version = cs.model_version
            db.add(ws)
            db.flush()
            return cam.id, cs.id, now

    def _maybe_reload_model(self) -> None:
        """Switch to a newly activated model version without a restart."""
        if self.classifier is None or self._explicit_model is not None:
            return
        with self.db() as db:
            active = active_version(db)
        if active is None or active[0] == self.classifier.version:
            return
        try:
            self.classifier = self.pipeline.classifier = EmotionClassifier(
                active[1], precision=self.settings.model_precision
            )
            log.info("camera %s: switched to model %s", self.camera_name, active[0])
        except ModelError as exc:
            log.error("camera %s: cannot load activated model %s: %s", self.camera_name, active[0], exc)

    def run(self) -> WorkerSummary:
        camera_id, session_id, started_at = self._start_session()
        self.writer = writer = ObservationWriter(
            self.engine, session_id, camera_id, self.settings.batch_interval_s
        )
        pipeline = self.pipeline = FramePipeline(
            self.detector,
            self.classifier,
            EngagementIndex(
                self.settings.engagement, self.settings.expected_faces, emotions=self.classifier is not None
            ),
            detect_every=self.settings.detect_every,
            smoothing=self.settings.smoothing,
        )
        started = time.monotonic()
        faces = 0
        last_beat = last_poll = started
        recent: deque[float] = deque(maxlen=FPS_WINDOW)
        last_ts = started_at
        try:
            for frame in self.source.frames(start=started_at):
                record = pipeline.process(frame.image, frame.ts, frame.index)
                writer.add(record)
                if self.publisher is not None:
                    self.publisher.publish(self._summary(camera_id, session_id, record))
                last_ts = frame.ts
                faces += len(record.track_ids)
                now = time.monotonic()
                recent.append(now)
                if now - last_beat >= HEARTBEAT_S:
                    span = recent[-1] - recent[0]
                    writer.set_worker_status(
                        state="running",
                        session_id=session_id,
                        frames=pipeline.frames,
                        faces_in_view=len(record.track_ids),
                        fps=(len(recent) - 1) / span if span else None,
                        model_version=self.classifier.version if self.classifier else None,
                    )
                    last_beat = now
                if now - last_poll >= MODEL_POLL_S:
                    self._maybe_reload_model()
                    last_poll = now
                if self.max_frames and pipeline.frames >= self.max_frames:
                    break
        finally:
            writer.close()
            self._close_session(camera_id, session_id, pipeline.frames, last_ts)
        return WorkerSummary(
            self.camera_name,
            session_id,
            pipeline.frames,
            faces,
            pipeline.tracker.ids_issued,
            time.monotonic() - started,
            self.mode,
        )

    def _summary(self, camera_id: int, session_id: int, record: FrameRecord) -> dict:
        tracks = [
            {
                "track_id": int(record.track_ids[i]),
                "box": record.boxes[i].tolist(),
                "attention": float(record.attention[i]),
                "probs": None if record.probs is None else record.probs[i].tolist(),
            }
            for i in range(len(record.track_ids))
        ]
        return frame_summary(
            camera_id=camera_id,
            session_id=session_id,
            ts=record.ts,
            frame_index=record.frame_index,
            tracks=tracks,
            engagement=record.engagement,
            mode=self.mode,
        )

    def _close_session(self, camera_id: int, session_id: int, frames: int, last_ts: datetime) -> None:
        now = datetime.now(UTC)
        with self.db.begin() as db:
            cs = db.get(ClassSession, session_id)
            cs.ended_at = max(now, last_ts)  # a file's timestamps run at its own pace
            cam = db.get(Camera, camera_id)
            cam.status, cam.status_detail, cam.last_heartbeat = "offline", "worker stopped", now
            ws = db.get(WorkerStatus, camera_id)
            if ws is not None:
                ws.state, ws.frames, ws.faces_in_view, ws.last_heartbeat = "stopped", frames, 0, now
        self.engine.dispose()


__all__ = ["CaptureWorker", "WorkerError", "WorkerSummary", "SourceError", "ModelError"]
