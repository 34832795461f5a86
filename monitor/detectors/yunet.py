"""YuNet (libfacedetection, BSD-3-Clause) through the ``yuface`` package, whose compiled library holds the
weights: no model file is read and nothing is downloaded.

libfacedetection runs its CNN at the image's own resolution and finds faces from about 10 px up. Frames are
resized to about ``work_width`` pixels wide first: a 640x360 classroom frame is enlarged 1.5x, which lifts
its 8-14 px back-row faces into range, and a 1280x720 frame is shrunk to 960 wide, which keeps its 20 px
faces and halves the cost. The scale stays within ``[min_scale, max_scale]`` so that a 1080p frame keeps
20 px faces (at 2/3, 13 px) and a tiny frame is not blown up beyond 2x.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from monitor.detectors.base import DetectorError, five_to_six, merge
from monitor.stages import Detections


def _load_yuface() -> Callable[[np.ndarray], np.ndarray]:
    """YuNet as a function of a BGR uint8 image: an int16 row of 16 per face (``YuNetDetector.detect``)."""
    # yuface's bundled OpenMP runtime busy-waits between parallel regions by default; on the worker's two
    # shared cores that spinning starves the other stages, so let idle threads sleep (set before loading).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        # The compiled function itself: yuface.detect only wraps it with a per-call warning on frames wider
        # than 960 px (the scale policy here already accounts for size) and a threshold.
        from yuface import yuface as compiled
    except ImportError as exc:
        raise DetectorError(
            "the yunet detector needs the yuface package (pip install yuface: wheels for CPython 3.10-3.11 "
            "on x86-64); or choose another detector, e.g. blazeface-short-tiled"
        ) from exc
    return _without_the_gil(Path(compiled.__file__).with_name("libfacedetection.so")) or compiled.detect


_RESULT_BYTES = 0x9000  # libfacedetection's result buffer: an int count, then 16 int16 per face
_FACEDETECT_CNN = "_Z14facedetect_cnnPhS_iii"  # facedetect_cnn(unsigned char*, unsigned char*, int, int, int)


def _without_the_gil(library: Path) -> Callable[[np.ndarray], np.ndarray] | None:
    """libfacedetection's own C++ entry point through ctypes, which lets go of the GIL while it runs.

    yuface's binding holds the GIL for the whole call (55-64 ms for a 960x540 frame), so the worker's capture
    and writer threads stood still meanwhile; through ctypes they run beside it. The rows are the binding's
    (its 16th, unused column is left uninitialised there and 0 here). None when the library or its entry
    point is missing: the binding is used instead.
    """
    try:
        entry = getattr(ctypes.CDLL(str(library)), _FACEDETECT_CNN)
    except (OSError, AttributeError):
        return None
    entry.restype = ctypes.POINTER(ctypes.c_int)
    entry.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]

    def detect(image: np.ndarray) -> np.ndarray:
        image = np.ascontiguousarray(image, np.uint8)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"YuNet needs a BGR image, got shape {image.shape}")
        result = np.zeros(_RESULT_BYTES, np.uint8)  # per call: two threads may detect at once
        height, width = image.shape[:2]
        found = entry(result.ctypes.data, image.ctypes.data, width, height, int(image.strides[0]))
        count = max(int(found[0]), 0) if found else 0
        return np.frombuffer(result, np.int16, count=count * 16, offset=4).reshape(count, 16).copy()

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
