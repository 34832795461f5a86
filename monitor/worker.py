"""``CaptureWorker``: one camera's loop: read a frame, run the pipeline, hand the record to the writer.

One process per camera (Frigate's shape); the supervisor, timetables and tests drive it through the
constructor, ``run()`` and ``request_stop()``. The rest lives where it belongs: the camera's lease and its
sessions in the store (``monitor.store.sessions``), the mode in ``monitor.mode_policy``, the model in the
registry (``ModelWatcher``), when to record in the ``schedule`` (``monitor.schedule``), the heartbeat's
figures in ``monitor.meters``. Stopping (end of source, ``max_frames``, ``request_stop`` on SIGINT/SIGTERM)
writes everything still queued, closes the class session and frees the camera.

A camera (stream or webcam) may be unreachable when its lesson is due: the worker then holds the camera and
says so in its heartbeat (capture state, reason, since when), and opens the lesson only with the first frame,
so that no empty lesson claims to be in progress. Frames the database refused are counted in the summary.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from monitor import gc_tuning
from monitor.capture import FrameFeed, FrameSource, SourceError
from monitor.classify import ModelError
from monitor.config import Settings
from monitor.detect import make_detector
from monitor.lesson import Lesson
from monitor.live import LivePublisher
from monitor.meters import FpsMeter
from monitor.mode_policy import ModePolicy
from monitor.pipeline import FramePipeline
from monitor.registry import ModelWatcher
from monitor.schedule import SCHEDULE_POLL_S, Schedule
from monitor.source_mask import mask_source
from monitor.stages import Frame
from monitor.store import DatabaseError, make_engine, session_factory, sessions
from monitor.store.db import read_sessions
from monitor.store.queries import PeopleInView, people_in_view
from monitor.store.writer import MAX_PENDING_FRAMES, ObservationWriter

log = logging.getLogger(__name__)
HEARTBEAT_S = 1.0
WAIT_S = 0.25
"""Longest the loop waits for a frame (or idles) before it looks at the schedule, the stop flag, the beat."""


class WorkerError(Exception):
    """A worker that cannot start or go on; the message is meant for the user."""


@dataclass
class WorkerSummary:
    camera: str
    session_id: int | None  # the last session recorded
    frames: int
    faces: int
    tracks: int
    seconds: float
    mode: str
    people: PeopleInView | None = None
    sessions: list[int] = field(default_factory=list)
    dropped: int = 0  # frames a live source delivered while the worker was busy, skipped
    frames_lost: int = 0  # processed but never stored: the database refused them
    store_error: str | None = None
    no_session: str = "outside timetable"  # why no session was recorded, when none was
    left_open: bool = False  # the database refused to close the last session

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        if len(self.sessions) > 1:
            closed = f"sessions {', '.join(map(str, self.sessions))} closed"
        elif self.session_id is not None:
            closed = f"session {self.session_id} {'left open' if self.left_open else 'closed'}"
        else:
            closed = f"no session ({self.no_session})"
        return (
            f"camera {self.camera}: {closed}, {self.frames} frames, "
            f"{self.faces} observations, {self.tracks} tracks, "
            f"people in view: {self.people.text() if self.people else 'none stored'}, "
            f"{self.fps:.1f} fps ({self.mode} mode), {self.dropped} frames dropped"
            + (f", {self.frames_lost} frames NOT STORED" if self.frames_lost else "")
        )

    def loss(self) -> str | None:
        """One line for the user when processed frames were not stored; None when all were."""
        if not self.frames_lost:
            return None
        stored = self.frames - self.frames_lost
        return (
            f"camera {self.camera}: {self.frames_lost} of {self.frames} processed frames were not stored "
            f"({stored} stored): {self.store_error or 'the database refused them'}"
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
        schedule: Schedule | None = None,
        max_pending_frames: int = MAX_PENDING_FRAMES,
    ) -> None:
        """``schedule`` None: record from start to stop. With a schedule: record only within its periods,
        one session each, labelled by the period; between them hold the camera, idle.
        ``max_pending_frames``: frames kept in memory while the database refuses writes."""
        self.settings = settings
        self.camera_name = camera
        self.max_frames = max_frames
        self.schedule = schedule
        self.max_pending_frames = max_pending_frames
        self.stop_event = threading.Event()
        self.engine = make_engine(settings.db_url, writer=True)
        self.db = session_factory(self.engine)
        # Polls only read: they must not queue for the write lock behind this or another worker's writes.
        self.reads = read_sessions(self.engine)
        self._check_schema()
        self.policy = ModePolicy(self.reads, settings.mode)
        self.models = ModelWatcher(
            self.reads, models_dir=settings.models_dir, precision=settings.model_precision, explicit=model
        )
        self.classifier = self.models.load() if self.policy.mode == "emotion" else None
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
        # A label that names a lesson (typed, or from the schedule) is continued by a worker taking over
        # the camera; the default one names this worker's start, so a new worker starts a new session.
        self._resume = session_label is not None or schedule is not None
        self.session_label = session_label or f"{camera} {datetime.now().strftime('%Y-%m-%d %H:%M')}"
        self.publisher = LivePublisher(settings.redis_url) if settings.redis_url else None
        self.lease_token = sessions.new_lease_token()
        self.camera_id: int | None = None
        self.writer: ObservationWriter | None = None
        self.pipeline: FramePipeline | None = None  # the last lesson's
        self.lesson: Lesson | None = None
        self.feed: FrameFeed | None = None
        # The lesson that should be recording now (None: outside the timetable); with a camera that can be
        # unreachable it is opened at its first frame.
        self._due: str | None = None
        self._left_open = False
        self._waits_for_frames = self.source.kind in ("stream", "webcam")
        self.sessions_run: list[int] = []
        self.frames = self.faces = self.tracks = 0
        self.fps = FpsMeter()
        self._last_beat = float("-inf")

    @property
    def mode(self) -> str:
        return self.policy.mode

    def request_stop(self) -> None:
        self.stop_event.set()

    def _check_schema(self) -> None:
        try:
            with self.engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
        except (OperationalError, DatabaseError, SQLAlchemyError) as exc:
            raise WorkerError(f"cannot open database: {exc}") from exc
        if "observations" not in tables:
            raise WorkerError("database has no schema yet: run `classroom-monitor db upgrade` first")

    def _on_source_status(self, status: str, detail: str) -> None:
        log.info("camera %s: %s (%s)", self.camera_name, status, detail)
        if self.writer is not None:
            self.writer.set_camera_status(status, detail)
        self._last_beat = float("-inf")  # the heartbeat says so at once

    def run(self) -> WorkerSummary:
        started = time.monotonic()
        start = None
        try:
            if self.schedule is None and not self._waits_for_frames:
                start = self._open(self.session_label).data_from  # a file's timestamps count from here
            else:
                self._take_camera()
                if self.schedule is None:
                    self._due = self.session_label  # opened with the camera's first frame
            self.feed = self.source.feed(start)
            gc_tuning.settle()  # start-up is done: what is loaded now lives as long as the process
            self._loop(self.feed)
        finally:
            self._finish()
        return self._summary(time.monotonic() - started)

    def _loop(self, feed: FrameFeed) -> None:
        next_look = 0.0
        while not self.stop_event.is_set():
            if self.writer.lease_lost:
                raise WorkerError(f"camera {self.camera_name}: another worker took this camera over")
            now = time.monotonic()
            if self.schedule is not None and now >= next_look:
                self._follow_schedule()
                next_look = now + SCHEDULE_POLL_S
            if self.lesson is None and self._due is None:
                # outside the timetable: no frame is looked at, let alone stored
                feed.clear()
                self._beat(now)
                self.stop_event.wait(WAIT_S)
                continue
            captured = feed.get(WAIT_S)
            if captured is None:
                if feed.ended:
                    return
                self._beat(time.monotonic())
                continue
            if self.lesson is None:  # the lesson is due and its camera has sent the first frame
                self._open(self._due)
            self._process(*captured)
            now = time.monotonic()
            self._beat(now)
            self._follow_site(now)
            self._follow_model(now)
            if self.max_frames and self.frames >= self.max_frames:
                return

    def _process(self, frame: Frame, captured: float) -> None:
        record = self.lesson.process(frame)
        self.writer.add(record, captured)
        if self.publisher is not None:
            summary = self.lesson.published_frame(self.camera_id, record, self.mode, self.policy.audience)
            self.publisher.publish(summary)
        self.frames += 1
        self.faces += len(record.track_ids)
        self.fps.tick(time.monotonic())

    def _beat(self, now: float) -> None:
        """Heartbeat figures for ``worker_status``, written with the writer's next batch."""
        if now - self._last_beat < HEARTBEAT_S:
            return
        self._last_beat = now
        p50, p95 = self.writer.latency.percentiles_ms(now)
        lesson = self.lesson
        capture = self.source.capture
        if lesson is not None:
            message = None
        elif self._due is not None:
            message = "lesson due: waiting for the camera's first frame"
        else:
            message = sessions.IDLE_MESSAGE
        self.writer.set_worker_status(
            state="running" if lesson or self._due else "idle",
            session_id=lesson.session_id if lesson else None,
            message=message,
            capture_state=capture.state,
            capture_detail=capture.reason,
            capture_since=capture.since,
            frames=self.frames,
            faces_in_view=lesson.faces_in_view if lesson else 0,
            fps=self.fps.fps if lesson else None,
            model_version=self.classifier.version if self.classifier else None,
            frames_dropped=self.feed.dropped if self.feed else 0,
            decode_ms_per_frame=self.source.decode_ms_per_frame,
            frames_skipped=self.source.frames_skipped,
            latency_p50_ms=p50,
            latency_p95_ms=p95,
        )

    # -- sessions: the store keeps them; the worker says when -------------------------------------------

    def _take_camera(self) -> None:
        try:
            self.camera_id = sessions.take_camera(
                self.db, camera_name=self.camera_name, source=self._source_name(), token=self.lease_token
            )
        except sessions.CameraBusy as exc:
            raise WorkerError(f"camera {self.camera_name}: {exc}") from exc
        self._start_writer()
        if not self.source.capture.online:  # unreachable from the start: the capture thread says it anew
            self.writer.set_camera_status(self.source.capture.state, self.source.capture.reason)

    def _start_writer(self) -> None:
        if self.writer is None:
            self.writer = ObservationWriter(
                self.engine,
                None,
                self.camera_id,
                self.settings.batch_interval_s,
                lease_token=self.lease_token,
                max_pending_frames=self.max_pending_frames,
            )

    def _source_name(self) -> str:
        """The source as stored on the camera row: a file's name, a URL with its credentials masked."""
        return mask_source(self.source.spec) if self.source.kind != "file" else Path(self.source.spec).name

    def _follow_schedule(self) -> None:
        period = self.schedule(datetime.now(UTC))
        label = period.label if period else None
        self._due = label
        if self.lesson is not None and self.lesson.label != label:
            self._close_lesson()
        if label is not None and self.lesson is None and not self._waits_for_frames:
            self._open(label)

    def _open(self, label: str) -> sessions.OpenedSession:
        try:
            opened = sessions.open_session(
                self.db,
                camera_name=self.camera_name,
                source=self._source_name(),
                label=label,
                mode=self.mode,
                model_version=self.classifier.version if self.classifier else None,
                detector=self.detector.name,
                token=self.lease_token,
                resume_within_s=sessions.RESUME_WITHIN_S if self._resume else None,
            )
        except sessions.CameraBusy as exc:
            raise WorkerError(f"camera {self.camera_name}: {exc}") from exc
        for sid in opened.closed_stale:
            log.info("camera %s: closed session %d left open by a stopped worker", self.camera_name, sid)
        if opened.resumed:
            log.info(
                "camera %s: continues session %d of a stopped worker", self.camera_name, opened.session_id
            )
        self.camera_id = opened.camera_id
        self._start_writer()
        self.lesson = Lesson.begin(self.db, opened, label, self.settings, self.detector, self.classifier)
        self.pipeline = self.lesson.pipeline
        self.writer.begin_session(opened.session_id)
        self.sessions_run.append(opened.session_id)
        self._last_beat = float("-inf")  # say so at once
        log.info("camera %s: session %d (%s) open", self.camera_name, opened.session_id, label)
        return opened

    def _end_lesson(self) -> Lesson | None:
        lesson, self.lesson = self.lesson, None
        if lesson is None:
            return None
        self.writer.begin_session(None)  # frames already queued keep their session
        self.tracks += lesson.end()
        return lesson

    def _close_lesson(self) -> None:
        """A period is over: store what is queued, end the session, keep the camera (idle)."""
        self.writer.flush()
        lesson = self._end_lesson()
        sessions.end_session(
            self.db,
            camera_id=self.camera_id,
            session_id=lesson.session_id,
            frames=self.frames,
            last_ts=lesson.last_ts or datetime.now(UTC),
            token=self.lease_token,
        )
        self._last_beat = float("-inf")
        log.info("camera %s: session %d closed (%s over)", self.camera_name, lesson.session_id, lesson.label)

    def _finish(self) -> None:
        if self.feed is not None:
            self.feed.close()
        if self.writer is not None:
            self.writer.close()
        try:
            if self.camera_id is not None:
                lesson = self._end_lesson()
                sessions.close_session(
                    self.db,
                    camera_id=self.camera_id,
                    session_id=lesson.session_id if lesson else None,
                    frames=self.frames,
                    last_ts=lesson.last_ts if lesson else None,
                    token=self.lease_token,
                )
        except OperationalError as exc:
            if not (self.writer and self.writer.frames_lost):
                raise
            # The database that refused the frames refuses the close too: the loss is what to report (the
            # next worker closes the session at its last data).
            log.error("camera %s: session not closed: %s", self.camera_name, exc.orig)
            self._left_open = True
        finally:
            self.engine.dispose()

    # -- what follows the site and the registry while running ---------------------------------------------

    def _follow_site(self, now: float) -> None:
        """An admin's privacy change applies within seconds."""
        mode = self.policy.poll(now)
        if mode is None:
            return
        classifier = None  # attention-only: no emotion inference from the next frame on
        if mode == "emotion":
            try:
                classifier = self.models.load()
            except ModelError as exc:
                log.error("camera %s: emotion mode needs a model: %s", self.camera_name, exc)
                return
        self._use(classifier)
        self.policy.switched(mode)
        if self.lesson is not None:
            self.lesson.switched_to(mode)
            sessions.record_mode(
                self.db, self.lesson.session_id, mode, classifier.version if classifier else None
            )
        log.info("camera %s: switched to %s mode (site setting)", self.camera_name, mode)

    def _follow_model(self, now: float) -> None:
        """A newly activated model version is used without a restart."""
        try:
            newer = self.models.changed(self.classifier, now)
        except ModelError as exc:
            log.error("camera %s: cannot load the activated model: %s", self.camera_name, exc)
            return
        if newer is not None:
            self._use(newer)
            log.info("camera %s: switched to model %s", self.camera_name, newer.version)

    def _use(self, classifier) -> None:
        self.classifier = classifier
        if self.lesson is not None:
            self.lesson.pipeline.set_classifier(classifier)

    def _summary(self, seconds: float) -> WorkerSummary:
        last = self.sessions_run[-1] if self.sessions_run else None
        people = None
        if last is not None:
            with self.reads() as db:
                people = people_in_view(db, last)
        return WorkerSummary(
            self.camera_name,
            last,
            self.frames,
            self.faces,
            self.tracks,
            seconds,
            self.policy.text(),
            people,
            list(self.sessions_run),
            self.feed.dropped if self.feed else 0,
            frames_lost=self.writer.frames_lost if self.writer else 0,
            store_error=self.writer.store_error if self.writer else None,
            no_session="outside timetable" if self.schedule else "the camera sent no frame",
            left_open=self._left_open,
        )


__all__ = ["CaptureWorker", "WorkerError", "WorkerSummary", "SourceError", "ModelError"]
