"""Face detectors on real frames and on the synthetic sample."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from monitor.detect import BlazeFaceDetector, DetectorError, make_detector
from monitor.sample import SEATS, SyntheticClassroom
from tests.conftest import GROUP, TALKING_HEAD, requires_videos


def frames(path, every: int = 10) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out, i = [], 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        if i % every == 0:
            out.append(img)
        i += 1
    return out


@requires_videos
@pytest.mark.parametrize(("clip", "low", "high"), [(TALKING_HEAD, 1, 1), (GROUP, 2, 4)])
def test_blazeface_finds_the_faces_of_the_real_clips(clip, low: int, high: int) -> None:
    detector = make_detector("blazeface")
    counts = np.array([len(detector.detect(f)) for f in frames(clip)])
    assert ((counts >= low) & (counts <= high)).mean() >= 0.9, counts
    det = detector.detect(frames(clip)[0])
    assert det.keypoints.shape == (len(det), 6, 2)
    assert (det.scores >= 0.6).all()


@requires_videos
def test_haar_baseline_finds_the_talking_head() -> None:
    counts = [len(make_detector("haar").detect(f)) for f in frames(TALKING_HEAD)]
    assert np.mean([c >= 1 for c in counts]) >= 0.9


def test_tiles_cover_large_frames_and_leave_small_ones_whole() -> None:
    det = BlazeFaceDetector()
    assert det.tiles(640, 360) == [(0, 0, 640, 360)]
    tiles = det.tiles(1280, 720)
    assert len(tiles) > 1
    covered = np.zeros((720, 1280), bool)
    for x, y, w, h in tiles:
        assert w <= 640 and h <= 640
        covered[y : y + h, x : x + w] = True
    assert covered.all()


def test_synthetic_sample_faces_are_found() -> None:
    frame = SyntheticClassroom().render(0.0)
    assert len(make_detector("blazeface").detect(frame)) >= len(SEATS) - 1


def test_unknown_detector_is_a_clear_error() -> None:
    with pytest.raises(DetectorError, match="unknown detector"):
        make_detector("yolo")
