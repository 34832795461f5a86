"""Attention relative to the front of the room, the heads-up ratio, and the class engagement index.

**Head pose** (yaw, pitch in degrees, relative to the lens): with BlazeFace's 6 keypoints it is solved with
``cv2.solvePnP`` against a generic 3-D face. Without keypoints (Haar, or a detector that gives none) a face
was found because it was turned roughly to the lens, so its pose is taken as (0, 0).

**Front of the room**: the pose of a student who faces the board, seen from this camera (``FrontCalibrator``).
Set by the admin, or learned from the first minutes of a lesson as the median pose of the faces seen (most
students face the board most of the time). Until then, and for back-wall cameras, it follows the mounting:
a front-wall camera hangs by the board (front = the lens); a back-wall camera looks the way the students do
(front = away from the lens, so a face it sees is turned away).

**Per person**, from the pose relative to the front: ``away`` when the yaw is more than ``AWAY_YAW`` off
(talking to a neighbour, turned round), else ``down`` when the pitch is more than ``DOWN_PITCH`` below
(writing, reading), else ``up``. Attention (0..1) is 1 within ±20° yaw and ±15° pitch of the front,
falling linearly to 0 at ±60° yaw or ±45° pitch.

**Heads-up ratio** (0..1 per frame; ``HeadsUp``): the share of present students facing the front. The
denominator is the camera's class size when it is set (``basis = "class_size"``), else the people in view
(``"in_view"``). Students the class size counts but the camera does not see are taken to do what is hidden
from that wall: from the front, a head bent over the desk; from the back, a student facing the board.

**Engagement index** (0..1, per frame, averaged per second in the rollups) describes the class, never a
student::

    E = (w_p * presence + w_a * attention + w_e * expression) / (w_p + w_a + w_e)

- presence: faces in view / expected class size (configured, else the most faces seen so far), capped at 1;
- attention: mean attention of the faces in view;
- expression: mean of p(happy) + p(surprise) + 0.5 p(neutral) — expressions that tend to go with
  engagement — over the faces large enough to read (``min_face_px``); dropped (w_e = 0) in attention-only
  mode, where no emotion is inferred at all, and in a frame where no face is large enough to read.

The weights are settings (``[engagement]`` in the config file), default 0.3 / 0.5 / 0.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from monitor.config import EngagementWeights
from monitor.labels import EMOTIONS

if TYPE_CHECKING:
    from monitor.cameras import CameraConfig

# Generic face, millimetres, image axes (x right, y down, z away from the camera); nose tip at the origin.
# Order of BlazeFace keypoints: right eye, left eye, nose tip, mouth centre, right ear, left ear.
FACE_MODEL_3D = np.array(
    [[-32, -33, 28], [32, -33, 28], [0, 0, 0], [0, 32, 20], [-72, -20, 95], [72, -20, 95]], np.float64
)
YAW_FULL, YAW_ZERO = 20.0, 60.0
PITCH_FULL, PITCH_ZERO = 15.0, 45.0
_EXPRESSION_WEIGHTS = np.array(
    [{"happy": 1.0, "surprise": 1.0, "neutral": 0.5}.get(e, 0.0) for e in EMOTIONS]
)


def head_pose(keypoints: np.ndarray, frame_shape: tuple[int, ...]) -> tuple[float, float] | None:
    """(yaw, pitch) in degrees from keypoints in BlazeFace's layout, or None if the pose cannot be solved.

    Points that are NaN (the ears, for detectors with five landmarks) are left out; eyes, nose and mouth
    must be there.
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.shape != FACE_MODEL_3D[:, :2].shape:
        return None
    ok_rows = np.isfinite(kp).all(axis=1)
    if not ok_rows[:4].all():
        return None
    h, w = frame_shape[:2]
    camera = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    try:
        ok, rvec, _ = cv2.solvePnP(
            FACE_MODEL_3D[ok_rows], kp[ok_rows], camera, None, flags=cv2.SOLVEPNP_SQPNP
        )
    except cv2.error:
        return None
    if not ok:
        return None
    rot, _ = cv2.Rodrigues(rvec)
    # Angles of the face's forward axis (+z of the model points back, so -z points to the camera).
    forward = rot @ np.array([0.0, 0.0, -1.0])
    yaw = float(np.degrees(np.arctan2(forward[0], -forward[2])))
    pitch = float(np.degrees(np.arctan2(-forward[1], -forward[2])))
    return yaw, pitch


