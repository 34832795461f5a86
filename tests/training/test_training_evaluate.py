"""The metric code shared by training, ``evaluate`` and the benchmarks; ``evaluate`` on the shipped model
and on image folders with other data sets' class names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.labels import EMOTIONS
from tests.conftest import REPO, run_cli
from tests.training.conftest import FER2013, requires_fer2013
from training.evaluate import classification_metrics, newest_model_dir


def test_metrics_on_a_hand_checked_example() -> None:
    labels = ("a", "b", "c")
    y_true = np.array([0, 0, 1, 1, 2])
    probs = np.eye(3)[[0, 1, 1, 1, 0]]  # predictions: a b b b a
    m = classification_metrics(y_true, probs, labels)
    assert m["n"] == 5 and m["accuracy"] == pytest.approx(3 / 5)
    assert m["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert m["per_class_precision"] == {"a": 0.5, "b": pytest.approx(0.6667, abs=1e-4), "c": 0.0}
    assert m["per_class_recall"] == {"a": 0.5, "b": 1.0, "c": 0.0}
    # F1: a 0.5, b 0.8, c 0 → macro 0.4333
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_macro_f1_ignores_classes_absent_from_truth_and_predictions() -> None:
    m = classification_metrics(np.array([0, 1]), np.eye(7)[[0, 1]], tuple("abcdefg"))
    assert m["macro_f1"] == 1.0 and m["accuracy"] == 1.0


def test_an_8_class_model_is_scored_against_7_class_truth() -> None:
    labels = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt")
    m = classification_metrics(np.array([3, 6]), np.eye(8)[[3, 7]], labels)
    assert m["accuracy"] == 0.5 and np.array(m["confusion"]).shape == (8, 8)


def test_without_a_model_argument_the_newest_model_directory_is_used(tmp_path: Path) -> None:
    import os

    for i, name in enumerate(("old", "new")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.tflite").write_bytes(b"x")
        os.utime(tmp_path / name / "model.tflite", (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "no-model").mkdir()
    assert newest_model_dir(tmp_path).name == "new"
    assert newest_model_dir(tmp_path / "no-model") is None


# --- evaluate scores what the worker runs --------------------------------------------------------------


def _shipped_default() -> Path:
    return REPO / "models" / (REPO / "models" / "DEFAULT").read_text().strip()


@pytest.mark.slow  # the CLI as a real process on real faces
@requires_fer2013
def test_evaluate_without_flags_scores_the_workers_file_of_the_shipped_default() -> None:
    from monitor.classify import model_file

    default = _shipped_default()
    expected = model_file(default, "auto")  # the worker's choice at model_precision = auto
    proc = run_cli("evaluate", "--data", str(FER2013), "--limit", "300", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads(proc.stdout)
    assert Path(metrics["model_file"]).resolve() == expected.resolve()
    assert metrics["precision"] == ("int8" if expected.name == "model_int8.tflite" else "float32")
    assert metrics["usage"] == "PublicTest" and metrics["n"] == 300
    assert 0 <= metrics["ece"] < 1 and metrics["nll"] > 0 and metrics["ms_per_face"] > 0
    calibration = default / "calibration.json"
    if calibration.is_file():
        stored = json.loads(calibration.read_text())["files"][expected.name]
        assert metrics["temperature"] == stored["temperature"]
    assert f"scored {expected}" in proc.stderr or f"scored {expected.relative_to(REPO)}" in proc.stderr


def test_evaluate_refuses_contradicting_precision_flags_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from training.commands import evaluate

    result = CliRunner().invoke(
        evaluate,
        ["--model", str(_shipped_default()), "--data", str(tmp_path), "--int8", "--precision", "float32"],
    )
    assert result.exit_code != 0 and "--int8 contradicts --precision float32" in result.output
    result = CliRunner().invoke(
        evaluate, ["--model", str(_shipped_default()), "--data", str(tmp_path), "--precision", "float32"]
    )
    assert result.exit_code != 0 and "no model.tflite in" in result.output and result.exception is not None
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def ck_style_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A flat folder of FER2013 faces under other data sets' class names, plus a contempt folder."""
    import cv2

    from training.data import load_dataset

    if not FER2013.is_file():
        pytest.skip(f"FER2013 not found at {FER2013}")
    faces = load_dataset(FER2013, progress=False).split("PublicTest")
    root = tmp_path_factory.mktemp("ck_style")
    names = {
        "anger": 0,
        "disgusted": 1,
        "fearful": 2,
        "happiness": 3,
        "sadness": 4,
        "surprised": 5,
        "neutral": 6,
        "contempt": 6,
    }  # contempt holds neutral faces: only its name matters here
    counts = {}
    for name, label in names.items():
        picked = np.flatnonzero(faces.labels == label)[: 9 if name != "contempt" else 5]
        (root / name).mkdir()
        for k, i in enumerate(picked):
            cv2.imwrite(str(root / name / f"{k:03d}.png"), faces.images[i])
        counts[name] = len(picked)
    return root, counts


def test_folder_synonyms_map_onto_the_seven_labels_and_contempt_is_dropped(
    ck_style_folder: tuple[Path, dict[str, int]],
) -> None:
    from training.data import FOLDER_LABELS, load_dataset

    root, counts = ck_style_folder
    assert {FOLDER_LABELS[n] for n in counts if n != "contempt"} == set(EMOTIONS)
    ds = load_dataset(root, progress=False)
    assert len(ds) == sum(counts.values()) - counts["contempt"]
    assert ds.dropped_classes == {"contempt": counts["contempt"]}
    line = f"skipped classes with no FER2013 counterpart: contempt ({counts['contempt']} images)"
    assert ds.dropped_line() == line
    assert np.bincount(ds.labels, minlength=7).tolist() == [counts[n] for n in list(counts)[:7]]


@pytest.mark.slow  # the CLI as a real process on real faces
@requires_fer2013
def test_evaluate_on_a_folder_scores_every_image_and_reports_skipped_classes(
    ck_style_folder: tuple[Path, dict[str, int]],
) -> None:
    root, counts = ck_style_folder
    proc = run_cli("evaluate", "--data", str(root), "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads(proc.stdout)
    assert metrics["usage"] == "all" and metrics["n"] == sum(counts.values()) - counts["contempt"]
    assert metrics["skipped_classes"] == {"contempt": counts["contempt"]}
    assert "skipped classes with no FER2013 counterpart: contempt (5 images)" in proc.stderr
    assert metrics["accuracy"] > 0.4  # real faces from FER2013: far above chance (1/7)
