"""Detection on the region around the tracked faces (monitor/detectors/regions.py) on the real classroom clip.

Recall is measured against the by-eye labels (../shared/datasets/labels/classroom_posture.json: visible faces
on frames 0, 30, 60, 90, 120, 148 of videos/classroom_front_720p.mp4), matched as benchmarks/detector_size.py
matches them. Counts, not scores, are compared, so nothing hinges on one CPU's float rounding.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest

from monitor.config import EngagementWeights, Settings
from monitor.detect import make_detector
from monitor.detectors.regions import FULL_EVERY, RegionDetector, expected_region
from monitor.engagement import EngagementIndex
from monitor.pipeline import FramePipeline
from monitor.posture_labels import load_labels, match_boxes
from tests.conftest import SHARED_DATASETS

LABELS = SHARED_DATASETS / "labels" / "classroom_posture.json"
CLIP = SHARED_DATASETS / "videos" / "classroom_front_720p.mp4"
pytestmark = pytest.mark.skipif(
    not (LABELS.is_file() and CLIP.is_file()), reason=f"labels or clip not found in {SHARED_DATASETS}"
)


@pytest.fixture(scope="module")
def clip() -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    labels = {
        item.frame: np.array([p.box for p in item.people if p.face_visible], np.float64).reshape(-1, 4)
        for item in load_labels(LABELS).items
        if item.frame is not None and item.file.endswith(CLIP.name)
    }
    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while len(frames) <= 120:
        ok, image = cap.read()
        assert ok
        frames.append(image)
    return frames, labels


def found(boxes: np.ndarray, truth: np.ndarray) -> int:
    return len(match_boxes(boxes, truth)) if len(boxes) and len(truth) else 0


def test_a_region_pass_finds_the_labelled_faces_a_full_pass_finds_on_about_half_the_frame(clip) -> None:
    frames, labels = clip
    detector = make_detector("yunet")
    regions = RegionDetector(detector, full_every=1000)
    regions.detect(frames[0])  # the first call, with nothing expected, is a full pass
    assert regions.full_passes == 1
    full_found = region_found = 0
    for index in (30, 60, 90, 120):
        expected = detector.detect(frames[index - 5]).boxes  # where the faces were one detection earlier
        # the labelled faces that were there then (a newcomer waits for the next full pass)
        truth = labels[index]
        truth = truth[[m for _, m in match_boxes(expected, truth)]] if len(expected) else truth[:0]
        full_found += found(detector.detect(frames[index]).boxes, truth)
        region_found += found(regions.detect(frames[index], expected).boxes, truth)
        assert regions.area_share < 0.7
    assert regions.full_passes == 1
    assert full_found >= 80  # ~22 visible faces a frame
    assert region_found == full_found


def test_full_passes_come_every_n_calls_and_whenever_nothing_is_expected() -> None:
    detector = make_detector("yunet")
    frame = np.full((360, 640, 3), 90, np.uint8)
    regions = RegionDetector(detector, full_every=3)
    box = np.array([[300.0, 150.0, 30.0, 36.0]])
    kinds = []
    for expected in (box, box, box, box, None, box):
        before = regions.full_passes
        regions.detect(frame, expected)
        kinds.append("full" if regions.full_passes > before else "region")
    assert kinds == ["full", "region", "region", "full", "full", "region"]
    # the region: 3 face sizes around the face at the working scale (640 wide -> 960), its top-left corner
    # moved onto YuNet's 32 px grid: centre (472.5, 252), half side 81 -> (391.5, 171) -> (384, 160)
    assert expected_region(box, 1.5, 3.0, 960, 540) == (384, 160, 554, 333)
    # a region near the frame's edge takes the sliver up to it too
    assert expected_region(np.array([[20.0, 150.0, 30.0, 36.0]]), 1.5, 3.0, 960, 540)[0] == 0


def test_the_pipeline_with_region_passes_reports_the_labelled_faces_full_passes_report(clip) -> None:
    frames, labels = clip
    settings = Settings()
    assert settings.full_detect_every == FULL_EVERY > 1

    def tracked(full_detect_every: int) -> tuple[int, FramePipeline]:
        pipeline = FramePipeline(
            make_detector(settings.detector),
            None,
            EngagementIndex(EngagementWeights(), emotions=False),
            detect_every=settings.detect_every,
            tracker=settings.tracker,
            full_detect_every=full_detect_every,
        )
        total, t0 = 0, datetime(2026, 1, 5, 9)
        for i, image in enumerate(frames):
            record = pipeline.process(image, t0 + timedelta(seconds=i / 30), i)
            if i in (30, 60, 90, 120):  # detector calls 6, 12, 18, 24: region passes with FULL_EVERY 5
                total += found(record.boxes, labels[i])
        return total, pipeline

    full, _ = tracked(1)
    with_regions, pipeline = tracked(FULL_EVERY)
    assert pipeline.regions is not None and pipeline.regions.calls == 25
    assert pipeline.regions.full_passes == 5  # calls 0, 5, 10, 15, 20
    assert with_regions >= full - 1, (with_regions, full)
