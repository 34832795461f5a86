""" "Test connection": open a camera source, read one frame, and say what it gives, within a time limit.

The source is opened in a child process (``python -m monitor.source_probe``, the source on its stdin, never on
its command line) so that a decoder stuck on an unreachable camera is killed at the limit instead of holding
the caller. The frame read is only looked at for its size, never kept or stored. Errors come back with the
source's credentials masked.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from monitor.store.camera_sources import mask_source, mask_text

PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ProbeResult:
    """What a connection test found, and on which host it ran."""

    ok: bool
    host: str
    seconds: float
    width: int = 0
    height: int = 0
    fps: float = 0.0
    error: str = ""

    def line(self) -> str:
        """One line for the admin (English; the dashboard words its own from the fields)."""
        if self.ok:
            fps = f"{self.fps:g} fps" if self.fps > 0 else "fps not reported"
            return f"reachable from {self.host}: {self.width}x{self.height}, {fps} ({self.seconds:.1f} s)"
        return f"not reachable from {self.host}: {self.error}"


def _open(source: str) -> dict:
    """In the child: open ``source``, read one frame, report its size and the stream's fps."""
    import cv2

    if source.isdigit():
        cap = cv2.VideoCapture(int(source))
    elif "://" in source:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 8000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 8000]
        cap = cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)
    else:
        path = Path(source)
        if not path.exists():
            return {"error": f"no file {source} on this host"}
        if path.is_dir():
            return {"error": f"{source} is a folder, not a video file"}
        if not os.access(path, os.R_OK):
            return {"error": f"{source} is not readable by this process"}
        cap = cv2.VideoCapture(source)
    try:
        if not cap.isOpened():
            return {"error": "the source could not be opened (wrong address, refused, or not a video)"}
        ok, frame = cap.read()
        if not ok or frame is None:
            return {"error": "the source opened but sent no frame"}
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        height, width = frame.shape[:2]
        return {"width": int(width), "height": int(height), "fps": round(fps, 2) if 0 < fps < 1000 else 0.0}
    finally:
        cap.release()


def probe_source(source: str, timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Open ``source`` on this host and answer within ``timeout_s`` (plus a moment to end the child)."""
    host = socket.gethostname()
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "monitor.source_probe"],
            input=source,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "-8"},
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(False, host, time.monotonic() - started, error=f"no answer within {timeout_s:g} s")
    seconds = time.monotonic() - started
    try:
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        last = (proc.stderr.strip().splitlines() or [f"the test ended with status {proc.returncode}"])[-1]
        return ProbeResult(False, host, seconds, error=mask_text(last, source)[:300])
    if "error" in found:
        return ProbeResult(False, host, seconds, error=mask_text(found["error"], source)[:300])
    return ProbeResult(True, host, seconds, found["width"], found["height"], found["fps"])


def main() -> None:
    """The child: the source on stdin, one JSON line on stdout."""
    source = sys.stdin.read().strip()
    try:
        found = _open(source)
    except Exception as exc:  # any OpenCV failure becomes one line for the admin
        found = {"error": f"{type(exc).__name__}: {exc}"}
    if "error" in found:
        found["error"] = mask_text(found["error"], source).replace(source, mask_source(source))
    print(json.dumps(found))


if __name__ == "__main__":
    main()
