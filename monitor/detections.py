"""``Detections``: the small typed value passed between detection, tracking and classification."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Detections:
    """Faces in one frame: boxes as float ``(n, 4)`` x, y, w, h in pixels, with optional extras.

    ``keypoints`` is ``(n, 6, 2)`` (BlazeFace: right eye, left eye, nose tip, mouth, right ear, left ear)
    or None when the detector gives none (Haar). ``track_ids`` is filled in by the tracker.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray | None = None
    track_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.empty((0, 4), np.float32), np.empty(0, np.float32))

    def __len__(self) -> int:
        return len(self.boxes)
