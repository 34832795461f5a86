"""A lesson being recorded: its class session in the store and the pipeline that runs for it.

Each lesson gets its own pipeline, so track ids, smoothing and posture readings start afresh; a lesson that
continues a stopped worker's session (failover) carries frame indices and track ids on after the stored ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from monitor.classify import EmotionClassifier
from monitor.config import Settings
from monitor.detect import FaceDetector
from monitor.engagement import EngagementIndex
from monitor.live import frame_summary
from monitor.pipeline import FramePipeline
from monitor.stages import Frame, FrameRecord
from monitor.store import cameras as camera_store
from monitor.store.sessions import OpenedSession
from monitor.views.audience import Audience
from monitor.views.lesson import live_frame, recorded_mode


@dataclass
class Lesson:
    label: str
    session_id: int
    pipeline: FramePipeline
    frame_offset: int = 0
    track_offset: int = 0
    last_ts: datetime | None = None
    faces_in_view: int = 0
    recorded_mode: str = "attention"  # ClassSession.mode: "emotion" once the lesson ever ran with emotions

    @classmethod
    def begin(
        cls,
        db: sessionmaker,
        opened: OpenedSession,
        label: str,
        settings: Settings,
        detector: FaceDetector,
        classifier: EmotionClassifier | None,
    ) -> Lesson:
        """The lesson of a session just opened (or continued), with the camera's set-up of the moment."""
        camera = camera_store.setup_session(db, opened.camera_id, opened.session_id)  # class size, ROI
        pipeline = FramePipeline(
            detector,
            classifier,
            EngagementIndex(
                settings.engagement,
                camera.class_size or settings.expected_faces,
                emotions=classifier is not None,
            ),
            detect_every=settings.detect_every,
            smoothing=settings.smoothing,
            tracker=settings.tracker,
            camera=camera,
            classify_per_frame=settings.classify_per_frame,
            full_detect_every=settings.full_detect_every,
        )
        lesson = cls(label, opened.session_id, pipeline, opened.frame_offset, opened.track_offset)
        lesson.recorded_mode = recorded_mode(db, opened.session_id)  # a continued session keeps its own
        return lesson

    def process(self, frame: Frame) -> FrameRecord:
        record = self.pipeline.process(frame.image, frame.ts, frame.index + self.frame_offset)
        if self.track_offset:
            record.track_ids = record.track_ids + self.track_offset
        self.last_ts, self.faces_in_view = frame.ts, len(record.track_ids)
        return record

    def end(self) -> int:
        """The lesson's track count (posture-v1 does not use the front of the room: nothing is learned)."""
        return self.pipeline.tracker.ids_issued

    def switched_to(self, mode: str) -> None:
        """The worker now runs in ``mode``: a lesson that ever ran with emotions stays recorded so."""
        if mode == "emotion":
            self.recorded_mode = "emotion"

    def published_frame(self, camera_id: int, record: FrameRecord, mode: str, audience: Audience) -> dict:
        """What the worker publishes live: ``live_payload`` under the same per-lesson filter as the
        dashboard's poller (``monitor.views.lesson.live_frame``)."""
        return live_frame(audience, self.recorded_mode, self.live_payload(camera_id, record, mode))

    def live_payload(self, camera_id: int, record: FrameRecord, mode: str) -> dict:
        """The live-feed summary of a processed frame (the site's privacy rules apply on top)."""
        tracks = [
            {
                "track_id": int(record.track_ids[i]),
                "box": record.boxes[i].tolist(),
                "attention": float(record.attention[i]),
                "probs": None if record.probs is None else record.probs[i].tolist(),
                "posture": None if record.postures is None else record.postures[i],
            }
            for i in range(len(record.track_ids))
        ]
        return frame_summary(
            camera_id=camera_id,
            session_id=self.session_id,
            ts=record.ts,
            frame_index=record.frame_index,
            tracks=tracks,
            engagement=record.engagement,
            mode=mode,
            heads_up=record.heads_up,
            warming_up=record.warming_up,
        )
