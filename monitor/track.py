"""Trackers: anonymous track ids that stay stable while a person stays in view.

Two are selectable (``Settings.tracker``):

* ``ByteTracker`` (default): ByteTrack's association (Zhang et al., 2022). Confident detections are
  matched first, against active and recently lost tracks; low-score detections then keep the remaining
  active tracks alive (a face turning away or blurred still scores something); a lost track waits
  ``track_buffer`` detection passes before it is dropped, so a face missed for a while keeps its id; new
  tracks start only from confident detections and are confirmed by a second sighting.
* ``FaceTracker``: the earlier greedy IoU matcher, one threshold, a short memory.

Both match greedily, best IoU first: with a few dozen faces that agrees with the Hungarian assignment in
practice and keeps SciPy's 0.4 s import out of the worker's start. A constant-velocity prediction carries
tracks through the frames without detection (``coast``), and each track keeps an exponential moving average
of its emotion probabilities and attention. Ids are small integers per session, given when a track is
confirmed; nothing about a face is kept once its track ends.

Like supervision's trackers, ``update`` and ``coast`` return ``Detections`` of the confirmed tracks in view
with ``track_ids`` filled; ``tracks_of(detections)`` gives each row's track, which holds its smoothed
values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitor.config import TRACKERS
from monitor.stages import Detections

DEFAULT_TRACKER = TRACKERS[0]


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
    track_id: int  # 0 until the track is confirmed
    box: np.ndarray  # x, y, w, h
    keypoints: np.ndarray | None = None
    score: float = 0.0  # the detector's score at the last sighting
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    hits: int = 1
    misses: int = 0
    probs: np.ndarray | None = None  # smoothed
    attention: float | None = None  # smoothed
    since_seen: int = 0  # frames predicted since the last detection
    classified_at: int = -1  # pipeline frame of the newest emotion estimate (-1: none yet)

    def predict(self) -> None:
        self.box = self.box + self.velocity
        self.since_seen += 1
        if self.keypoints is not None:
            self.keypoints = self.keypoints + self.velocity[:2]

    def observe(self, dets: Detections, i: int, momentum: float) -> None:
        """Take detection ``i`` as this track's new position."""
        new_box = dets.boxes[i].astype(np.float32)
        if self.misses == 0 and self.since_seen:
            # per frame, over the frames since the last detection (coasted ones included)
            last_seen = self.box - self.velocity * self.since_seen
            step = (new_box - last_seen) / self.since_seen
            self.velocity = momentum * self.velocity + (1 - momentum) * step
        else:  # back after a gap: the jump is not a speed
            self.velocity = np.zeros(4, np.float32)
        self.since_seen = 0
        self.box = new_box
        self.keypoints = None if dets.keypoints is None else dets.keypoints[i]
        self.score = float(dets.scores[i])
        self.hits += 1
        self.misses = 0

    def smooth(self, probs: np.ndarray | None, attention: float, alpha: float) -> None:
        """Blend new values into the track's history (``alpha`` = weight of the history)."""
        if probs is not None:
            self.probs = probs if self.probs is None else alpha * self.probs + (1 - alpha) * probs
        self.attention = (
            attention if self.attention is None else alpha * self.attention + (1 - alpha) * attention
        )


class _Tracker:
    """What both trackers share: prediction, coasting, confirmation and id numbering."""

    def __init__(self, min_hits: int, momentum: float) -> None:
        self.min_hits = min_hits
        self.momentum = momentum
        self.tracks: list[Track] = []
        self._next_id = 1

    def _new_track(self, dets: Detections, i: int) -> Track:
        kp = None if dets.keypoints is None else dets.keypoints[i]
        t = Track(0, dets.boxes[i].astype(np.float32), kp, float(dets.scores[i]))
        self.tracks.append(t)
        return t

    def _confirmed(self, seen: list[tuple[Track, int]], dets: Detections) -> Detections:
        """Number newly confirmed tracks and fill ``dets.track_ids`` (-1: no confirmed track); returns the
        rows of ``dets`` that confirmed tracks matched this frame, in matching order, ids filled."""
        ids = np.full(len(dets), -1, np.int64)
        rows = []
        for t, i in seen:
            if t.hits < self.min_hits:
                continue
            if t.track_id == 0:
                t.track_id = self._next_id
                self._next_id += 1
            ids[i] = t.track_id
            rows.append(i)
        dets.track_ids = ids
        return dets[rows]

    @staticmethod
    def _boxes(tracks: list[Track]) -> np.ndarray:
        return np.array([t.box for t in tracks], np.float32).reshape(-1, 4)

    def coast(self) -> Detections:
        """Advance without a detection (frames between detections): the confirmed, recently seen tracks at
        their predicted boxes, as ``Detections`` with ``track_ids`` (scores: their last sighting's)."""
        for t in self.tracks:
            t.predict()
        shown = [t for t in self.tracks if t.track_id and t.misses == 0]
        kps = [t.keypoints for t in shown]
        return Detections(
            self._boxes(shown),
            np.array([t.score for t in shown], np.float32),
            np.array(kps, np.float32) if kps and all(k is not None for k in kps) else None,
            np.array([t.track_id for t in shown], np.int64),
        )

    def tracks_of(self, dets: Detections) -> list[Track]:
        """The track of each row of ``dets`` as returned by ``update`` or ``coast``."""
        if dets.track_ids is None:
            raise ValueError("these detections were not tracked (no track_ids)")
        live = {t.track_id: t for t in self.tracks if t.track_id}
        return [live[int(i)] for i in dets.track_ids]

    @property
    def ids_issued(self) -> int:
        """Confirmed tracks so far (ids are given at confirmation, so this is also the highest id)."""
        return self._next_id - 1


