"""Check a camera's set-up on a few frames: who is detected, what the ROI drops, how heads read.

``calibrate`` runs the detector on the frames given, keeps the people inside the region of interest, reads
each head's posture with the worker's model (``RoomAttention.read``) and draws one annotated frame for the
admin to look at. The front-direction arrow in the corner (the median solvePnP head pose, unless an admin
fixed it, or the camera hangs on the back wall) only orients the drawing: posture does not use it. It
stores and writes nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from monitor.cameras import CameraConfig, Rect
from monitor.detect import FaceDetector
from monitor.engagement import LENS, FrontCalibrator, HeadsUp, RoomAttention, face_pose, relative_pose
from monitor.stages import Detections

# BGR colours of each posture in the snapshot
POSTURE_COLOURS = {
    "up": (60, 200, 60),
    "down": (0, 200, 255),
    "away": (60, 60, 230),
    "unknown": (200, 200, 200),
}


@dataclass(frozen=True)
class Person:
    """One box of the snapshot in pixels; ``posture`` is None for a box the ROI drops."""

    x: int
    y: int
    w: int
    h: int
    posture: str | None


@dataclass
class CalibrationResult:
    frames: int
    detected: list[int]  # people per frame, before the ROI
    kept: list[int]  # people per frame inside the ROI
    front: tuple[float, float]
    front_from: str  # how the front direction was found, for the user
    poses_used: int
    heads_up: HeadsUp  # of the last frame
    snapshot: np.ndarray  # the last frame, annotated
    frame: np.ndarray | None = None  # the last frame as read (the browser draws its own boxes on it)
    people: list[Person] = field(default_factory=list)  # every box of the last frame, kept or dropped


def calibrate(
    images: Iterable[np.ndarray], detector: FaceDetector, config: CameraConfig
) -> CalibrationResult:
    """Detect on every image, learn the front direction from all of them, annotate the last one."""
    fixed = config.board if config.board_mode == "fixed" else None
    calib = FrontCalibrator(config.mounting, board=fixed, learn_s=0.0, min_faces=1)
    detected, kept, poses = [], [], []
    last: tuple[np.ndarray, Detections] | None = None
    for image in images:
        dets = detector.detect(image)
        inside = config.filter(dets, image.shape)
        detected.append(len(dets))
        kept.append(len(inside))
        kps = _keypoints(inside)
        poses += [face_pose(k, image.shape) for k in kps if k is not None]
        last = (image, inside, dets)
    if last is None:
        raise ValueError("the source gave no frames")
    poses = [p for p in poses if p != LENS]
    if calib.learning and poses:
        from datetime import UTC, datetime

        calib.observe(poses, datetime.now(UTC))
    if fixed is not None:
        front_from = "set by an admin"
    elif calib.learned is not None:
        front_from = f"learned now from {len(poses)} head poses"
    elif config.mounting == "back":
        front_from = "back-wall camera: the students face away from it"
    else:
        front_from = "no face with keypoints seen: taken as the lens"
    image, inside, dets = last
    room = RoomAttention(config.class_size, config.mounting, calib)
    postures = [h.posture for h in room.read(image, inside.boxes)]  # the posture model, as the worker
    summary = room.summarise(postures)
    snapshot = annotate(image, dets, inside, postures, config, calib.front, summary)
    return CalibrationResult(
        len(detected),
        detected,
        kept,
        calib.front,
        front_from,
        len(poses),
        summary,
        snapshot,
        frame=image,
        people=_people(dets, inside, postures),
    )


def _people(detected: Detections, inside: Detections, postures: list[str]) -> list[Person]:
    """Every detected box, with the posture read for it when the ROI keeps it (the drawing's grey boxes
    are the ones with none)."""
    kept = {tuple(b): postures[i] for i, b in enumerate(np.round(inside.boxes).astype(int).tolist())}
    out = []
    for b in np.round(detected.boxes).astype(int).tolist():
        out.append(Person(*b, posture=kept.get(tuple(b))))
    return out


def _keypoints(dets: Detections) -> list[np.ndarray | None]:
    return [None if dets.keypoints is None else dets.keypoints[i] for i in range(len(dets))]


def _rect_px(r: Rect, w: int, h: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return (round(r.x * w), round(r.y * h)), (round((r.x + r.w) * w), round((r.y + r.h) * h))


def _arrow(yaw: float, pitch: float, length: float) -> tuple[float, float]:
    """Image-plane offset of a head pointing at (yaw, pitch): yaw positive to the image's left."""
    return -np.sin(np.radians(yaw)) * length, -np.sin(np.radians(pitch)) * length


def annotate(
    image: np.ndarray,
    detected: Detections,
    inside: Detections,
    postures: list[str],
    config: CameraConfig,
    front: tuple[float, float],
    summary: HeadsUp,
) -> np.ndarray:
    """The frame with the ROI, every box (grey: dropped by the ROI; coloured by posture) and the front."""
    out = image.copy()
    h, w = out.shape[:2]
    shade = out.copy()
    for r in config.ignore:
        cv2.rectangle(shade, *_rect_px(r, w, h), (0, 0, 160), -1)
    out = cv2.addWeighted(shade, 0.35, out, 0.65, 0)
    for r in config.ignore:
        cv2.rectangle(out, *_rect_px(r, w, h), (0, 0, 200), 2)
    for r in config.include:
        cv2.rectangle(out, *_rect_px(r, w, h), (200, 160, 0), 2)
    kept = {tuple(b) for b in np.round(inside.boxes).astype(int).tolist()}
    for b in np.round(detected.boxes).astype(int).tolist():
        if tuple(b) not in kept:
            cv2.rectangle(out, (b[0], b[1]), (b[0] + b[2], b[1] + b[3]), (128, 128, 128), 1)
    for i, b in enumerate(np.round(inside.boxes).astype(int).tolist()):
        colour = POSTURE_COLOURS[postures[i]]
        cv2.rectangle(out, (b[0], b[1]), (b[0] + b[2], b[1] + b[3]), colour, 2)
        if inside.keypoints is not None:
            pose = face_pose(inside.keypoints[i], out.shape)
            if pose != LENS:
                dx, dy = _arrow(*relative_pose(pose, (0.0, 0.0)), max(b[2], 12))
                c = (b[0] + b[2] // 2, b[1] + b[3] // 2)
                cv2.line(out, c, (round(c[0] + dx), round(c[1] + dy)), colour, 1, cv2.LINE_AA)
    # The front direction, as a head at the top-left corner would point.
    centre = (70, 70)
    cv2.circle(out, centre, 50, (255, 255, 255), 1, cv2.LINE_AA)
    dx, dy = _arrow(*front, 50)
    cv2.arrowedLine(
        out, centre, (round(centre[0] + dx), round(centre[1] + dy)), (255, 255, 255), 2, cv2.LINE_AA
    )
    lines = [
        f"front: yaw {front[0]:.0f} pitch {front[1]:.0f} deg ({config.mounting} wall)",
        f"people in ROI {summary.present}; heads up {summary.heads_up:.0%}: {summary.text()}",
        "green: heads up  orange: heads down  red: turned away  light grey: unknown  grey: outside ROI",
    ]
    for k, text in enumerate(lines):
        org = (130, 30 + 24 * k)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out
