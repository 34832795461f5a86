"""YuNet (libfacedetection, BSD-3-Clause) through the ``yuface`` package, whose compiled library holds the
weights: no model file is read and nothing is downloaded.

libfacedetection runs its CNN at the image's own resolution and finds faces from about 10 px up. Frames are
resized to about ``work_width`` pixels wide first: a 640x360 classroom frame is enlarged 1.5x, which lifts
its 8-14 px back-row faces into range, and a 1280x720 frame is shrunk to 960 wide, which keeps its 20 px
faces and halves the cost. The scale stays within ``[min_scale, max_scale]`` so that a 1080p frame keeps
20 px faces (at 2/3, 13 px) and a tiny frame is not blown up beyond 2x.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from monitor.detectors.base import DetectorError, five_to_six, merge
from monitor.stages import Detections


def _load_yuface():
    # yuface's bundled OpenMP runtime busy-waits between parallel regions by default; on the worker's two
    # shared cores that spinning starves the other stages, so let idle threads sleep (set before loading).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        # The compiled function itself: yuface.detect only wraps it with a per-call warning on frames wider
        # than 960 px (the scale policy here already accounts for size) and a threshold.
        from yuface.yuface import detect
    except ImportError as exc:
        raise DetectorError(
            "the yunet detector needs the yuface package (pip install yuface: wheels for CPython 3.10-3.11 "
            "on x86-64); or choose another detector, e.g. blazeface-short-tiled"
        ) from exc
    return detect


class YuNetDetector:
    """Faces with five landmarks, returned in BlazeFace's six-point layout with NaN ears."""

    def __init__(
        self,
        name: str = "yunet",
        work_width: int = 960,
        min_scale: float = 2 / 3,
        max_scale: float = 2.0,
        threshold: float = 0.5,
        nms_iou: float = 0.3,
    ) -> None:
        self._detect = _load_yuface()
        self.name = name
        self.work_width, self.min_scale, self.max_scale = work_width, min_scale, max_scale
        self.threshold, self.nms_iou = threshold, nms_iou

    def scale_for(self, width: int) -> float:
        return float(np.clip(self.work_width / width, self.min_scale, self.max_scale))

    def detect(self, frame: np.ndarray) -> Detections:
        h, w = frame.shape[:2]
        scale = self.scale_for(w)
        image = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if abs(scale - 1.0) > 1e-3:
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=interp)
        else:
            scale = 1.0
        # One row per face: confidence 0-100, x, y, w, h, five (x, y) landmarks (and one unused column).
        rows = np.asarray(self._detect(np.ascontiguousarray(image)), np.float32).reshape(-1, 16)
        rows = rows[rows[:, 0] >= self.threshold * 100]
        if len(rows) == 0:
            return Detections.empty()
        boxes = rows[:, 1:5] / scale
        scores = rows[:, 0] / 100.0
        kps = five_to_six(rows[:, 5:15].reshape(-1, 5, 2) / scale)
        return merge([Detections(boxes, scores, kps)], frame.shape, self.threshold, self.nms_iou)