class FaceTracker(_Tracker):
    """Greedy IoU matching of every detection; reports confirmed tracks (seen ``min_hits`` times)."""

    def __init__(
        self, iou_threshold: float = 0.25, max_misses: int = 10, min_hits: int = 2, momentum: float = 0.5
    ) -> None:
        super().__init__(min_hits, momentum)
        self.iou_threshold = iou_threshold
        self.max_misses = max_misses

    def update(self, dets: Detections) -> Detections:
        """Match a frame's detections; returns those that confirmed tracks matched, ``track_ids`` filled."""
        for t in self.tracks:
            t.predict()
        pairs = greedy_match(iou_matrix(self._boxes(self.tracks), dets.boxes), self.iou_threshold)
        seen = []
        for r, c in pairs:
            self.tracks[r].observe(dets, c, self.momentum)
            seen.append((self.tracks[r], c))
        matched_tracks = {r for r, _ in pairs}
        matched_dets = {c for _, c in pairs}
        for r, t in enumerate(self.tracks):
            if r not in matched_tracks:
                t.misses += 1
                t.velocity *= 0.5  # a lost face slows down rather than flying off
        self.tracks = [t for t in self.tracks if t.misses <= self.max_misses]
        seen += [(self._new_track(dets, c), c) for c in range(len(dets)) if c not in matched_dets]
        return self._confirmed(seen, dets)


class ByteTracker(_Tracker):
    """ByteTrack's two-stage association (see the module docstring).

    ``high_thresh`` splits confident from low-score detections; detections under ``low_thresh`` are ignored.
    ``track_buffer`` counts detection passes (with ``detect_every=3`` at 30 fps, 30 passes are 3 s).
    """

    def __init__(
        self,
        high_thresh: float = 0.6,
        low_thresh: float = 0.3,
        match_iou: float = 0.1,
        low_match_iou: float = 0.3,
        new_match_iou: float = 0.3,
        track_buffer: int = 30,
        min_hits: int = 2,
        momentum: float = 0.8,
    ) -> None:
        super().__init__(min_hits, momentum)
        self.high_thresh = high_thresh
        self.low_thresh = low_thresh
        self.match_iou = match_iou
        self.low_match_iou = low_match_iou
        self.new_match_iou = new_match_iou
        self.track_buffer = track_buffer

    def _associate(
        self, tracks: list[Track], dets: Detections, rows: np.ndarray, threshold: float
    ) -> tuple[list[tuple[Track, int]], list[Track], np.ndarray]:
        """Match ``tracks`` with the detections at ``rows``: (track, detection) pairs, unmatched both."""
        pairs = greedy_match(iou_matrix(self._boxes(tracks), dets.boxes[rows]), threshold)
        for r, c in pairs:
            tracks[r].observe(dets, int(rows[c]), self.momentum)
        used_r, used_c = {r for r, _ in pairs}, {c for _, c in pairs}
        left = [t for r, t in enumerate(tracks) if r not in used_r]
        rest = np.array([d for c, d in enumerate(rows) if c not in used_c], np.int64)
        return [(tracks[r], int(rows[c])) for r, c in pairs], left, rest

    def update(self, dets: Detections) -> Detections:
        """Match a frame's detections; returns those that confirmed tracks matched, ``track_ids`` filled."""
        for t in self.tracks:
            t.predict()
        high = np.flatnonzero(dets.scores >= self.high_thresh)
        low = np.flatnonzero((dets.scores >= self.low_thresh) & (dets.scores < self.high_thresh))
        confirmed = [t for t in self.tracks if t.track_id]
        tentative = [t for t in self.tracks if not t.track_id]
        # 1. Confident detections against every confirmed track, lost ones included.
        seen, left, high = self._associate(confirmed, dets, high, self.match_iou)
        # 2. Low-score detections keep still-active tracks alive; they never revive lost ones.
        active = [t for t in left if t.misses == 0]
        seen2, left_active, _ = self._associate(active, dets, low, self.low_match_iou)
        left = [t for t in left if t.misses > 0] + left_active
        # 3. Last frame's new tracks against what is left of the confident detections.
        seen3, _, high = self._associate(tentative, dets, high, self.new_match_iou)
        for t in left:
            t.misses += 1
            t.velocity *= 0.5  # a lost face slows down rather than flying off
        kept = {id(t) for t in left if t.misses <= self.track_buffer}
        kept |= {id(t) for t, _ in seen + seen2 + seen3}  # unmatched tentative tracks are dropped
        self.tracks = [t for t in self.tracks if id(t) in kept]
        new = [(self._new_track(dets, int(i)), int(i)) for i in high]
        return self._confirmed(seen + seen2 + seen3 + new, dets)


def make_tracker(name: str = DEFAULT_TRACKER, high_thresh: float | None = None) -> FaceTracker | ByteTracker:
    """Build a tracker by name (one of ``TRACKERS``); ``high_thresh``: the detector's own score threshold."""
    if name == "iou":
        return FaceTracker()
    if name == "bytetrack":
        return ByteTracker() if high_thresh is None else ByteTracker(high_thresh=high_thresh)
    raise ValueError(f"unknown tracker {name!r}; choose one of: {', '.join(TRACKERS)}")
