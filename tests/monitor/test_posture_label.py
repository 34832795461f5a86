"""``classroom-monitor label`` and ``train-posture``: a school labels its own frames and fits a model on them.

Real detector, real clip and still from ../shared; the by-eye labels of the shared clip stand in for the
school filling in the CSV.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from monitor.posture_labels import load_labels, match_boxes
from tests.conftest import SHARED_DATASETS, run_cli

LABELS = SHARED_DATASETS / "labels" / "classroom_posture.json"
CLIP = SHARED_DATASETS / "videos" / "classroom_front_720p.mp4"
STILL = SHARED_DATASETS / "images" / "classroom_lab_students.png"
requires_shared = pytest.mark.skipif(
    not (LABELS.is_file() and CLIP.is_file() and STILL.is_file()),
    reason=f"labels, clip or still not found in {SHARED_DATASETS} (../shared is not beside the repo)",
)


@requires_shared
def test_extract_writes_no_image_unless_asked_and_says_so(tmp_path: Path) -> None:
    plain = run_cli("label", "extract", "--source", str(STILL), "--out", str(tmp_path / "a"))
    assert plain.returncode == 0, plain.stderr
    assert "no image was written" in plain.stdout
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["labels.json", "postures.csv"]
    labels = load_labels(tmp_path / "a" / "labels.json")  # the shared format, readable by training
    assert len(labels.items) == 1 and len(labels.items[0].people) >= 8
    assert {p.posture for p in labels.items[0].people} == {"unsure"}

    asked = run_cli("label", "extract", "--source", str(STILL), "--out", str(tmp_path / "b"), "--write-crops")
    assert asked.returncode == 0, asked.stderr
    assert "because --write-crops asked for it" in asked.stdout and "real people" in asked.stdout
    assert len(list((tmp_path / "b" / "crops").glob("*.png"))) == len(labels.items[0].people)
    again = run_cli("label", "extract", "--source", str(STILL), "--out", str(tmp_path / "a"))
    assert again.returncode != 0 and "--force" in again.stderr and "Traceback" not in again.stderr


@requires_shared
def test_a_bad_posture_in_the_csv_is_one_clear_error(tmp_path: Path) -> None:
    assert run_cli("label", "extract", "--source", str(STILL), "--out", str(tmp_path)).returncode == 0
    bad = tmp_path / "postures.csv"
    bad.write_text("frame,id,posture,crop\n,P01,sideways,\n")
    proc = run_cli("label", "import", str(bad))
    assert proc.returncode == 1 and "line 2: posture 'sideways'" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing = run_cli("train-posture", "--labels", str(tmp_path / "nope.json"), "--out", str(tmp_path / "m"))
    assert missing.returncode == 1 and "cannot read labels file" in missing.stderr


@requires_shared
def test_label_import_and_train_round_trip_on_the_classroom_clip(tmp_path: Path) -> None:
    """Extract heads every 30 frames, fill the CSV from the by-eye labels, import, train: a model that
    scores, held out by person, well above always saying "down" (46%)."""
    out = tmp_path / "school"
    proc = run_cli("label", "extract", "--source", str(CLIP), "--out", str(out), "--every", "30")
    assert proc.returncode == 0, proc.stderr
    mine = json.loads((out / "labels.json").read_text())
    truth = {i.frame: i for i in load_labels(LABELS).items if i.frame is not None}
    filled = {}
    for item in mine["items"]:
        by_eye = truth[item["frame"]]
        boxes = np.array([p["box"] for p in item["people"]], float)
        for d, m in match_boxes(boxes, np.array([p.box for p in by_eye.people], float)):
            filled[(str(item["frame"]), item["people"][d]["id"])] = by_eye.people[m].posture
    rows = list(csv.DictReader((out / "postures.csv").open()))
    for row in rows:
        row["posture"] = filled.get((row["frame"], row["id"]), "unsure")
    with (out / "postures.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["frame", "id", "posture", "crop"])
        writer.writeheader()
        writer.writerows(rows)
    proc = run_cli("label", "import", str(out / "postures.csv"))
    assert proc.returncode == 0 and "wrote" in proc.stdout, proc.stderr
    proc = run_cli("train-posture", "--labels", str(out / "labels.json"), "--out", str(tmp_path / "model"))
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["faces"] >= 90 and metrics["coverage"] >= 0.7
    assert metrics["accuracy"] >= 0.65, metrics
    assert (tmp_path / "model" / "posture.json").is_file()
