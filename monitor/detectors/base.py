"""What every face detector shares: the error type, the protocol, overlapping tiles and merging boxes."""

from __future__ import annotations

import math
from typing import Protocol

import cv2
import numpy as np

from monitor.stages import Detections


class DetectorError(Exception):
    """A detector that cannot be built (unknown name, missing weights or package)."""


class FaceDetector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> Detections: ...


def tiles(w: int, h: int, tile: int, overlap: float = 0.25) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles ``(x, y, w, h)`` of at most ``tile`` px that cover a ``w`` x ``h`` frame."""
    cols = max(1, math.ceil((w - tile * overlap) / (tile * (1 - overlap))))
    rows = max(1, math.ceil((h - tile * overlap) / (tile * (1 - overlap))))
    if cols == 1 and rows == 1:
        return [(0, 0, w, h)]
    tw = min(w, math.ceil(w / (cols - (cols - 1) * overlap)))
    th = min(h, math.ceil(h / (rows - (rows - 1) * overlap)))
    xs = np.linspace(0, w - tw, cols).round().astype(int) if cols > 1 else [0]
    ys = np.linspace(0, h - th, rows).round().astype(int) if rows > 1 else [0]
    return [(int(x), int(y), tw, th) for y in ys for x in xs]


def merge(
    parts: list[Detections], frame_shape: tuple[int, ...], threshold: float, nms_iou: float
) -> Detections:
    """Concatenate detections (already in frame coordinates), suppress overlaps and clip to the frame.

    Keypoints are kept as ``(n, 6, 2)`` when every part has them, else dropped.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return Detections.empty()
    boxes = np.concatenate([p.boxes for p in parts]).astype(np.float32)
    scores = np.concatenate([p.scores for p in parts]).astype(np.float32)
    kps = None
    if all(p.keypoints is not None for p in parts):
        kps = np.concatenate([p.keypoints for p in parts]).astype(np.float32)
    idx = np.asarray(cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), threshold, nms_iou), np.int64).ravel()
    found = Detections(boxes, scores, kps)[idx]
    boxes = found.boxes
    h, w = frame_shape[:2]
    x0 = np.clip(boxes[:, 0], 0, w)
    y0 = np.clip(boxes[:, 1], 0, h)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, w)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, h)
    boxes = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    kept = Detections(boxes, found.scores, found.keypoints)[(boxes[:, 2] > 4) & (boxes[:, 3] > 4)]
    return kept[np.argsort(-kept.scores, kind="stable")]


def five_to_six(landmarks: np.ndarray) -> np.ndarray:
    """Five landmarks ``(n, 5, 2)`` (right eye, left eye, nose tip, right and left mouth corner, as seen by
    YuNet and CenterFace) in BlazeFace's six-point layout: right eye, left eye, nose tip, mouth centre, and
    NaN for the two ears, which these detectors do not give."""
    out = np.full((len(landmarks), 6, 2), np.nan, np.float32)
    out[:, 0:3] = landmarks[:, 0:3]
    out[:, 3] = landmarks[:, 3:5].mean(axis=1)
    return out


def shift(det: Detections, x: int, y: int, scale: float = 1.0) -> Detections:
    """Detections found on a crop at ``(x, y)`` that was resized by ``scale``, in frame coordinates."""
    boxes = det.boxes / scale
    boxes[:, 0:2] += (x, y)
    kps = None if det.keypoints is None else det.keypoints / scale + np.array([x, y], np.float32)
    return Detections(boxes.astype(np.float32), det.scores, kps)
