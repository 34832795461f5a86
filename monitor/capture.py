"""``FrameSource``: frames with UTC timestamps from a webcam, a video file, an RTSP/HTTP stream or the sample.

Live sources are read through OpenCV's FFMPEG backend with open and read timeouts, so a stalled camera never
hangs the worker; a lost source is reopened with exponential backoff while the camera status goes
online → reconnecting → offline (and back). Files end at their last frame; their timestamps are the
session start plus the frame's position in the file.

``feed()`` hands the frames on. A live source (camera, stream, sample, or a file played ``realtime``) is read
by a capture thread into a queue of ``LIVE_QUEUE_FRAMES`` that drops the oldest frame when processing lags,
as Frigate does: a slow worker skips frames instead of falling behind the camera. A file read as fast as it
can be is read in the caller's thread, every frame, so processing it is deterministic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import cv2

from monitor.source_mask import mask_source
from monitor.stages import Frame  # re-exported: the stage values live together

log = logging.getLogger(__name__)
SAMPLE_SOURCE = "sample"
STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
OFFLINE_AFTER_FAILURES = 3
LIVE_QUEUE_FRAMES = 2
"""Frames a live source may have waiting; older ones are dropped (the worker works on the newest)."""

Captured = tuple[Frame, float]
"""A frame and when it was read (``time.monotonic()``): capture-to-store latency counts from there."""

StatusCallback = Callable[[str, str], None]
T = TypeVar("T")


class SourceError(Exception):
    """A source that cannot be opened at all; the message is meant for the user."""


@dataclass(frozen=True)
class CaptureState:
    """What the worker knows of its camera: ``online``, ``reconnecting`` or ``offline``, why, and since when.

    ``since`` is when the camera last came online, or, while it cannot be read, when the outage began (it
    stays put from reconnecting to offline): "unreachable since 05:29 (cannot open source)"."""

    state: str
    reason: str
    since: datetime

    @property
    def online(self) -> bool:
        return self.state == "online"


def source_kind(spec: str) -> str:
    """``sample``, ``webcam``, ``stream`` or ``file``."""
    if spec == SAMPLE_SOURCE:
        return "sample"
    if spec.isdigit():
        return "webcam"
    if spec.lower().startswith(STREAM_PREFIXES):
        return "stream"
    return "file"


class FrameSource:
    """Iterate ``frames()`` until the source ends or ``stop()`` is called."""

    def __init__(
        self,
        spec: str,
        *,
        sample_fps: float = 0.0,
        loop: bool = False,
        realtime: bool = False,
        read_timeout_s: float = 5.0,
        reconnect_max_s: float = 30.0,
        on_status: StatusCallback | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.spec = spec
        self.kind = source_kind(spec)
        self.sample_fps = sample_fps
        self.loop = loop
        self.realtime = realtime
        self.read_timeout_s = read_timeout_s
        self.reconnect_max_s = reconnect_max_s
        self.on_status = on_status or (lambda status, detail: None)
        self.stop_event = stop_event or threading.Event()
        self.reconnects = 0
        self.frames_skipped = 0
        """Frames that ``sample_fps`` leaves out: grabbed from the source, never converted to an image."""
        self.frames_grabbed = 0
        """Frames read from the source (each one demuxed and decoded), kept or skipped."""
        self.decode_cpu_s = 0.0
        """CPU seconds the capture thread spent in grab and retrieve (decoding and colour conversion)."""
        self.capture = CaptureState("online", "source opened", datetime.now(UTC))
        self._cap: cv2.VideoCapture | None = None
        self.fps: float = 0.0
        if self.kind == "file":
            path = Path(spec)
            if path.is_dir():
                raise SourceError(f"{spec} is a directory, not a video file")
            if not path.is_file():
                raise SourceError(f"video file not found: {spec}")
        if self.kind != "sample":
            self._cap = self._open()
            if self._cap is None:
                if self.kind == "stream":
                    # A camera that is down at start is still a camera: keep trying in frames().
                    log.warning("stream %s not reachable yet; will keep retrying", mask_source(spec))
                    self.capture = CaptureState("reconnecting", "cannot open source", datetime.now(UTC))
                else:
                    raise SourceError(f"cannot open {self.kind} source {spec!r} (not a readable video?)")

    def stop(self) -> None:
        self.stop_event.set()

    def _set_capture(self, state: str, reason: str) -> None:
        """Record the camera's state and tell ``on_status``; an outage keeps the time it began."""
        was = self.capture
        since = was.since if (state == "online") == was.online else datetime.now(UTC)
        self.capture = CaptureState(state, reason, since)
        self.on_status(state, reason)

    @property
    def live(self) -> bool:
        """Frames arrive at the source's pace (a camera, or a file played in real time), not on demand."""
        return self.kind != "file" or self.realtime

    def feed(self, start: datetime | None = None, size: int = LIVE_QUEUE_FRAMES) -> FrameFeed:
        """The frames of ``frames(start)``: through a capture thread and a dropping queue for a live source,
        read on demand (every frame) for a file."""
        frames = self.frames(start)
        return LatestFrames(frames, self.stop, size) if self.live else FrameFeed(frames)

    def _open(self) -> cv2.VideoCapture | None:
        timeout_ms = int(self.read_timeout_s * 1000)
        if self.kind == "webcam":
            cap = cv2.VideoCapture(int(self.spec))
        else:
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
            cap = cv2.VideoCapture(self.spec, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            return None
        if self.kind == "file":
            ok, first = cap.read()
            if not ok or first is None:  # a corrupt file often opens but yields nothing
                cap.release()
                return None
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self.fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        return cap

    def frames(self, start: datetime | None = None) -> Iterator[Frame]:
        """Frames until the source ends or ``stop()``; a file's timestamps count from ``start`` (now)."""
        if self.kind == "sample":
            from monitor.sample import SyntheticClassroom

            self._set_capture("online", "synthetic sample")
            yield from SyntheticClassroom().frames(self.stop_event, self.sample_fps or 10.0)
            return
        if self.kind == "file":
            yield from self._file_frames(start or datetime.now(UTC))
        else:
            yield from self._live_frames()

    @property
    def decode_ms_per_frame(self) -> float | None:
        """CPU ms of grab and retrieve per frame read from the source (None before the first frame)."""
        return 1000 * self.decode_cpu_s / self.frames_grabbed if self.frames_grabbed else None

    def _timed(self, call: Callable[[], T]) -> T:
        """``call()``, its CPU time (this thread's) added to ``decode_cpu_s``."""
        start = time.thread_time()
        try:
            return call()
        finally:
            self.decode_cpu_s += time.thread_time() - start

    def _file_frames(self, start: datetime) -> Iterator[Frame]:
        cap = self._cap
        fps = self.fps if 0 < self.fps < 1000 else 25.0
        index, sampler = -1, RateSampler(self.sample_fps)
        clock = time.monotonic()
        self._set_capture("online", f"reading {Path(self.spec).name}")
        while not self.stop_event.is_set():
            if not self._timed(cap.grab):
                if self.loop and index >= 0:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # play again; time keeps running on
                    continue
                break
            index += 1
            self.frames_grabbed += 1
            pos_s = index / fps
            if not sampler.keep(pos_s):
                self.frames_skipped += 1  # grabbed, never converted to an image
                continue
            ok, image = self._timed(cap.retrieve)
            if not ok or image is None:
                break
            # --realtime: deliver frames at the file's own rate, as a camera would.
            if self.realtime and self.stop_event.wait(max(0.0, clock + pos_s - time.monotonic())):
                break
            yield Frame(image, index, start + timedelta(seconds=pos_s))
        cap.release()

    def _live_frames(self) -> Iterator[Frame]:
        index, sampler, failures = -1, RateSampler(self.sample_fps), 0
        backoff = 1.0
        while not self.stop_event.is_set():
            if self._cap is None:
                self._cap = self._open()
                if self._cap is None:
                    failures += 1
                    status = "offline" if failures >= OFFLINE_AFTER_FAILURES else "reconnecting"
                    self._set_capture(status, "cannot open source")
                    log.warning("camera %s: %s, retry in %.0fs", mask_source(self.spec), status, backoff)
                    if self.stop_event.wait(backoff):
                        break
                    backoff = min(backoff * 2, self.reconnect_max_s)
                    continue
                if failures or self.reconnects:
                    log.info("camera %s: reconnected", mask_source(self.spec))
                failures, backoff = 0, 1.0
                self._set_capture("online", "connected")
            # Only a frame that sample_fps keeps is converted to an image (retrieve); the rest are grabbed.
            ok = self._timed(self._cap.grab)
            self.frames_grabbed += bool(ok)
            now = datetime.now(UTC)
            ts_s = now.timestamp()
            keep = ok and sampler.keep(ts_s)
            image = self._timed(self._cap.retrieve)[1] if keep else None
            if not ok or (keep and image is None):
                self._cap.release()
                self._cap = None
                self.reconnects += 1
                self._set_capture("reconnecting", "read failed or timed out")
                log.warning("camera %s: read failed or timed out; reconnecting", mask_source(self.spec))
                continue
            index += 1
            if not keep:
                self.frames_skipped += 1  # grabbed (the stream stays current), never converted
                continue
            yield Frame(image, index, now)
        if self._cap is not None:
            self._cap.release()


class RateSampler:
    """Which frames of a faster source make ``fps`` frames a second on average.

    A frame is kept once its time reaches the next due time, and the due times step by exactly 1/fps, so a
    5 fps substream sampled at 2 fps keeps 2 frames a second (0, 0.6, 1.0, 1.6 s...), not every third frame
    (1.7 a second) as "at least 1/fps after the last kept one" would. After a gap (a stalled stream) the
    schedule starts again from the next frame instead of keeping a burst to catch up.
    """

    def __init__(self, fps: float | None) -> None:
        self.interval = 1.0 / fps if fps else 0.0
        self.due: float | None = None

    def keep(self, ts_s: float) -> bool:
        if not self.interval:
            return True
        if self.due is not None and ts_s < self.due - 1e-3 * self.interval:
            return False
        behind = self.due is None or ts_s - self.due > self.interval
        self.due = (ts_s if behind else self.due) + self.interval
        return True


class FrameFeed:
    """Frames read on demand in the caller's thread: every frame, none dropped (a file read at full speed)."""

    def __init__(self, frames: Iterator[Frame]) -> None:
        self._frames = frames
        self.ended = False
        self.dropped = 0

    def get(self, timeout: float) -> Captured | None:
        """The next frame; None when there is none yet (``ended``: none will come)."""
        if self.ended:
            return None
        frame = next(self._frames, None)
        if frame is None:
            self.ended = True
            return None
        return frame, time.monotonic()

    def clear(self) -> None:
        """Forget frames waiting (a file has none: it is read when asked)."""

    def close(self) -> None:
        self.ended = True


class LatestFrames(FrameFeed):
    """A capture thread reads a live source into a queue of ``size`` frames; when the queue is full the
    oldest frame is dropped (and counted in ``dropped``), so the worker never falls behind the camera."""

    def __init__(
        self, frames: Iterator[Frame], stop: Callable[[], None], size: int = LIVE_QUEUE_FRAMES
    ) -> None:
        super().__init__(frames)
        self._stop = stop
        self._queue: deque[Captured] = deque()
        self._size = max(size, 1)
        self._ready = threading.Condition()
        self._done = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._capture, name="capture", daemon=True)
        self._thread.start()

    def _capture(self) -> None:
        try:
            for frame in self._frames:
                captured = (frame, time.monotonic())
                with self._ready:
                    if len(self._queue) >= self._size:
                        self._queue.popleft()
                        self.dropped += 1
                    self._queue.append(captured)
                    self._ready.notify()
        except Exception as exc:  # handed to the worker's thread, which reports it
            self._error = exc
        finally:
            with self._ready:
                self._done = True
                self._ready.notify_all()

    def get(self, timeout: float) -> Captured | None:
        with self._ready:
            if not self._queue and not self._done:
                self._ready.wait(timeout)
            if self._queue:
                return self._queue.popleft()
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            self.ended = self._done
            return None

    def clear(self) -> None:
        with self._ready:
            self._queue.clear()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the source and wait for the capture thread (a live read ends within its read timeout)."""
        self._stop()
        self._thread.join(timeout)
        self.ended = True
