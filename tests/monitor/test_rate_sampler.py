"""``sample_fps`` keeps that many frames a second on average, whatever the source's own rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.capture import FrameSource, RateSampler
from tests.conftest import requires_videos
from tests.monitor.test_capture_decode import CLASSROOM
from tests.monitor.test_capture_queue import high_speed_copy


def kept_times(source_fps: float, sample_fps: float, seconds: float) -> list[float]:
    sampler = RateSampler(sample_fps)
    return [i / source_fps for i in range(int(seconds * source_fps)) if sampler.keep(i / source_fps)]


@pytest.mark.parametrize(
    ("source_fps", "sample_fps"), [(5, 2), (30, 5), (25, 10), (15, 4), (30, 7), (12.5, 5), (29.97, 2)]
)
def test_a_faster_source_gives_sample_fps_on_average(source_fps: float, sample_fps: float) -> None:
    kept = kept_times(source_fps, sample_fps, 60)
    assert len(kept) == pytest.approx(60 * sample_fps, abs=1)
    gaps = [b - a for a, b in zip(kept, kept[1:], strict=False)]
    assert max(gaps) < 1 / sample_fps + 1 / source_fps  # never more than one source frame late


def test_a_5_fps_substream_sampled_at_2_fps_keeps_two_frames_a_second() -> None:
    # "at least 1/fps after the last kept frame" kept every third frame of 5 fps: 1.67 a second.
    assert kept_times(5, 2, 3) == pytest.approx([0.0, 0.6, 1.0, 1.6, 2.0, 2.6])


def test_a_slower_source_keeps_every_frame_and_no_sample_fps_keeps_all() -> None:
    assert len(kept_times(5, 10, 10)) == 50
    assert len(kept_times(30, 0, 2)) == 60


def test_after_a_stall_the_schedule_restarts_instead_of_keeping_a_burst() -> None:
    sampler = RateSampler(5.0)
    assert sampler.keep(0.0) and not sampler.keep(0.1)
    assert sampler.keep(10.0)  # the stream came back 10 s later
    assert [sampler.keep(10.0 + i / 30) for i in range(1, 7)] == [False] * 5 + [True]


@requires_videos
def test_the_real_classroom_clip_as_a_5_fps_substream_sampled_at_2_fps(tmp_path: Path) -> None:
    clip = high_speed_copy(CLASSROOM, tmp_path / "substream.avi", fps=5.0, times=1)
    frames = list(FrameSource(str(clip), sample_fps=2.0).frames())
    assert [f.index for f in frames][:6] == [0, 3, 5, 8, 10, 13]
    span = (frames[-1].ts - frames[0].ts).total_seconds()
    assert (len(frames) - 1) / span == pytest.approx(2.0, abs=0.1)
