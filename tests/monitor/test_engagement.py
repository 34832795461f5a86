"""Attention from head pose, and the documented class engagement index."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from monitor.config import EngagementWeights
from monitor.engagement import FACE_MODEL_3D, EngagementIndex, attention_score, head_pose

SHAPE = (720, 1280, 3)


def project(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Keypoints of the generic face turned by (yaw, pitch), 60 cm in front of the camera."""
    h, w = SHAPE[:2]
    camera = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    rot_y = cv2.Rodrigues(np.array([0.0, np.radians(yaw_deg), 0.0]))[0]
    rot_x = cv2.Rodrigues(np.array([np.radians(-pitch_deg), 0.0, 0.0]))[0]
    pts, _ = cv2.projectPoints(
        FACE_MODEL_3D, cv2.Rodrigues(rot_x @ rot_y)[0], np.array([0, 0, 600.0]), camera, None
    )
    return pts.reshape(-1, 2)


@pytest.mark.parametrize(("yaw", "pitch"), [(0, 0), (30, 0), (-30, 0), (0, 20), (45, -10)])
def test_head_pose_recovers_the_angles_of_a_projected_face(yaw: float, pitch: float) -> None:
    got_yaw, got_pitch = head_pose(project(yaw, pitch), SHAPE)
    assert abs(abs(got_yaw) - abs(yaw)) < 3
    assert abs(abs(got_pitch) - abs(pitch)) < 3
    if yaw:
        assert np.sign(got_yaw) == np.sign(head_pose(project(yaw, 0), SHAPE)[0])


def test_attention_is_full_facing_the_room_and_falls_as_the_head_turns() -> None:
    scores = [attention_score(project(yaw, 0), SHAPE) for yaw in (0, 15, 40, 70)]
    assert scores[0] == scores[1] == 1.0
    assert 0 < scores[2] < 1
    assert scores[3] == 0.0
    assert attention_score(None, SHAPE) == 1.0  # Haar: only frontal faces are found at all


def test_engagement_index_combines_presence_attention_and_expression() -> None:
    happy = np.zeros((2, 7))
    happy[:, 3] = 1.0
    index = EngagementIndex(EngagementWeights(presence=1, attention=1, expression=1), expected_faces=4)
    # presence 2/4, attention 0.5, expression 1 → (0.5 + 0.5 + 1) / 3
    assert index(np.array([1.0, 0.0]), happy) == pytest.approx(2 / 3)
    assert index(np.array([]), None) == 0.0


def test_attention_only_index_ignores_expression() -> None:
    index = EngagementIndex(EngagementWeights(presence=1, attention=1, expression=5), emotions=False)
    assert index(np.array([1.0, 1.0]), None) == pytest.approx(1.0)  # presence 2/2 (max seen), attention 1
