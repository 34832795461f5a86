"""Detection on the region where faces are expected, with a full pass every few detector calls.

Students sit still, so between two full passes the faces are near where the tracker predicts them. A region
pass runs YuNet on the bounding rectangle of the predicted faces' surroundings (``context`` times each face's
longer side; reaching the frame's edge when it comes within ``SNAP`` of it), cut from the frame at the
detector's own working scale with its top-left corner on YuNet's 32 px grid: a face inside is seen as a full
pass sees it, and only the walls, ceiling and floor are left out. In the front-of-room classroom clip that
rectangle is about half the frame, and a region pass costs about half a full one.

Measured on the labelled classroom clip (``benchmarks/detect_regions.py``): the pipeline's detector finds
110 of the 110 labelled visible faces on region passes as with full passes, and its tracks 110 of 133 as
before. Cutting each face out alone (a mosaic of small cells) was tried and dropped: YuNet's scores for faces
near a cell's edge moved by up to 0.2 with the surroundings, so borderline faces (0.3-0.5) came and went and
the pipeline found only 102-104 of the 110.

A face that walks in outside the rectangle is found at the next full pass (every ``full_every`` calls: at
``detect_every`` 5 and 30 fps, the default 5 is a full pass every 25 frames, 0.83 s; at ``sample_fps`` 5,
every 5 s).
"""

from __future__ import annotations

import cv2
import numpy as np

from monitor.detectors.base import five_to_six, merge
from monitor.detectors.yunet import YuNetDetector
from monitor.stages import Detections

CONTEXT = 3.0  # the region around a predicted face, as a multiple of its longer side
FULL_EVERY = 5  # a full pass every this many detector calls (the `full_detect_every` setting)
ALIGN_PX = 32  # YuNet's largest stride
SNAP = 0.1  # a region this close to the frame's edge (share of its width or height) reaches the edge


def expected_region(
    expected: np.ndarray, scale: float, context: float, width: int, height: int
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in working pixels (an image ``width`` x ``height``) around the ``expected`` boxes
    (x, y, w, h in frame pixels): the bounding rectangle of a square ``context`` times each face's longer
    side centred on it, clipped to the image; empty (x1 <= x0) when nothing is expected."""
    if len(expected) == 0:
        return 0, 0, 0, 0
    centre = (expected[:, 0:2] + expected[:, 2:4] / 2) * scale
    half = context * np.maximum(expected[:, 2:4].max(axis=1), 1.0)[:, None] * scale / 2
    x0, y0 = np.floor(np.maximum((centre - half).min(axis=0), 0)).astype(int).tolist()
    x1, y1 = np.ceil(np.minimum((centre + half).max(axis=0), (width, height))).astype(int).tolist()
    # a sliver left at the image's edge is where people half in view sit and walk in: take it too
    x0, y0 = (0 if x0 < SNAP * width else x0), (0 if y0 < SNAP * height else y0)
    # on YuNet's coarsest grid, so that its anchors fall where a full pass puts them
    x0, y0 = x0 - x0 % ALIGN_PX, y0 - y0 % ALIGN_PX
    x1, y1 = (width if x1 > (1 - SNAP) * width else x1), (height if y1 > (1 - SNAP) * height else y1)
    return x0, y0, x1, y1


class RegionDetector:
    """A ``YuNetDetector`` that looks only around ``expected`` boxes, except every ``full_every`` calls."""

    def __init__(
        self, detector: YuNetDetector, full_every: int = FULL_EVERY, context: float = CONTEXT
    ) -> None:
        self.detector = detector
        self.name = f"{detector.name}+regions/{full_every}"
        self.full_every = max(full_every, 1)
        self.context = context
        self.calls = 0
        self.full_passes = 0
        self.area_share = 1.0  # the last pass's share of the frame's area

    @property
    def threshold(self) -> float:
        return self.detector.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.detector.threshold = value

    def detect(self, frame: np.ndarray, expected: np.ndarray | None = None) -> Detections:
        """Faces of ``frame``: a full pass on every ``full_every``-th call or with nothing ``expected``
        (boxes x, y, w, h in frame pixels), else a pass over the region around ``expected``."""
        expected = np.zeros((0, 4)) if expected is None else np.asarray(expected, np.float64).reshape(-1, 4)
        full = self.calls % self.full_every == 0 or len(expected) == 0
        self.calls += 1
        if full:
            self.full_passes += 1
            self.area_share = 1.0
            return self.detector.detect(frame)
        return self.detect_region(frame, expected)

    def detect_region(self, frame: np.ndarray, expected: np.ndarray) -> Detections:
        """YuNet on the rectangle around ``expected`` only (see the module docstring)."""
        h, w = frame.shape[:2]
        scale = self.detector.scale_for(w)
        image = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if abs(scale - 1.0) > 1e-3:  # the frame at the working scale, exactly as a full pass sees it
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=interp)
        else:
            scale = 1.0
        ih, iw = image.shape[:2]
        x0, y0, x1, y1 = expected_region(expected, scale, self.context, iw, ih)
        self.area_share = max(x1 - x0, 0) * max(y1 - y0, 0) / (iw * ih)
        if x1 <= x0 or y1 <= y0:
            return Detections.empty()
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        rows = np.asarray(self.detector._detect(crop), np.float32).reshape(-1, 16)
        rows = rows[rows[:, 0] >= self.detector.threshold * 100]
        if len(rows) == 0:
            return Detections.empty()
        offset = np.array([x0, y0], np.float32)
        boxes = rows[:, 1:5].copy()
        boxes[:, 0:2] += offset
        marks = rows[:, 5:15].reshape(-1, 5, 2) + offset
        found = Detections(boxes / scale, rows[:, 0] / 100.0, five_to_six(marks / scale))
        return merge([found], frame.shape, self.detector.threshold, self.detector.nms_iou)


def region_detector(detector: object, full_every: int) -> RegionDetector | None:
    """Region passes for a YuNet detector when ``full_every`` > 1; None (full passes only) otherwise."""
    if full_every <= 1 or not isinstance(detector, YuNetDetector):
        return None
    return RegionDetector(detector, full_every)


def tracked_boxes(tracker: object) -> np.ndarray:
    """(n, 4) boxes of every face a tracker follows (tentative and briefly lost ones too), as predicted."""
    tracks = getattr(tracker, "tracks", [])
    return np.array([t.box for t in tracks], np.float64).reshape(-1, 4)
