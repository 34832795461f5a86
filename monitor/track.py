"""``FaceTracker``: anonymous track ids that stay stable while a face stays in view.

Greedy IoU matching between tracks and new detections (best pairs first: with a few dozen faces it agrees
with the Hungarian assignment in practice and keeps SciPy's 0.4 s import out of the worker's start), a
constant-velocity prediction for frames without detection, and an exponential moving average of each
track's emotion probabilities and attention. Ids are small integers per session; nothing about a face is
kept once its track ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitor.detections import Detections


def greedy_match(iou: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(row, col) pairs with IoU >= ``threshold``, taken best first, each row and column at most once."""
    if iou.size == 0:
        return []
    rows, cols = np.nonzero(iou >= threshold)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_r, used_c, pairs = set(), set(), []
    for r, c in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
            pairs.append((r, c))
    return pairs


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of xywh boxes ``a`` (n, 4) and ``b`` (m, 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    ax0, ay0, ax1, ay1 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-6)


@dataclass
class Track:
    track_id: int
    box: np.ndarray  # x, y, w, h
    keypoints: np.ndarray | None = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    hits: int = 1
    misses: int = 0
    probs: np.ndarray | None = None  # smoothed
    attention: float | None = None  # smoothed

    def predict(self) -> None:
        self.box = self.box + self.velocity
        if self.keypoints is not None:
            self.keypoints = self.keypoints + self.velocity[:2]

    def smooth(self, probs: np.ndarray | None, attention: float, alpha: float) -> None:
        """Blend new values into the track's history (``alpha`` = weight of the history)."""
        if probs is not None:
            self.probs = probs if self.probs is None else alpha * self.probs + (1 - alpha) * probs
        self.attention = (
            attention if self.attention is None else alpha * self.attention + (1 - alpha) * attention
        )


class FaceTracker:
    """Associates detections with tracks; reports confirmed tracks (seen ``min_hits`` times)."""

    def __init__(
        self, iou_threshold: float = 0.25, max_misses: int = 10, min_hits: int = 2, momentum: float = 0.5
    ) -> None:
        self.iou_threshold = iou_threshold
        self.max_misses = max_misses
        self.min_hits = min_hits
        self.momentum = momentum
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, dets: Detections) -> list[Track]:
        """Match a frame's detections; returns the confirmed tracks matched in this frame."""
        for t in self.tracks:
            t.predict()
        boxes = np.array([t.box for t in self.tracks], np.float32).reshape(-1, 4)
        iou = iou_matrix(boxes, dets.boxes)
        matched_tracks, matched_dets = set(), set()
        seen: list[Track] = []
        for r, c in greedy_match(iou, self.iou_threshold):
            t = self.tracks[r]
            new_box = dets.boxes[c].astype(np.float32)
            t.velocity = self.momentum * t.velocity + (1 - self.momentum) * (new_box - (t.box - t.velocity))
            t.box = new_box
            t.keypoints = None if dets.keypoints is None else dets.keypoints[c]
            t.hits += 1
            t.misses = 0
            matched_tracks.add(r)
            matched_dets.add(c)
            seen.append(t)
        for r, t in enumerate(self.tracks):
            if r not in matched_tracks:
                t.misses += 1
                t.velocity *= 0.5  # a lost face slows down rather than flying off
        self.tracks = [t for t in self.tracks if t.misses <= self.max_misses]
        for c in range(len(dets)):
            if c not in matched_dets:
                kp = None if dets.keypoints is None else dets.keypoints[c]
                t = Track(self._next_id, dets.boxes[c].astype(np.float32), kp)
                self._next_id += 1
                self.tracks.append(t)
                seen.append(t)
        return [t for t in seen if t.hits >= self.min_hits]

    def coast(self) -> list[Track]:
        """Advance without a detection (frames between detections): confirmed, recently seen tracks."""
        for t in self.tracks:
            t.predict()
        return [t for t in self.tracks if t.hits >= self.min_hits and t.misses == 0]

    @property
    def ids_issued(self) -> int:
        return self._next_id - 1
