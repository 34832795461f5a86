"""Per-head posture and attention, the heads-up ratio, and the class engagement index.

**Posture per person** (``monitor/posture.py``, model ``models/posture-v1``): ``up`` (head raised, facing
the front), ``down`` (reading, writing), ``away`` (turned 45 degrees or more) or ``unknown`` (cannot be read:
no face found when the face is enlarged, a face under the model's minimum size, or a low probability). It is
read from landmarks found again on each face enlarged to 64 px, by a classifier trained on by-eye labels
(held out by person: 79.7% on answered faces, 91% answered; see its model card). The pose-to-the-"front"
solvePnP below is kept only for ``classroom-monitor calibrate``'s drawing: it no longer decides posture,
and "front = the median pose of the first minutes" no longer drives anything a teacher sees.

**Attention per person** follows the posture: 1 when up, 0 when down or away, smoothed over frames by the
pipeline; an unknown head does not change its track's value (0 until its first readable posture), so an
unreadable head never counts as attending.

**Heads-up ratio** (0..1 per frame; ``HeadsUp``): the share of READABLE heads that are up, with its base:
the counts of up, down, away and unknown ("2 of 14 readable heads up; 12 not readable"). Unknown heads are
reported apart and never count as up; the shares are 0 when no head is readable. A back-wall camera sees the
faces of people turned away from the board, so a face it reads is ``away``.

**Head pose** (yaw, pitch in degrees, relative to the lens; calibrate's drawing only): with 5-6 keypoints it
is solved with ``cv2.solvePnP`` against a generic 3-D face. ``FrontCalibrator`` holds the front set by an
admin or learned as the median pose of the first minutes.

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

import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from monitor.config import EngagementWeights
from monitor.detectors.base import DetectorError
from monitor.labels import EMOTIONS
from monitor.posture import UNKNOWN, HeadPosture, PostureEstimator, PostureModelError

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
POSTURE_REFRESH_PER_FRAME = 1  # heads re-read per frame: a class of 24 is re-read every 24 frames (0.8 s)
NOT_READ_YET = "not read yet"  # the reason of a head the refresh budget has not reached yet
log = logging.getLogger(__name__)


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
    """The class's posture in one frame: shares of the READABLE heads, and the counts they come from."""

    heads_up: float  # up / readable (0 when none is readable)
    heads_down: float
    turned_away: float
    present: int  # people in view (readable or not)
    denominator: int  # readable heads: the base of the shares
    basis: str  # "readable": shares are over the heads whose posture could be read
    up: int = 0
    down: int = 0
    away: int = 0
    unknown: int = 0
    class_size: int | None = None  # the camera's configured class size, for the base's wording

    @property
    def readable(self) -> int:
        return self.up + self.down + self.away

    def text(self) -> str:
        """The figure with its base, e.g. "2 of 14 readable heads up; 12 not readable"."""
        if self.present == 0:
            return "no heads in view"
        parts = [f"{self.up} of {self.readable} readable heads up"]
        if self.unknown:
            parts.append(f"{self.unknown} not readable")
        if self.class_size:
            parts.append(f"class of {self.class_size}")
        return "; ".join(parts)


def heads_up(postures: list[str], class_size: int | None = None, mounting: str = "front") -> HeadsUp:
    """The heads-up ratio of one frame over its readable heads (``unknown`` and anything else is unreadable).

    ``mounting`` is kept for callers; the posture itself already says how a back-wall camera's faces count.
    """
    n = len(postures)
    up, down, away = (sum(p == k for p in postures) for k in POSTURES)
    readable = up + down + away
    unknown = n - readable
    if readable == 0:
        return HeadsUp(0.0, 0.0, 0.0, n, 0, "readable", 0, 0, 0, unknown, class_size)
    return HeadsUp(
        up / readable,
        down / readable,
        away / readable,
        n,
        readable,
        "readable",
        up,
        down,
        away,
        unknown,
        class_size,
    )


