"""FaceTracker keeps anonymous ids stable while a face stays in view."""

from __future__ import annotations

import numpy as np

from monitor.detections import Detections
from monitor.track import FaceTracker, greedy_match, iou_matrix


def dets(*boxes: tuple[float, float, float, float]) -> Detections:
    arr = np.array(boxes, np.float32).reshape(-1, 4)
    return Detections(arr, np.ones(len(arr), np.float32))


def test_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [20, 20, 5, 5], [5, 0, 10, 10]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 0.0, 50 / 150]], rtol=1e-6)


def test_moving_faces_keep_their_ids_and_a_new_face_gets_a_new_one() -> None:
    tracker = FaceTracker(min_hits=1)
    first = tracker.update(dets((10, 10, 50, 50), (200, 10, 50, 50)))
    ids = {tuple(t.box[:2].astype(int)): t.track_id for t in first}
    for step in range(1, 20):
        tracks = tracker.update(dets((10 + 3 * step, 10, 50, 50), (200 - 3 * step, 10, 50, 50)))
        assert sorted(t.track_id for t in tracks) == sorted(ids.values())
    tracks = tracker.update(dets((10 + 60, 10, 50, 50), (200 - 60, 10, 50, 50), (400, 300, 40, 40)))
    assert len({t.track_id for t in tracks}) == 3
    assert max(t.track_id for t in tracks) == 3


def test_unconfirmed_detections_are_not_reported_and_lost_tracks_expire() -> None:
    tracker = FaceTracker(min_hits=2, max_misses=2)
    assert tracker.update(dets((0, 0, 30, 30))) == []  # one sighting is not yet a face we report
    assert [t.track_id for t in tracker.update(dets((1, 0, 30, 30)))] == [1]
    for _ in range(3):
        tracker.update(Detections.empty())
    assert tracker.tracks == []
    tracker.update(dets((1, 0, 30, 30)))
    assert [t.track_id for t in tracker.update(dets((1, 0, 30, 30)))] == [2]


def test_coasting_moves_tracks_with_their_velocity() -> None:
    tracker = FaceTracker(min_hits=1, momentum=0.0)
    tracker.update(dets((0, 0, 20, 20)))
    tracker.update(dets((10, 0, 20, 20)))
    (t,) = tracker.coast()
    assert t.box[0] == 20


def test_smoothing_blends_history() -> None:
    tracker = FaceTracker(min_hits=1)
    (t,) = tracker.update(dets((0, 0, 20, 20)))
    t.smooth(np.array([1.0, 0, 0, 0, 0, 0, 0]), 1.0, alpha=0.5)
    t.smooth(np.array([0.0, 0, 0, 1.0, 0, 0, 0]), 0.0, alpha=0.5)
    np.testing.assert_allclose(t.probs, [0.5, 0, 0, 0.5, 0, 0, 0])
    assert t.attention == 0.5


def test_greedy_matching_takes_the_best_pairs_once() -> None:
    iou = np.array([[0.9, 0.5], [0.8, 0.1], [0.0, 0.05]])
    assert greedy_match(iou, 0.2) == [(0, 0)]  # row 1 wants column 0 too, but it is taken
    assert greedy_match(np.array([[0.3, 0.6], [0.7, 0.2]]), 0.2) == [(1, 0), (0, 1)]
