"""``FrameSource``: frames with UTC timestamps from a webcam, a video file, an RTSP/HTTP stream or the sample.

Live sources are read through OpenCV's FFMPEG backend with open and read timeouts, so a stalled camera never
hangs the worker; a lost source is reopened with exponential backoff while the camera status goes
online → reconnecting → offline (and back). Files end at their last frame; their timestamps are the
session start plus the frame's position in the file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2

from monitor.stages import Frame  # re-exported: the stage values live together

log = logging.getLogger(__name__)
SAMPLE_SOURCE = "sample"
STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
OFFLINE_AFTER_FAILURES = 3

StatusCallback = Callable[[str, str], None]


class SourceError(Exception):
    """A source that cannot be opened at all; the message is meant for the user."""


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
                    log.warning("stream %s not reachable yet; will keep retrying", spec)
                else:
                    raise SourceError(f"cannot open {self.kind} source {spec!r} (not a readable video?)")

    def stop(self) -> None:
        self.stop_event.set()

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

            yield from SyntheticClassroom().frames(self.stop_event, self.sample_fps or 10.0)
            return
        if self.kind == "file":
            yield from self._file_frames(start or datetime.now(UTC))
        else:
            yield from self._live_frames()

    def _keep(self, ts_s: float, last_kept: float | None) -> bool:
        if not self.sample_fps or last_kept is None:
            return True
        return ts_s - last_kept >= (1.0 / self.sample_fps) * 0.999

    def _file_frames(self, start: datetime) -> Iterator[Frame]:
        cap = self._cap
        fps = self.fps if 0 < self.fps < 1000 else 25.0
        index, last_kept = -1, None
        clock = time.monotonic()
        self.on_status("online", f"reading {Path(self.spec).name}")
        while not self.stop_event.is_set():
            ok, image = cap.read()
            if not ok or image is None:
                if self.loop and index >= 0:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # play again; time keeps running on
                    continue
                break
            index += 1
            pos_s = index / fps
            if not self._keep(pos_s, last_kept):
                continue
            last_kept = pos_s
            # --realtime: deliver frames at the file's own rate, as a camera would.
            if self.realtime and self.stop_event.wait(max(0.0, clock + pos_s - time.monotonic())):
                break
            yield Frame(image, index, start + timedelta(seconds=pos_s))
        cap.release()

    def _live_frames(self) -> Iterator[Frame]:
        index, last_kept, failures = -1, None, 0
        backoff = 1.0
        while not self.stop_event.is_set():
            if self._cap is None:
                self._cap = self._open()
                if self._cap is None:
                    failures += 1
                    status = "offline" if failures >= OFFLINE_AFTER_FAILURES else "reconnecting"
                    self.on_status(status, f"cannot open source; retry in {backoff:.0f}s")
                    log.warning("camera %s: %s, retry in %.0fs", self.spec, status, backoff)
                    if self.stop_event.wait(backoff):
                        break
                    backoff = min(backoff * 2, self.reconnect_max_s)
                    continue
                if failures or self.reconnects:
                    log.info("camera %s: reconnected", self.spec)
                failures, backoff = 0, 1.0
                self.on_status("online", "connected")
            ok, image = self._cap.read()
            if not ok or image is None:
                self._cap.release()
                self._cap = None
                self.reconnects += 1
                self.on_status("reconnecting", "read failed or timed out")
                log.warning("camera %s: read failed or timed out; reconnecting", self.spec)
                continue
            index += 1
            now = datetime.now(UTC)
            ts_s = now.timestamp()
            if not self._keep(ts_s, last_kept):
                continue
            last_kept = ts_s
            yield Frame(image, index, now)
        if self._cap is not None:
            self._cap.release()
