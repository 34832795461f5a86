"""With ``sample_fps`` set, a source turns into images only the frames it keeps; the others are only grabbed.

The real clip is read through the real OpenCV capture; a thin counter around it records which calls were
made (``grab`` demuxes and decodes, ``retrieve`` converts the frame to a BGR image, ``read`` does both).
"""

from __future__ import annotations

from collections import Counter
from itertools import islice

import cv2
import numpy as np
import pytest

from monitor.capture import FrameSource
from tests.conftest import VIDEOS, requires_videos

pytestmark = requires_videos
CLASSROOM = VIDEOS / "classroom_front_720p.mp4"


class CountingCapture:
    """The real ``cv2.VideoCapture``, with a count of its read, grab and retrieve calls."""

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self._capture = capture
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str):
        attribute = getattr(self._capture, name)
        if name not in ("read", "grab", "retrieve"):
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


def all_frames(path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    return images


@pytest.mark.parametrize("sample_fps", [5.0, 10.0])
def test_a_file_converts_only_the_frames_sample_fps_keeps(sample_fps: float) -> None:
    every = all_frames(CLASSROOM)
    source = FrameSource(str(CLASSROOM), sample_fps=sample_fps)
    counting = source._cap = CountingCapture(source._cap)
    kept = list(source.frames())

    step = round(source.fps / sample_fps)
    assert [frame.index for frame in kept] == list(range(0, len(every), step))
    for frame in kept:  # the very images a full read gives at those positions
        assert np.array_equal(frame.image, every[frame.index])
    assert counting.calls["read"] == 0
    assert counting.calls["retrieve"] == len(kept)
    assert source.frames_skipped == len(every) - len(kept)


def test_a_file_without_sample_fps_still_gives_every_frame() -> None:
    every = all_frames(CLASSROOM)
    source = FrameSource(str(CLASSROOM))
    kept = list(source.frames())
    assert len(kept) == len(every) and source.frames_skipped == 0
    assert all(np.array_equal(frame.image, every[frame.index]) for frame in kept)


def test_a_live_source_converts_only_the_frames_sample_fps_keeps() -> None:
    """The camera loop (here over the real clip, read as fast as it comes) grabs every frame, so the
    stream stays current, and converts only those ``sample_fps`` keeps."""
    source = FrameSource(str(CLASSROOM), sample_fps=20.0)
    counting = source._cap = CountingCapture(source._cap)
    kept = list(islice(source._live_frames(), 3))
    source.stop()

    assert len(kept) == 3
    assert counting.calls["read"] == 0
    assert counting.calls["retrieve"] == 3
    assert counting.calls["grab"] == 3 + source.frames_skipped
    gaps = [(b.ts - a.ts).total_seconds() for a, b in zip(kept, kept[1:], strict=False)]
    assert all(gap >= 0.9 / 20.0 for gap in gaps)
