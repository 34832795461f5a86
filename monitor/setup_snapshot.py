"""One picture for the camera set-up page: the browser twin of ``calibrate --snapshot``.

An admin asks for it explicitly; a few frames are read from the camera's source, run through
``monitor.calibration.calibrate`` (the detector, the ROI and the posture model, as the worker) and the last
frame comes back as JPEG bytes in memory, with its boxes and the posture each got. Nothing is written to disk
or to the database.

The web process never loads OpenCV or the models, so the dashboard runs this module as a child process
(``python -m monitor.setup_snapshot --camera-id N``, the database from ``CLASSROOM_MONITOR_DB``), which
prints one JSON object on standard output (the JPEG inside as a data URL) and exits; or one line on standard
error and exit status 2.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass

import cv2
from sqlalchemy.orm import Session

from monitor.calibration import Person, calibrate
from monitor.cameras import CameraConfig
from monitor.capture import FrameSource, SourceError
from monitor.config import ENV_PREFIX
from monitor.detect import DetectorError, make_detector
from monitor.engagement import HeadsUp
from monitor.store.camera_sources import CameraSourceError, camera_source_url, file_source_of
from monitor.store.schema import Camera

SNAPSHOT_FRAMES = 5
"""Frames read per snapshot: the front arrow is their median head pose; the picture is the last one."""
SNAPSHOT_DEADLINE_S = 10.0
"""A source that has not given its frames by then is given up (a stalled stream never hangs a request)."""
JPEG_QUALITY = 85


class SnapshotError(Exception):
    """No picture: no such camera, no source set, or the source unreachable. One line, for the admin."""


@dataclass(frozen=True)
class Snapshot:
    jpeg: bytes  # the last frame as read, unannotated (the page draws the boxes and areas on it)
    width: int
    height: int
    people: list[Person]
    heads_up: HeadsUp
    front: tuple[float, float]
    front_from: str
    frames: int


def hide_credentials(text: str) -> str:
    """``rtsp://user:secret@host/…`` → ``rtsp://***@host/…`` wherever a URL appears in ``text``."""
    return re.sub(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s'\"]+@", r"\1***@", text)


def camera_source(db: Session, camera_id: int) -> str | None:
    """The source the camera runs: a serve config file's when one lists it (as that serve recorded it, when
    it holds no password; else ``SnapshotError``: the dashboard holds only the masked one), else the one
    set on the admin page, credentials included (``monitor.store.camera_sources.camera_source_url``); None
    when none is set. The ``cameras.source`` a worker records is only shown, never opened: it is masked (a
    file's name, a URL without its password)."""
    cam = db.get(Camera, camera_id)
    in_file = None if cam is None else file_source_of(cam)
    if in_file is not None:
        if "***@" in in_file.source:
            raise SnapshotError(
                f"camera {cam.name} runs the source set in the serve config file on host {in_file.host} "
                f"({in_file.source}), whose password the dashboard does not hold: take the picture on "
                f"{in_file.host} with `classroom-monitor calibrate --snapshot`"
            )
        return in_file.source
    try:
        return camera_source_url(db, camera_id)
    except CameraSourceError as exc:  # credentials this process cannot decrypt
        raise SnapshotError(str(exc)) from exc


def take_snapshot(
    source: str,
    config: CameraConfig,
    detector: str,
    *,
    read_timeout_s: float = 5.0,
    frames: int = SNAPSHOT_FRAMES,
) -> Snapshot:
    """Read ``frames`` frames of ``source`` and calibrate on them; ``SnapshotError`` with one line when the
    source gives no frame or the detector cannot load."""
    try:
        det = make_detector(detector)
        src = FrameSource(source, read_timeout_s=read_timeout_s, reconnect_max_s=1.0)
        deadline = threading.Timer(SNAPSHOT_DEADLINE_S, src.stop)
        deadline.start()
        try:
            images = (f.image for f in itertools.islice(src.frames(), frames))
            result = calibrate(images, det, config)
        finally:
            deadline.cancel()
            src.stop()
    except ValueError as exc:  # calibrate: no frame came
        raise SnapshotError(
            f"no frame came from {hide_credentials(source)!r} within {SNAPSHOT_DEADLINE_S:.0f} s "
            "(is the camera on and reachable from this computer?)"
        ) from exc
    except (SourceError, DetectorError, cv2.error) as exc:
        raise SnapshotError(hide_credentials(str(exc))) from exc
    image = result.frame
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise SnapshotError("the frame could not be encoded as JPEG")
    return Snapshot(
        jpeg=jpeg.tobytes(),
        width=int(image.shape[1]),
        height=int(image.shape[0]),
        people=result.people,
        heads_up=result.heads_up,
        front=result.front,
        front_from=result.front_from,
        frames=result.frames,
    )


def snapshot_json(shot: Snapshot) -> dict:
    """What the set-up page draws: the picture as a data URL, every box with its posture (None: dropped by
    the ROI), the head counts of the kept ones and the front arrow."""
    hu = shot.heads_up
    return {
        "image": "data:image/jpeg;base64," + base64.b64encode(shot.jpeg).decode("ascii"),
        "width": shot.width,
        "height": shot.height,
        "frames": shot.frames,
        "people": [
            {"x": p.x, "y": p.y, "w": p.w, "h": p.h, "posture": p.posture, "kept": p.posture is not None}
            for p in shot.people
        ],
        "heads_up": {
            "present": hu.present,
            "up": hu.up,
            "down": hu.down,
            "away": hu.away,
            "unknown": hu.unknown,
            "share": hu.heads_up if hu.denominator else None,
        },
        "front": [round(shot.front[0], 1), round(shot.front[1], 1)],
        "front_from": shot.front_from,
    }


def snapshot_of_camera(db_url: str, camera_id: int, detector: str, read_timeout_s: float) -> dict:
    """The snapshot of a stored camera, with its stored set-up (ROI, mounting, front)."""
    from monitor.store import make_engine, session_factory
    from monitor.store.cameras import config_of

    engine = make_engine(db_url, read_only=True)
    try:
        with session_factory(engine)() as db:
            cam = db.get(Camera, camera_id)
            if cam is None:
                raise SnapshotError(f"no camera {camera_id}")
            name, config, source = cam.name, config_of(cam), camera_source(db, camera_id)
    finally:
        engine.dispose()
    if not source:
        raise SnapshotError(f"camera {name} has no source set: set its source on the camera setup page first")
    out = snapshot_json(take_snapshot(source, config, detector, read_timeout_s=read_timeout_s))
    return {"camera_id": camera_id, "camera": name, **out}


def main(argv: list[str] | None = None) -> int:
    """``python -m monitor.setup_snapshot --camera-id N``: the JSON on stdout, or one line on stderr and
    status 2. The database is ``--db`` or, so that no password shows in ``ps``, ``CLASSROOM_MONITOR_DB``."""
    parser = argparse.ArgumentParser(prog="python -m monitor.setup_snapshot", description=__doc__)
    parser.add_argument("--db", default=os.environ.get(f"{ENV_PREFIX}DB"))
    parser.add_argument("--camera-id", type=int, required=True)
    parser.add_argument("--detector", default="yunet")
    parser.add_argument("--read-timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    if not args.db:
        parser.error(f"give --db or set {ENV_PREFIX}DB")
    logging.basicConfig(level=logging.ERROR)  # the capture's retry lines would name the source
    try:
        out = snapshot_of_camera(args.db, args.camera_id, args.detector, args.read_timeout)
    except SnapshotError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line for the admin, never a traceback
        print(hide_credentials(f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return 2
    json.dump(out, sys.stdout)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
