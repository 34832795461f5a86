"""A camera's classroom set-up: validation, ROI filtering, and the `camera` and `calibrate` commands."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from monitor.cameras import (
    CameraConfig,
    CameraConfigError,
    Rect,
    parse_board,
    parse_class_size,
    parse_rects,
    validate_changes,
)
from monitor.stages import Detections
from tests.conftest import VIDEOS, migrated_db, run_cli

CLASSROOM = VIDEOS / "classroom_front_720p.mp4"
requires_classroom = pytest.mark.skipif(
    not CLASSROOM.is_file(), reason=f"classroom clip not found in {VIDEOS} (../shared is not beside the repo)"
)
SHAPE = (720, 1280, 3)


def _dets(boxes: list[list[float]]) -> Detections:
    kps = np.zeros((len(boxes), 6, 2), np.float32)
    return Detections(np.array(boxes, np.float32), np.linspace(0.9, 0.5, len(boxes)), kps)


def test_roi_drops_people_in_an_ignored_area_and_outside_the_included_one() -> None:
    # corridor door on the left tenth of the frame, teacher's desk bottom-right
    cfg = CameraConfig(ignore=(Rect(0, 0, 0.1, 1), Rect(0.75, 0.7, 0.25, 0.3)))
    dets = _dets([[20, 300, 40, 40], [600, 300, 40, 40], [1100, 600, 40, 40], [1200, 100, 40, 40]])
    kept = cfg.filter(dets, SHAPE)
    assert kept.boxes[:, 0].tolist() == [600, 1200]
    assert kept.keypoints.shape == (2, 6, 2) and kept.scores.shape == (2,)
    only_rows = CameraConfig(include=(Rect(0, 0.3, 1, 0.7),))  # the desks, not the windows above
    assert only_rows.filter(dets, SHAPE).boxes[:, 0].tolist() == [20, 600, 1100]
    assert CameraConfig().filter(dets, SHAPE) is dets  # no ROI: nothing is touched


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"class_size": "abc"}, "whole number"),
        ({"class_size": "0"}, "between 1 and 500"),
        ({"class_size": "9999"}, "between 1 and 500"),
        ({"mounting": "ceiling"}, "front' or 'back"),
        ({"board": "up"}, "2 numbers"),
        ({"board": "200,0"}, "-180..180"),
        ({"ignore": "0,0,1.5,1"}, "0..1"),
        ({"ignore": "0,0,0.5"}, "4 numbers"),
        ({"include": "0.5,0.5,0.6,0.2"}, "0..1"),
        ({"ignore": "nan,0,0.1,0.1"}, "4 numbers"),
    ],
)
def test_bad_values_are_refused_with_one_line(kwargs: dict, message: str) -> None:
    with pytest.raises(CameraConfigError, match=message) as exc:
        validate_changes(**kwargs)
    assert "\n" not in str(exc.value)


def test_good_values_parse() -> None:
    assert parse_class_size(" 26 ") == 26 and parse_class_size("none") is None and parse_class_size(30) == 30
    assert parse_board("auto") == ("auto", None) and parse_board("-10, -25") == ("fixed", (-10.0, -25.0))
    assert parse_rects("0,0,0.1,1; 0.8,0.7,0.2,0.3") == (Rect(0, 0, 0.1, 1), Rect(0.8, 0.7, 0.2, 0.3))
    assert validate_changes(board="auto") == {"board_mode": "auto", "board_yaw": None, "board_pitch": None}


def test_camera_set_and_show_through_the_cli(tmp_path: Path) -> None:
    url = migrated_db(tmp_path / "c.db")
    ok = run_cli(
        "--db", url, "camera", "set", "room-12", "--class-size", "26", "--mounting", "back",
        "--roi", "0,0,0.1,1", "--board", "5,-20",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    shown = run_cli("--db", url, "camera", "show", "room-12")
    assert shown.returncode == 0
    for text in ("class size: 26", "back wall", "yaw 5.0°, pitch -20.0° (set by admin)", "0,0,0.1,1"):
        assert text in shown.stdout, shown.stdout
    cleared = run_cli("--db", url, "camera", "set", "room-12", "--class-size", "none", "--roi", "none")
    assert cleared.returncode == 0
    as_json = run_cli("--db", url, "camera", "show", "room-12", "--json")
    assert '"class_size": null' in as_json.stdout and '"mounting": "back"' in as_json.stdout


BAD_CAMERA_ARGS = [
    ["set", "room-12", "--class-size", "lots"],
    ["set", "room-12", "--class-size", "-3"],
    ["set", "room-12", "--mounting", "side"],
    ["set", "room-12", "--roi", "0,0,2,2"],
    ["set", "room-12", "--board", "north"],
    ["set", "room-12"],
    ["show", "no-such-room"],
]


def test_camera_cli_refuses_bad_values_with_one_clear_line(tmp_path: Path) -> None:
    url = migrated_db(tmp_path / "c.db")
    run_cli("--db", url, "camera", "set", "room-12", "--class-size", "20")
    for args in BAD_CAMERA_ARGS:
        proc = run_cli("--db", url, "camera", *args)
        assert proc.returncode != 0, args
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), (args, proc.stderr)
    # Nothing stored was lost.
    assert "class size: 20" in run_cli("--db", url, "camera", "show", "room-12").stdout


@requires_classroom
def test_calibrate_learns_the_front_and_writes_one_annotated_frame_only_on_request(tmp_path: Path) -> None:
    url = migrated_db(tmp_path / "c.db")
    run_cli("--db", url, "camera", "set", "room-12", "--class-size", "26", "--roi", "0,0,0.5,1")
    snap = tmp_path / "check.png"
    args = ["--db", url, "calibrate", "--camera", "room-12", "--source", str(CLASSROOM), "--snapshot"]
    proc = run_cli(*args, str(snap), "--frames", "4", "--save")
    assert proc.returncode == 0, proc.stderr
    assert "wrote 1 annotated frame" in proc.stdout and "because --snapshot asked for it" in proc.stdout
    assert (
        "learned now from" in proc.stdout
        and "readable heads up" in proc.stdout
        and "class of 26" in proc.stdout
    )
    assert list(tmp_path.glob("*.png")) == [snap]
    image = cv2.imread(str(snap))
    assert image.shape == (720, 1280, 3)
    # The snapshot is the last frame read, with the ignored left half shaded red and the rest untouched.
    clip = cv2.VideoCapture(str(CLASSROOM))
    for _ in range(4):
        ok, frame = clip.read()
    clip.release()
    assert ok
    left, right = (slice(150, 300), slice(200, 500)), (slice(150, 300), slice(800, 1200))
    assert image[left][..., 1].mean() < frame[left][..., 1].mean() - 30  # less green: shaded red
    assert np.abs(image[right].astype(int) - frame[right].astype(int)).mean() < 1
    shown = run_cli("--db", url, "camera", "show", "room-12").stdout
    assert "(learned)" in shown, shown
    # The ROI removed everyone whose box centre is in the left half.
    line = next(x for x in proc.stdout.splitlines() if "people detected" in x)
    assert "inside the ROI median" in line

    again = run_cli(*args, str(snap), "--frames", "1")
    assert again.returncode != 0 and "exists already; pass --force" in again.stderr
    assert run_cli(*args, str(snap), "--frames", "1", "--force").returncode == 0


def test_calibrate_never_writes_over_the_database_or_a_model(tmp_path: Path) -> None:
    url = migrated_db(tmp_path / "c.png")  # a database whose name looks like a snapshot
    before = (tmp_path / "c.png").read_bytes()
    proc = run_cli(
        "--db",
        url,
        "calibrate",
        "--camera",
        "x",
        "--source",
        "sample",
        "--snapshot",
        str(tmp_path / "c.png"),
        "--force",
    )
    assert proc.returncode != 0 and "is the database" in proc.stderr, proc.stderr
    assert (tmp_path / "c.png").read_bytes() == before
    from monitor.config import REPO_ROOT

    model_png = REPO_ROOT / "models" / "snapshot.png"
    proc = run_cli(
        "--db", url, "calibrate", "--camera", "x", "--source", "sample", "--snapshot", str(model_png)
    )
    assert proc.returncode != 0 and "models folder" in proc.stderr and not model_png.exists()
    proc = run_cli(
        "--db", url, "calibrate", "--camera", "x", "--source", "sample", "--snapshot", str(tmp_path / "a.gif")
    )
    assert proc.returncode != 0 and ".png or .jpg" in proc.stderr
