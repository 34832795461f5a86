"""Attention per face and the class-level engagement index.

**Attention** (0..1) is how squarely a face is turned to the front of the room. With BlazeFace keypoints the
head pose is estimated with ``cv2.solvePnP`` against a generic 3-D face; a face within ±20° yaw and ±15°
pitch scores 1, falling linearly to 0 at ±60° yaw or ±45° pitch. The Haar baseline only finds frontal faces,
so its faces score 1.

**Engagement index** (0..1, per frame, averaged per second in the rollups) describes the class, never a
student::

    E = (w_p * presence + w_a * attention + w_e * expression) / (w_p + w_a + w_e)

- presence: faces in view / expected class size (configured, else the most faces seen so far), capped at 1;
- attention: mean attention of the faces in view;
- expression: mean of p(happy) + p(surprise) + 0.5 p(neutral) — expressions that tend to go with
  engagement; dropped (w_e = 0) in attention-only mode, where no emotion is inferred at all.

The weights are settings (``[engagement]`` in the config file), default 0.3 / 0.5 / 0.2.
"""

from __future__ import annotations

import cv2
import numpy as np

from monitor.config import EngagementWeights
from monitor.labels import EMOTIONS

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
    """(yaw, pitch) in degrees from 6 BlazeFace keypoints, or None if the pose cannot be solved."""
    h, w = frame_shape[:2]
    camera = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    ok, rvec, _ = cv2.solvePnP(
        FACE_MODEL_3D, keypoints.astype(np.float64), camera, None, flags=cv2.SOLVEPNP_EPNP
    )
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


def attention_score(keypoints: np.ndarray | None, frame_shape: tuple[int, ...]) -> float:
    """0..1 attention of one face (1 when no keypoints: only frontal faces were detectable)."""
    if keypoints is None:
        return 1.0
    pose = head_pose(keypoints, frame_shape)
    if pose is None:
        return 0.5
    yaw, pitch = pose
    return _ramp(yaw, YAW_FULL, YAW_ZERO) * _ramp(pitch, PITCH_FULL, PITCH_ZERO)


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
        w_e = self.weights.expression if (self.emotions and probs is not None) else 0.0
        expr = float((probs @ _EXPRESSION_WEIGHTS).mean()) if (w_e and n) else 0.0
        total = w_p + w_a + w_e
        return (w_p * presence + w_a * att + w_e * expr) / total if total else 0.0
