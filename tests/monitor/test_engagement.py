"""Attention from head pose, and the documented class engagement index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from monitor.config import EngagementWeights
from monitor.engagement import (
    FACE_MODEL_3D,
    EngagementIndex,
    FrontCalibrator,
    RoomAttention,
    attention_score,
    head_pose,
    heads_up,
)

SHAPE = (720, 1280, 3)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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


def test_head_pose_uses_four_points_when_the_detector_gives_no_ears() -> None:
    """YuNet and CenterFace give five landmarks: the ears come as NaN."""
    kp = project(30, -20)
    kp[4:] = np.nan
    yaw, pitch = head_pose(kp, SHAPE)
    assert abs(abs(yaw) - 30) < 3 and abs(pitch + 20) < 3
    kp[2] = np.nan  # no nose: no pose
    assert head_pose(kp, SHAPE) is None


def test_attention_is_read_relative_to_the_front_not_the_lens() -> None:
    """A high camera sees a student facing the board with the head pitched down: that is attentive."""
    board = (0.0, -30.0)
    facing_board = project(0, -30)
    assert attention_score(facing_board, SHAPE) < 0.7  # against the lens it would look inattentive
    assert attention_score(facing_board, SHAPE, front=board) == 1.0


def test_heads_down_and_turned_away_are_told_apart() -> None:
    room = RoomAttention(calibrator=FrontCalibrator(board=(0.0, -10.0)))
    scores, postures = room.assess(
        [project(0, -10), project(5, -55), project(70, -10), project(-70, -10), None], SHAPE
    )
    assert postures[:4] == ["up", "down", "away", "away"]
    assert postures[4] == "up"  # no keypoints (Haar): found frontal, so turned to the lens, near the board
    assert scores[0] == 1.0 and scores[1] < 0.5 and scores[2] == 0.0


def test_heads_up_ratio_is_a_share_of_the_readable_heads_whatever_the_class_size() -> None:
    in_view = heads_up(["up", "up", "down", "away"])
    assert (in_view.heads_up, in_view.heads_down, in_view.turned_away) == (0.5, 0.25, 0.25)
    assert (in_view.basis, in_view.denominator) == ("readable", 4)
    # A class of 10 of whom the camera reads 4: the 6 it cannot see are not guessed (they used to count as
    # heads down); the class size only goes into the wording of the base.
    sized = heads_up(["up", "up", "down", "away", "unknown"], class_size=10)
    assert (sized.heads_up, sized.heads_down, sized.turned_away) == (0.5, 0.25, 0.25)
    assert sized.text() == "2 of 4 readable heads up; 1 not readable; class of 10"
    assert heads_up([]).heads_up == 0.0 and heads_up([]).text() == "no heads in view"


def test_a_back_wall_camera_sees_every_visible_face_as_turned_away() -> None:
    room = RoomAttention(class_size=20, mounting="back")
    _, postures = room.assess([project(0, 0), project(20, -10), None], SHAPE, T0)
    assert postures == ["away", "away", "away"]
    assert room.calibrator.learned is None  # nothing is learned from faces that look at the back wall


def test_the_front_direction_is_learned_from_the_first_minutes() -> None:
    """Most students face the board: the median pose of the first minutes is the front."""
    rng = np.random.default_rng(0)
    calib = FrontCalibrator(learn_s=60, min_faces=20)
    room = RoomAttention(calibrator=calib)
    assert calib.front == (0.0, 0.0)  # until enough faces were seen: the lens (front-wall camera)
    for s in range(0, 90, 2):
        faces = [project(15 + rng.normal(0, 4), -25 + rng.normal(0, 4)) for _ in range(6)]
        faces.append(project(-60, -25))  # one student talks to a neighbour all lesson
        room.assess(faces, SHAPE, T0 + timedelta(seconds=s))
    yaw, pitch = calib.front
    assert calib.done and abs(yaw) > 10 and abs(abs(yaw) - 15) < 3 and abs(pitch + 25) < 3
    _, postures = room.assess([project(15, -25), project(-60, -25), project(15, -70)], SHAPE)
    assert postures == ["up", "away", "down"]


def test_a_board_set_by_the_admin_is_never_relearned() -> None:
    calib = FrontCalibrator(board=(10.0, -20.0), initial=(0.0, 0.0))
    calib.observe([(40.0, 0.0)] * 100, T0)
    assert calib.front == (10.0, -20.0) and calib.learned is None
    earlier = FrontCalibrator(initial=(5.0, -5.0), min_faces=3)
    assert earlier.front == (5.0, -5.0)  # learned in an earlier lesson: used until this one learns
    earlier.observe([(20.0, -10.0)] * 3, T0)
    assert earlier.front == (20.0, -10.0)
