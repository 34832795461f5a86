"""The child process of "Test connection" (``python -m monitor.source_probe``): open a camera source given on
stdin (never on the command line), read one frame, print one JSON line: ``{"width", "height", "fps"}`` or
``{"error"}``, the source's credentials masked. The frame is only measured, never kept or stored.

Its parents (``dashboard.camera_sources``, and :func:`run_in_child` for ``serve``'s ``monitor.serve.probes``)
kill it at the time limit, so a decoder stuck on an unreachable camera never holds a request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from monitor.source_mask import mask_source, mask_text


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


def run_in_child(source: str, timeout_s: float) -> dict:
    """Open ``source`` in a child of this module; ``{"width", "height", "fps"}`` or ``{"error"}`` (masked)."""
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
        return {"error": f"no answer within {timeout_s:g} s"}
    try:
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        last = (proc.stderr.strip().splitlines() or [f"the test ended with status {proc.returncode}"])[-1]
        found = {"error": last}
    if "error" in found:
        return {"error": mask_text(str(found["error"]), source).replace(source, mask_source(source))[:300]}
    return {"width": int(found["width"]), "height": int(found["height"]), "fps": float(found["fps"])}


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
