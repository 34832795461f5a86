"""``FramePipeline``: one frame in, one ``FrameRecord`` out (detect → track → classify → attention → index).

No I/O here: the worker feeds frames and decides what to do with the records (store, publish).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from monitor.cameras import CameraConfig
from monitor.classify import MIN_FACE_PX, EmotionClassifier
from monitor.detect import FaceDetector
from monitor.detectors.regions import FULL_EVERY, region_detector, tracked_boxes
from monitor.engagement import NOT_READ_YET, EngagementIndex, RoomAttention, attention_of
from monitor.heads import WARMUP_S
from monitor.labels import EMOTIONS
from monitor.preprocess import crop_face
from monitor.stages import Detections, FrameRecord
from monitor.track import DEFAULT_TRACKER, ByteTracker, make_tracker


class FramePipeline:
    def __init__(
        self,
        detector: FaceDetector,
        classifier: EmotionClassifier | None,
        engagement: EngagementIndex,
        detect_every: int = 3,
        smoothing: float = 0.6,
        tracker: str = DEFAULT_TRACKER,
        camera: CameraConfig | None = None,
        classify_per_frame: int = 0,
        full_detect_every: int = FULL_EVERY,
    ) -> None:
        self.detector = detector
        # YuNet: between full passes, only the region around the tracked faces (monitor/detectors/regions.py)
        self.regions = region_detector(detector, full_detect_every)
        # The camera's set-up: its ROI drops detections; its class size and mounting go with the posture.
        self.camera = camera or CameraConfig()
        self.room = RoomAttention.for_camera(self.camera)
        self.classifier = classifier  # None: attention-only, no emotion inference at all
        self.engagement = engagement
        self.detect_every = max(detect_every, 1)
        self.smoothing = smoothing
        self.classify_per_frame = max(classify_per_frame, 0)  # 0: every face on every frame
        self.tracker = make_tracker(tracker, high_thresh=_lower_threshold(detector, tracker))
        self.frames = 0
        self._warm_since: datetime | None = None
        self._warm = False

    def set_classifier(self, classifier: EmotionClassifier | None) -> None:
        """Switch emotion inference on (a classifier) or off (None: attention-only) from the next frame."""
        self.classifier = classifier
        self.engagement.emotions = classifier is not None

    def process(self, image: np.ndarray, ts: datetime, frame_index: int) -> FrameRecord:
        if self.frames % self.detect_every == 0:
            tracked = self.tracker.update(self.camera.filter(self._detect(image), image.shape))
        else:
            tracked = self.tracker.coast()
        self.frames += 1
        tracks = self.tracker.tracks_of(tracked)  # each person's smoothed state
        n = len(tracked)
        boxes = tracked.boxes
        fresh = self._classify(image, tracks, boxes)
        readings = self.room.postures(image, tracks, boxes)
        postures = [h.posture for h in readings]
        attention = np.empty(n, np.float32)
        for i, t in enumerate(tracks):
            # attention follows the posture (up 1, down/away 0); an unknown head keeps its value (0 at first)
            value = attention_of(postures[i])
            t.smooth(fresh.get(i), (t.attention or 0.0) if value is None else value, self.smoothing)
            attention[i] = t.attention
        heads = self.room.summarise(postures)
        warming_up = self._warming_up(ts, readings)
        probs = None
        if self.classifier is not None:
            probs = np.array([t.probs for t in tracks], np.float32).reshape(n, len(EMOTIONS))
        return FrameRecord(
            ts=ts,
            frame_index=frame_index,
            track_ids=tracked.track_ids,
            boxes=boxes.round().astype(np.int64),
            attention=attention,
            probs=probs,
            engagement=self.engagement(attention, probs),
            postures=postures,
            heads_up=heads.heads_up,
            heads_down=heads.heads_down,
            turned_away=heads.turned_away,
            heads_up_count=heads.up,
            heads_down_count=heads.down,
            turned_away_count=heads.away,
            heads_unknown=heads.unknown,
            warming_up=warming_up,
        )

    def _detect(self, image: np.ndarray) -> Detections:
        if self.regions is None:
            return self.detector.detect(image)
        return self.regions.detect(image, tracked_boxes(self.tracker))

    def _warming_up(self, ts: datetime, readings: list) -> bool:
        """True for the first ``WARMUP_S`` seconds and until every head in view has been read once; then
        False for good (a newcomer later does not send the class back to "warming up")."""
        if self._warm_since is None:
            self._warm_since = ts
        if self._warm:
            return False
        elapsed = (ts - self._warm_since).total_seconds()
        if elapsed >= WARMUP_S and all(h.reason != NOT_READ_YET for h in readings):
            self._warm = True
        return not self._warm

    def _classify(self, image: np.ndarray, tracks: list, boxes: np.ndarray) -> dict[int, np.ndarray]:
        """Fresh emotion estimates for some faces of this frame, in one LiteRT call: {track index: probs}.

        With ``classify_per_frame`` = k, a new face is always classified, and of the others the k whose
        estimate is oldest: in a class of 25 each face is refreshed every few frames, and its smoothed
        probabilities carry it in between. Expressions change over seconds, so this bounds the CNN's cost
        per frame without changing the per-second timelines.

        A face whose box is smaller than the model can read (``min_face_px``) is not classified at all: its
        track's probabilities become a NaN row, which the store keeps as "no expression" and the engagement
        index leaves out; when it grows readable again its estimate starts afresh.
        """
        if self.classifier is None or not tracks:
            return {}
        min_side = getattr(self.classifier, "min_face_px", MIN_FACE_PX)
        readable = np.minimum(boxes[:, 2], boxes[:, 3]) >= min_side
        for i, t in enumerate(tracks):
            if not readable[i]:
                t.probs = np.full(len(EMOTIONS), np.nan, np.float32)
            elif t.probs is not None and np.isnan(t.probs).any():
                t.probs = None
        chosen = [i for i in range(len(tracks)) if readable[i]]
        if not chosen:
            return {}
        if self.classify_per_frame and len(chosen) > self.classify_per_frame:
            new = [i for i in chosen if tracks[i].probs is None]
            old = sorted(
                (i for i in chosen if tracks[i].probs is not None), key=lambda i: tracks[i].classified_at
            )
            chosen = new + old[: max(self.classify_per_frame - len(new), 0)]
        raw = self.classifier.predict([crop_face(image, boxes[i]) for i in chosen])
        for i in chosen:
            tracks[i].classified_at = self.frames
        return dict(zip(chosen, raw, strict=True))


def _lower_threshold(detector: FaceDetector, tracker: str) -> float | None:
    """For ByteTrack, let the detector pass low-score faces too; returns its own (high) threshold.

    A detector with a ``threshold`` attribute keeps its confident detections as before; those between
    ``ByteTracker.low_thresh`` and that threshold only ever extend tracks, never start one.
    """
    high = getattr(detector, "threshold", None)
    if tracker != "bytetrack" or not isinstance(high, float):
        return None
    detector.threshold = min(high, ByteTracker().low_thresh)
    return high
