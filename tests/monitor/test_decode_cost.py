"""A source counts what reading the camera costs: frames read (decoded), frames skipped, CPU per frame.

The real clip through the real OpenCV capture. Only counts and the arithmetic are asserted, never how many
milliseconds a CPU takes.
"""

from __future__ import annotations

from itertools import islice

import pytest

from monitor.capture import FrameSource
from tests.conftest import VIDEOS, requires_videos

pytestmark = requires_videos
CLASSROOM = VIDEOS / "classroom_front_720p.mp4"


@pytest.mark.parametrize("sample_fps", [0.0, 5.0])
def test_a_file_source_counts_frames_read_skipped_and_their_decode_cpu(sample_fps: float) -> None:
    source = FrameSource(str(CLASSROOM), sample_fps=sample_fps)
    assert source.decode_ms_per_frame is None  # nothing read yet
    kept = list(source.frames())
    assert source.frames_grabbed == len(kept) + source.frames_skipped
    assert (source.frames_skipped > 0) == (sample_fps > 0)
    assert source.decode_cpu_s > 0
    assert source.decode_ms_per_frame == pytest.approx(1000 * source.decode_cpu_s / source.frames_grabbed)


def test_a_live_source_counts_every_frame_it_grabs() -> None:
    source = FrameSource(str(CLASSROOM), sample_fps=20.0)
    kept = list(islice(source._live_frames(), 3))
    source.stop()
    assert len(kept) == 3
    assert source.frames_grabbed == 3 + source.frames_skipped
    assert source.decode_ms_per_frame is not None and source.decode_ms_per_frame > 0