class RoomAttention:
    """Per-person posture and attention, and the frame's heads-up ratio, for one camera's set-up.

    ``postures`` reads each head with ``PostureEstimator`` (loaded on first use); in a big class it refreshes
    at most ``refresh_per_frame`` heads a frame (new heads first, then the longest unread), and a head keeps
    its last reading in between: posture changes over seconds, and each read costs a YuNet pass on the
    enlarged face. 0 refreshes every head on every frame.
    """

    def __init__(
        self,
        class_size: int | None = None,
        mounting: str = "front",
        calibrator: FrontCalibrator | None = None,
        estimator: PostureEstimator | None = None,
        refresh_per_frame: int = POSTURE_REFRESH_PER_FRAME,
    ) -> None:
        self.class_size = class_size
        self.mounting = mounting
        self.calibrator = calibrator or FrontCalibrator(mounting)  # calibrate's drawing only
        self._estimator = estimator
        self._estimator_failed = False
        self.refresh_per_frame = max(refresh_per_frame, 0)
        self._readings: dict[int, tuple[weakref.ref, HeadPosture, int]] = {}
        self._frame = 0

    @classmethod
    def for_camera(cls, config: CameraConfig) -> RoomAttention:
        """This camera's class size and mounting (its front direction feeds calibrate's drawing only)."""
        fixed = config.board if config.board_mode == "fixed" else None
        initial = config.board if config.board_mode != "fixed" else None
        return cls(config.class_size, config.mounting, FrontCalibrator(config.mounting, fixed, initial))

    @property
    def basis(self) -> str:
        return "readable"

    @property
    def estimator(self) -> PostureEstimator | None:
        """The posture estimator, or None (every head unknown) when its model or YuNet cannot load."""
        if self._estimator is None and not self._estimator_failed:
            try:
                self._estimator = PostureEstimator()
            except (PostureModelError, DetectorError) as exc:
                log.error("head posture unavailable, every head counts as unknown: %s", exc)
                self._estimator_failed = True
        return self._estimator

    def read(self, image: np.ndarray, boxes: np.ndarray) -> list[HeadPosture]:
        """Posture of every box now (no caching); unknown for all when no estimator could load."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        est = self.estimator
        if est is None:
            return [HeadPosture(UNKNOWN, np.nan, np.nan, np.nan, "no posture model") for _ in boxes]
        out = est.estimate(image, boxes)
        if self.mounting == "back":  # a face seen from the back wall is turned away from the board
            out = [h if not h.readable else HeadPosture("away", h.p_up, h.p_down, h.p_away) for h in out]
        return out

    def postures(self, image: np.ndarray, tracks: list, boxes: np.ndarray) -> list[HeadPosture]:
        """Posture of each track this frame: some re-read (see the class docstring), the rest as last read."""
        self._frame += 1
        live = {id(t): t for t in tracks}
        self._readings = {k: v for k, v in self._readings.items() if k in live and v[0]() is live[k]}
        order = [i for i, t in enumerate(tracks) if id(t) not in self._readings]
        order += sorted(
            (i for i, t in enumerate(tracks) if id(t) in self._readings),
            key=lambda i: self._readings[id(tracks[i])][2],
        )
        if self.refresh_per_frame:
            order = order[: self.refresh_per_frame]
        if order:
            fresh = self.read(image, np.asarray(boxes)[order])
            for i, h in zip(order, fresh, strict=True):
                self._readings[id(tracks[i])] = (weakref.ref(tracks[i]), h, self._frame)
        unread = HeadPosture(UNKNOWN, np.nan, np.nan, np.nan, NOT_READ_YET)
        return [self._readings[id(t)][1] if id(t) in self._readings else unread for t in tracks]

    def assess(
        self, keypoints: list[np.ndarray | None], frame_shape: tuple[int, ...], ts=None
    ) -> tuple[np.ndarray, list[str]]:
        """The OLD pose-to-the-front attention and posture (solvePnP; calibrate's drawing only)."""
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


def attention_of(posture_value: str) -> float | None:
    """Attention of one reading: 1 up, 0 down or away, None unknown (leave the track's value as it is)."""
    if posture_value == "up":
        return 1.0
    if posture_value in ("down", "away"):
        return 0.0
    return None


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
