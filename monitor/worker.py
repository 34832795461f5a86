"""``CaptureWorker``: one camera → faces → tracks → emotions and attention → the store (and the live feed).

One process per camera (Frigate's shape). The loop reads a frame, detects faces every ``detect_every``
frames and tracks in between, classifies all tracked faces in one LiteRT call, smooths per track, scores
attention and the class engagement index, and hands the frame to the batched writer. Stopping (end of
source, ``max_frames``, SIGINT/SIGTERM) writes everything still queued and closes the class session.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from monitor.capture import FrameSource, SourceError
from monitor.classify import EmotionClassifier, ModelError
from monitor.config import Settings
from monitor.detect import make_detector
from monitor.engagement import EngagementIndex
from monitor.live import LivePublisher, frame_summary
from monitor.pipeline import FramePipeline
from monitor.privacy import Privacy
from monitor.registry import active_model_dir, active_version
from monitor.store import DatabaseError, make_engine, session_factory, sessions
from monitor.store import cameras as camera_store
from monitor.store.queries import PeopleInView, people_in_view
from monitor.store.site_settings import SITE_POLL_S, all_settings, effective_mode
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
    people: PeopleInView | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (
            f"camera {self.camera}: session {self.session_id} closed, {self.frames} frames, "
            f"{self.faces} observations, {self.tracks} tracks, "
            f"people in view: {self.people.text() if self.people else 'none stored'}, "
            f"{self.fps:.1f} fps ({self.mode} mode)"
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
            site = all_settings(db)
        # The stricter wins: an admin's attention-only setting cannot be overridden by a worker flag.
        self.mode = effective_mode(settings.mode, site["mode"])
        self.modes_run = [self.mode]
        self.privacy = Privacy.from_settings(site)
        self.lease_token = sessions.new_lease_token()
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
        source = self.source.spec if self.source.kind != "file" else Path(self.source.spec).name
        try:
            opened = sessions.open_session(
                self.db,
                camera_name=self.camera_name,
                source=source,
                label=self.session_label,
                mode=self.mode,
                model_version=self.classifier.version if self.classifier else None,
                detector=self.detector.name,
                token=self.lease_token,
            )
        except sessions.CameraBusy as exc:
            raise WorkerError(f"camera {self.camera_name}: {exc}") from exc
        for sid in opened.closed_stale:
            log.info("camera %s: closed session %d left open by a stopped worker", self.camera_name, sid)
        return opened.camera_id, opened.session_id, opened.started_at

    def _apply_site_settings(self, session_id: int) -> None:
        """Follow the site's privacy settings while running: an admin's change applies within seconds."""
        with self.db() as db:
            site = all_settings(db)
        self.privacy = Privacy.from_settings(site)
        mode = effective_mode(self.settings.mode, site["mode"])
        if mode == self.mode:
            return
        if mode == "emotion":
            try:
                self.classifier = self._load_classifier(self._explicit_model)
            except ModelError as exc:
                log.error("camera %s: emotion mode needs a model: %s", self.camera_name, exc)
                return
        else:
            self.classifier = None  # attention-only: no emotion inference from the next frame on
        self.pipeline.set_classifier(self.classifier)
        self.mode = mode
        self.modes_run.append(mode)
        sessions.record_mode(self.db, session_id, mode, self.classifier.version if self.classifier else None)
        log.info("camera %s: switched to %s mode (site setting)", self.camera_name, mode)

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
        camera = camera_store.setup_session(self.db, camera_id, session_id)  # class size, front, ROI
        self.writer = writer = ObservationWriter(
            self.engine, session_id, camera_id, self.settings.batch_interval_s, lease_token=self.lease_token
        )
        pipeline = self.pipeline = FramePipeline(
            self.detector,
            self.classifier,
            EngagementIndex(
                self.settings.engagement,
                camera.class_size or self.settings.expected_faces,
                emotions=self.classifier is not None,
            ),
            detect_every=self.settings.detect_every,
            smoothing=self.settings.smoothing,
            tracker=self.settings.tracker,
            camera=camera,
            classify_per_frame=self.settings.classify_per_frame,
        )
        started = time.monotonic()
        faces = 0
        last_beat = last_poll = last_site_poll = started
        recent: deque[float] = deque(maxlen=FPS_WINDOW)
        last_ts = started_at
        try:
            for frame in self.source.frames(start=started_at):
                record = pipeline.process(frame.image, frame.ts, frame.index)
                writer.add(record)
                if self.publisher is not None:
                    self.publisher.publish(
                        self.privacy.live_frame(self._summary(camera_id, session_id, record))
                    )
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
                if now - last_site_poll >= SITE_POLL_S:
                    self._apply_site_settings(session_id)
                    last_site_poll = now
                if writer.lease_lost:
                    raise WorkerError(f"camera {self.camera_name}: another worker took this camera over")
                if now - last_poll >= MODEL_POLL_S:
                    self._maybe_reload_model()
                    last_poll = now
                if self.max_frames and pipeline.frames >= self.max_frames:
                    break
        finally:
            writer.close()
            camera_store.keep_learned_front(self.db, camera_id, pipeline.room.calibrator.learned)
            self._close_session(camera_id, session_id, pipeline.frames, last_ts)
        with self.db() as db:
            people = people_in_view(db, session_id)
        return WorkerSummary(
            self.camera_name,
            session_id,
            pipeline.frames,
            faces,
            pipeline.tracker.ids_issued,
            time.monotonic() - started,
            " -> ".join(self.modes_run),
            people,
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
            heads_up=record.heads_up,
        )

    def _close_session(self, camera_id: int, session_id: int, frames: int, last_ts: datetime) -> None:
        sessions.close_session(
            self.db,
            camera_id=camera_id,
            session_id=session_id,
            frames=frames,
            last_ts=last_ts,
            token=self.lease_token,
        )
        self.engine.dispose()


__all__ = ["CaptureWorker", "WorkerError", "WorkerSummary", "SourceError", "ModelError"]
