"""Live sources never fall behind: a capture thread and a 2-frame queue that drops the oldest frame.

Files read at full speed keep every frame (processing them is deterministic).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import pytest

from monitor.capture import LIVE_QUEUE_FRAMES, FrameFeed, FrameSource, LatestFrames
from monitor.config import Settings
from tests.conftest import GROUP, TALKING_HEAD, requires_videos
from tests.monitor.test_worker import rows

pytestmark = requires_videos


def drain(feed: FrameFeed, work_s: float, seconds: float) -> list[tuple[int, float]]:
    """Take frames like a worker that needs ``work_s`` for each: (frame index, age when taken)."""
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        item = feed.get(0.5)
        if item is None:
            if feed.ended:
                break
            continue
        frame, captured = item
        got.append((frame.index, time.monotonic() - captured))
        time.sleep(work_s)
    return got


def test_a_slow_reader_of_a_live_source_gets_fresh_frames_and_the_rest_are_counted_as_dropped() -> None:
    source = FrameSource(str(GROUP), realtime=True, loop=True)  # 30 frames/s, like a camera
    feed = source.feed()
    assert isinstance(feed, LatestFrames)
    try:
        got = drain(feed, work_s=0.2, seconds=3.0)  # a worker managing 5 frames/s
    finally:
        feed.close()
    indices = [i for i, _ in got]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert 8 <= len(got) <= 20
    assert feed.dropped >= 40  # about 90 frames delivered, about 15 taken
    # Never more than the queue's few frames behind the camera: the newest frames are the ones worked on.
    frame_s = 1 / 30
    assert max(age for _, age in got[1:]) < (LIVE_QUEUE_FRAMES + 1) * frame_s + 0.25, got
    assert not any(t.name == "capture" and t.is_alive() for t in threading.enumerate())


def test_a_file_read_at_full_speed_gives_every_frame_however_slow_the_reader() -> None:
    feed = FrameSource(str(TALKING_HEAD)).feed()
    assert not isinstance(feed, LatestFrames)
    got = drain(feed, work_s=0.0, seconds=60.0)
    assert [i for i, _ in got] == list(range(115))
    assert feed.ended and feed.dropped == 0


def high_speed_copy(clip: Path, out: Path, fps: float, times: int) -> Path:
    """``clip``'s frames, ``times`` over, in a file that says it was filmed at ``fps``."""
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while (got := cap.read())[0]:
        frames.append(got[1])
    cap.release()
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for _ in range(times):
        for frame in frames:
            writer.write(frame)
    writer.release()
    return out


@pytest.mark.slow
def test_a_worker_slower_than_its_camera_drops_frames_and_reports_latency(
    db_url: str, tmp_path: Path
) -> None:
    from monitor.worker import CaptureWorker

    # A 600 frames/s camera: 1.7 ms a frame, less than detection takes on any CPU (decoding takes less), so
    # the worker falls behind on every machine, however fast, and never by a machine's luck.
    # 6 times over: the camera plays 3 s, so several batches and heartbeats happen on the fastest machine.
    clip = high_speed_copy(GROUP, tmp_path / "high_speed.avi", fps=600.0, times=6)
    settings = Settings(db_url=db_url, mode="attention", detect_every=1, full_detect_every=1)
    worker = CaptureWorker(settings, "hall", str(clip), session_label="Assembly", realtime=True)
    summary = worker.run()
    assert summary.dropped > 0 and f"{summary.dropped} frames dropped" in summary.line()
    ((frames, dropped, p50, p95),) = rows(
        db_url, "SELECT frames, frames_dropped, latency_p50_ms, latency_p95_ms FROM worker_status"
    )
    assert frames == summary.frames and 0 < dropped <= summary.dropped
    assert 0 < p50 <= p95
    # What was processed is stored in order, with gaps where frames were dropped.
    indices = [r[0] for r in rows(db_url, "SELECT DISTINCT frame_index FROM observations ORDER BY 1")]
    assert indices[-1] - indices[0] + 1 > len(indices)
    assert rows(db_url, "SELECT frames FROM class_sessions") == [(summary.frames,)]