def _ramp(angle: float, full: float, zero: float) -> float:
    return float(np.clip((zero - abs(angle)) / (zero - full), 0.0, 1.0))


LENS = (0.0, 0.0)  # a face turned straight to the camera
AWAY_FROM_LENS = (180.0, 0.0)  # the way a back-wall camera looks
AWAY_YAW = 45.0
DOWN_PITCH = 25.0
POSTURES = ("up", "down", "away")
LEARN_S = 120.0  # how long a lesson's first poses are collected to learn the front direction
LEARN_MIN_FACES = 50  # poses needed before a learned front direction is trusted


def face_pose(keypoints: np.ndarray | None, frame_shape: tuple[int, ...]) -> tuple[float, float]:
    """(yaw, pitch) of one face; (0, 0) when there are no usable keypoints (the face was found frontal)."""
    if keypoints is None:
        return LENS
    return head_pose(keypoints, frame_shape) or LENS


def _wrap(angle: float) -> float:
    return (angle + 180.0) % 360.0 - 180.0


def relative_pose(pose: tuple[float, float], front: tuple[float, float]) -> tuple[float, float]:
    """(yaw, pitch) of ``pose`` measured from ``front``; yaw wrapped into [-180, 180)."""
    return _wrap(pose[0] - front[0]), pose[1] - front[1]


def posture(rel_yaw: float, rel_pitch: float) -> str:
    """``up`` (facing the front), ``down`` (head bent toward the desk) or ``away`` (turned away)."""
    if abs(rel_yaw) > AWAY_YAW:
        return "away"
    if rel_pitch < -DOWN_PITCH:
        return "down"
    return "up"


def attention_from(rel_yaw: float, rel_pitch: float) -> float:
    """0..1 attention for a pose relative to the front of the room."""
    return _ramp(rel_yaw, YAW_FULL, YAW_ZERO) * _ramp(rel_pitch, PITCH_FULL, PITCH_ZERO)


def attention_score(
    keypoints: np.ndarray | None, frame_shape: tuple[int, ...], front: tuple[float, float] = LENS
) -> float:
    """0..1 attention of one face relative to ``front`` (default: the lens)."""
    return attention_from(*relative_pose(face_pose(keypoints, frame_shape), front))


class FrontCalibrator:
    """Where the front of the room is, seen from one camera: set, learned, or the mounting's default.

    ``board`` is fixed (set by an admin); ``initial`` was learned in an earlier lesson and is used until
    this lesson has faces enough to learn again (the camera may have been moved).

    Learning (front-wall cameras whose board is not set): the poses of the faces of the first ``learn_s``
    seconds are collected; from ``min_faces`` poses on, their median is the front direction, frozen once the
    time is up.
    """

    def __init__(
        self,
        mounting: str = "front",
        board: tuple[float, float] | None = None,
        initial: tuple[float, float] | None = None,
        learn: bool = True,
        learn_s: float = LEARN_S,
        min_faces: int = LEARN_MIN_FACES,
    ) -> None:
        self.default = AWAY_FROM_LENS if mounting == "back" else LENS
        self.board = board
        self.initial = initial  # learned in an earlier lesson: used until this one has learned its own
        self.learning = learn and board is None and mounting != "back"
        self.learn_s = learn_s
        self.min_faces = min_faces
        self.learned: tuple[float, float] | None = None
        self.done = False
        self._poses: list[tuple[float, float]] = []
        self._start = None

    @property
    def front(self) -> tuple[float, float]:
        return self.board or self.learned or self.initial or self.default

    def observe(self, poses: list[tuple[float, float]], ts) -> None:
        """Add one frame's face poses (only faces with keypoints: a Haar box carries no pose)."""
        if not self.learning or self.done:
            return
        if self._start is None:
            self._start = ts
        self._poses.extend(poses)
        if len(self._poses) >= self.min_faces:
            arr = np.asarray(self._poses, np.float64)
            self.learned = (float(np.median(arr[:, 0])), float(np.median(arr[:, 1])))
            if (ts - self._start).total_seconds() >= self.learn_s:
                self.done = True
                self._poses = []


