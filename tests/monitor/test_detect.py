"""Face detectors on real classroom footage, the earlier real clips and the synthetic sample.

Faces counted by eye come from ../shared/datasets/SOURCES.md; the ranges below leave room for its ±2 and for
profile faces the eye count leaves out, and the figures measured by benchmarks/detectors.py are noted.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from monitor.config import Settings
from monitor.detect import DEFAULT_DETECTOR, DETECTORS, DetectorError, YuNetDetector, make_detector
from monitor.detectors.base import tiles
from monitor.sample import SEATS, SyntheticClassroom
from tests.conftest import GROUP, SHARED_DATASETS, TALKING_HEAD, requires_videos

IMAGES = SHARED_DATASETS / "images"
CLASSROOM = SHARED_DATASETS / "videos" / "classroom_front_720p.mp4"
LAB = IMAGES / "classroom_lab_students.png"
CCTV = {"classroom_cctv_b313_crowded.jpg": 4, "classroom_cctv_b205.jpg": 1}  # faces visible, by eye
requires_classroom = pytest.mark.skipif(
    not (CLASSROOM.is_file() and LAB.is_file()),
    reason=f"real classroom footage not found in {SHARED_DATASETS} (../shared is not beside the repo)",
)


def frames(path, every: int = 10, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out, i = [], 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        if i % every == 0:
            out.append(img if size is None else cv2.resize(img, size, interpolation=cv2.INTER_AREA))
        i += 1
    return out


@pytest.fixture(scope="module")
def default_detector():
    return make_detector()


def test_the_default_detector_is_yunet_everywhere() -> None:
    assert DEFAULT_DETECTOR == "yunet" == Settings().detector
    assert make_detector().name == "yunet"


@requires_classroom
def test_default_finds_the_small_faces_of_the_computer_lab(default_detector) -> None:
    # 10 faces by eye, 15-25 px wide, plus 2-3 people only partly in frame (measured: 10).
    assert 8 <= len(default_detector.detect(cv2.imread(str(LAB)))) <= 13


@requires_classroom
@pytest.mark.parametrize(("size", "low"), [(None, 18), ((640, 360), 17)])
def test_default_finds_most_faces_of_the_real_classroom(default_detector, size, low: int) -> None:
    # 26 people, about 21 faces at least partly toward the camera (measured medians: 23 at 1280x720, 22 at
    # 640x360, where the back rows are 8-14 px wide).
    counts = [len(default_detector.detect(f)) for f in frames(CLASSROOM, every=15, size=size)]
    assert np.median(counts) >= low, counts
    assert max(counts) <= 27, counts


@requires_classroom
@pytest.mark.parametrize(("still", "visible"), CCTV.items())
def test_default_puts_few_boxes_on_the_backs_of_heads(default_detector, still: str, visible: int) -> None:
    # Ceiling CCTV: about 30 and 12 students seen from behind; no more boxes than faces visible by eye.
    assert len(default_detector.detect(cv2.imread(str(IMAGES / still)))) <= visible


@requires_classroom
def test_yunet_keypoints_follow_the_blazeface_layout(default_detector) -> None:
    det = default_detector.detect(cv2.imread(str(LAB)))
    kp = det.keypoints
    assert kp.shape == (len(det), 6, 2)
    assert np.isnan(kp[:, 4:]).all(), "YuNet has no ear points: they are NaN"
    assert np.isfinite(kp[:, :4]).all()
    right_eye, left_eye, nose, mouth = kp[:, 0], kp[:, 1], kp[:, 2], kp[:, 3]
    assert (right_eye[:, 0] < left_eye[:, 0]).mean() >= 0.8  # the subject's right eye is on the image left
    assert (nose[:, 1] > (right_eye[:, 1] + left_eye[:, 1]) / 2).all()
    assert (mouth[:, 1] > nose[:, 1]).all()
    x, y, w, h = det.boxes.T
    inside = (kp[:, :4, 0] >= x[:, None] - 0.2 * w[:, None]) & (kp[:, :4, 0] <= (x + 1.2 * w)[:, None])
    inside &= (kp[:, :4, 1] >= y[:, None] - 0.2 * h[:, None]) & (kp[:, :4, 1] <= (y + 1.2 * h)[:, None])
    assert inside.all()


@pytest.mark.parametrize("name", DETECTORS)
def test_every_selectable_detector_builds_and_runs(name: str) -> None:
    image = SyntheticClassroom().render(0.0)
    det = make_detector(name).detect(image)
    assert det.boxes.shape == (len(det), 4) and det.scores.shape == (len(det),)
    assert ((det.scores >= 0) & (det.scores <= 1)).all()
    h, w = image.shape[:2]
    x, y, bw, bh = det.boxes.T
    assert (x >= 0).all() and (y >= 0).all() and (x + bw <= w + 1e-3).all() and (y + bh <= h + 1e-3).all()
    if det.keypoints is not None:
        assert det.keypoints.shape == (len(det), 6, 2)


@requires_classroom
@pytest.mark.parametrize("name", ["yunet", "blazeface-short-tiled", "centerface"])
def test_keypoints_put_the_right_eye_on_the_image_left(name: str) -> None:
    det = make_detector(name).detect(cv2.imread(str(LAB)))
    assert len(det) >= 5
    assert (det.keypoints[:, 0, 0] < det.keypoints[:, 1, 0]).mean() >= 0.8


@requires_videos
@pytest.mark.parametrize(("clip", "low", "high"), [(TALKING_HEAD, 1, 1), (GROUP, 2, 4)])
@pytest.mark.parametrize("name", ["yunet", "blazeface", "blazeface-tiled"])
def test_close_faces_of_the_earlier_clips_are_found(name: str, clip, low: int, high: int) -> None:
    detector = make_detector(name)
    counts = np.array([len(detector.detect(f)) for f in frames(clip)])
    assert ((counts >= low) & (counts <= high)).mean() >= 0.9, counts


@requires_videos
def test_haar_baseline_finds_the_talking_head() -> None:
    counts = [len(make_detector("haar").detect(f)) for f in frames(TALKING_HEAD)]
    assert np.mean([c >= 1 for c in counts]) >= 0.9


def test_tiles_cover_the_frame_and_leave_small_frames_whole() -> None:
    assert tiles(640, 360, 640) == [(0, 0, 640, 360)]
    for w, h, tile in [(1280, 720, 640), (640, 360, 192), (848, 480, 128)]:
        parts = tiles(w, h, tile)
        assert len(parts) > 1
        covered = np.zeros((h, w), bool)
        for x, y, tw, th in parts:
            assert tw <= tile and th <= tile
            covered[y : y + th, x : x + tw] = True
        assert covered.all()


def test_yunet_scale_enlarges_small_frames_and_shrinks_large_ones() -> None:
    det = YuNetDetector()
    assert det.scale_for(640) == pytest.approx(1.5)
    assert det.scale_for(1280) == pytest.approx(0.75)
    assert det.scale_for(1920) == pytest.approx(2 / 3)
    assert det.scale_for(320) == pytest.approx(2.0)


@pytest.mark.parametrize("name", [DEFAULT_DETECTOR, "blazeface"])
def test_synthetic_sample_faces_are_found(name: str) -> None:
    frame = SyntheticClassroom().render(0.0)
    assert len(make_detector(name).detect(frame)) >= len(SEATS) - 1


def test_unknown_detector_is_a_clear_error() -> None:
    with pytest.raises(DetectorError, match=r"unknown detector 'yolo'; choose one of: yunet, .*haar"):
        make_detector("yolo")


def test_missing_yunet_package_is_a_clear_error(monkeypatch) -> None:
    for module in ("yuface", "yuface.yuface"):
        monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(DetectorError, match="needs the yuface package"):
        make_detector("yunet")
