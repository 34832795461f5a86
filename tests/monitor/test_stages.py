"""The stage values: Detections checks its shapes and slices every field together."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.capture import Frame as CaptureFrame
from monitor.stages import Detections, Frame, FrameRecord
from monitor.store.writer import FrameRecord as WriterFrameRecord


def three() -> Detections:
    boxes = np.array([[0, 0, 10, 10], [20, 0, 10, 10], [40, 0, 12, 12]], np.float32)
    keypoints = np.arange(3 * 6 * 2, dtype=np.float32).reshape(3, 6, 2)
    return Detections(boxes, np.array([0.9, 0.4, 0.7]), keypoints, np.array([5, -1, 7]))


def test_older_imports_get_the_same_classes() -> None:
    assert CaptureFrame is Frame
    assert WriterFrameRecord is FrameRecord


def test_arrays_are_coerced_and_an_empty_list_of_boxes_is_zero_rows() -> None:
    d = Detections([[1, 2, 3, 4]], [0.5])
    assert d.boxes.dtype == np.float32 and d.scores.dtype == np.float32
    assert d.track_ids is None and d.keypoints is None
    empty = Detections([], [])
    assert len(empty) == 0 and empty.boxes.shape == (0, 4)
    assert len(Detections.empty()) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"boxes": np.zeros((2, 3)), "scores": np.zeros(2)}, r"boxes must be \(n, 4\)"),
        ({"boxes": np.zeros((2, 4)), "scores": np.zeros(3)}, "scores must have 2 values"),
        (
            {"boxes": np.zeros((2, 4)), "scores": np.zeros(2), "keypoints": np.zeros((1, 6, 2))},
            r"keypoints must be \(2, k, 2\)",
        ),
        (
            {"boxes": np.zeros((2, 4)), "scores": np.zeros(2), "track_ids": np.zeros(1)},
            "track_ids must have 2 values",
        ),
    ],
)
def test_mismatched_shapes_are_refused_with_a_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Detections(**kwargs)


def test_a_boolean_mask_selects_the_same_rows_of_every_field() -> None:
    d = three()
    confident = d[d.scores >= 0.5]
    assert len(confident) == 2
    np.testing.assert_array_equal(confident.boxes[:, 0], [0, 40])
    np.testing.assert_allclose(confident.scores, [0.9, 0.7])
    np.testing.assert_array_equal(confident.keypoints, d.keypoints[[0, 2]])
    np.testing.assert_array_equal(confident.track_ids, [5, 7])
    with pytest.raises(IndexError):
        d[np.array([True, False])]


def test_ints_slices_and_index_lists_keep_a_detections() -> None:
    d = three()
    one = d[1]
    assert isinstance(one, Detections) and len(one) == 1 and one.track_ids.tolist() == [-1]
    assert d[1:].scores.tolist() == pytest.approx([0.4, 0.7])
    picked = d[[2, 0]]
    assert picked.track_ids.tolist() == [7, 5]
    assert picked.keypoints.shape == (2, 6, 2)
    without = Detections(d.boxes, d.scores)
    assert without[0:2].keypoints is None and without[0:2].track_ids is None