@dataclass(frozen=True)
class HeadsUp:
    """The class's attention in one frame: shares of the denominator, which sum to 1 when anyone counts."""

    heads_up: float
    heads_down: float
    turned_away: float
    present: int  # people in view
    denominator: int
    basis: str  # class_size | in_view


def heads_up(postures: list[str], class_size: int | None = None, mounting: str = "front") -> HeadsUp:
    """The heads-up ratio of one frame (see the module docstring for who counts)."""
    n = len(postures)
    up, down, away = (sum(p == k for p in postures) for k in POSTURES)
    basis = "class_size" if class_size else "in_view"
    denominator = max(class_size or 0, n)
    if denominator == 0:
        return HeadsUp(0.0, 0.0, 0.0, 0, 0, basis)
    unseen = denominator - n
    if mounting == "back":
        up += unseen
    else:
        down += unseen
    return HeadsUp(up / denominator, down / denominator, away / denominator, n, denominator, basis)


class RoomAttention:
    """Per-person attention and posture, and the frame's heads-up ratio, for one camera's set-up."""

    def __init__(
        self,
        class_size: int | None = None,
        mounting: str = "front",
        calibrator: FrontCalibrator | None = None,
    ) -> None:
        self.class_size = class_size
        self.mounting = mounting
        self.calibrator = calibrator or FrontCalibrator(mounting)

    @classmethod
    def for_camera(cls, config: CameraConfig) -> RoomAttention:
        """Attention as this camera's set-up says: its class size, mounting and front direction."""
        fixed = config.board if config.board_mode == "fixed" else None
        initial = config.board if config.board_mode != "fixed" else None
        return cls(config.class_size, config.mounting, FrontCalibrator(config.mounting, fixed, initial))

    @property
    def basis(self) -> str:
        return "class_size" if self.class_size else "in_view"

    def assess(
        self, keypoints: list[np.ndarray | None], frame_shape: tuple[int, ...], ts=None
    ) -> tuple[np.ndarray, list[str]]:
        """Attention (0..1) and posture of each person; the faces with keypoints teach the calibrator."""
        poses = [face_pose(k, frame_shape) for k in keypoints]
        if ts is not None:
            self.calibrator.observe(
                [p for p, k in zip(poses, keypoints, strict=True) if k is not None and p != LENS], ts
            )
        front = self.calibrator.front
        rel = [relative_pose(p, front) for p in poses]
        scores = np.array([attention_from(*r) for r in rel], np.float32)
        return scores, [posture(*r) for r in rel]

    def summarise(self, postures: list[str]) -> HeadsUp:
        return heads_up(postures, self.class_size, self.mounting)


class EngagementIndex:
    """Class-level engagement per frame (see module docstring)."""

    def __init__(self, weights: EngagementWeights, expected_faces: int = 0, emotions: bool = True) -> None:
        self.weights = weights
        self.expected_faces = expected_faces
        self.emotions = emotions
        self.max_faces = 0

    def __call__(self, attention: np.ndarray, probs: np.ndarray | None) -> float:
        n = len(attention)
        self.max_faces = max(self.max_faces, n)
        expected = self.expected_faces or self.max_faces
        presence = min(n / expected, 1.0) if expected else 0.0
        att = float(attention.mean()) if n else 0.0
        w_p, w_a = self.weights.presence, self.weights.attention
        # Only readable faces have an expression (a NaN row: too small to read); none readable, no term.
        readable = probs[~np.isnan(probs).any(axis=1)] if probs is not None else None
        w_e = self.weights.expression if (self.emotions and readable is not None and len(readable)) else 0.0
        expr = float((readable @ _EXPRESSION_WEIGHTS).mean()) if w_e else 0.0
        total = w_p + w_a + w_e
        return (w_p * presence + w_a * att + w_e * expr) / total if total else 0.0
