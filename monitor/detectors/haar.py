"""OpenCV's frontal-face Haar cascade: the baseline (no keypoints)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from monitor.detectors.base import DetectorError
from monitor.stages import Detections


class HaarFaceDetector:
    """Frontal-face Haar cascade on a frame shrunk to at most ``max_width`` pixels wide."""

    name = "haar"

    def __init__(self, max_width: int = 640, min_face: int = 24) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DetectorError(f"Haar cascade missing at {path} (opencv-python-headless<5 ships it)")
        self.max_width = max_width
        self.min_face = min_face

    def detect(self, frame: np.ndarray) -> Detections:
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        scale = min(1.0, self.max_width / gray.shape[1])
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        boxes, _, weights = self._cascade.detectMultiScale3(
            gray,
            scaleFactor=1.1,
            minNeighbors=5,
            minSize=(self.min_face, self.min_face),
            outputRejectLevels=True,
        )
        if len(boxes) == 0:
            return Detections.empty()
        boxes = np.asarray(boxes, np.float32) / scale
        scores = 1.0 / (1.0 + np.exp(-np.asarray(weights, np.float32).ravel()))
        return Detections(boxes, scores)
