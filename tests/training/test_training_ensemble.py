"""Ensembles: two tiny trained models averaged into one exported model that the worker can run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from monitor.classify import EmotionClassifier
from monitor.labels import EMOTIONS
from monitor.preprocess import preprocess_faces
from tests.training.conftest import TINY_ROWS
from training.commands import ensemble, train
from training.data import load_dataset
from training.export import LiteRTClassifier

pytestmark = [
    pytest.mark.slow,  # trains two (tiny) models
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected:UserWarning"),
]


@pytest.fixture(scope="module")
def data_path(tiny_data: Path) -> Path:
    return tiny_data


@pytest.fixture(scope="module")
def members(tiny_model: Callable[[int], tuple[Path, Path]]) -> list[Path]:
    """Two default models, one epoch each on the tiny slice, differing only in their seed (shared)."""
    return [tiny_model(seed)[0] for seed in (1, 2)]


@pytest.fixture(scope="module")
def ensembled(tmp_path_factory: pytest.TempPathFactory, members: list[Path], data_path: Path) -> Path:
    """The members' ensemble with its int8 file, kept whatever it scores (``--int8-max-drop 1``).

    Whether a tiny model's int8 file stays within the default 1 point of float32 on 96 faces is chance:
    one face is more than a point, and which faces int8 flips differs between CPUs (AVX2, AVX-512 VNNI).
    The tests below need a teacher that ships one, so the fixture makes that certain.
    """
    out = tmp_path_factory.mktemp("ensemble") / "tiny-ensemble"
    args = [arg for m in members for arg in ("--member", str(m))]
    result = CliRunner().invoke(
        ensemble, [*args, "--data", str(data_path), "--out", str(out), "--int8-max-drop", "1"]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert json.loads(result.stdout.strip().splitlines()[-1])["version"] == "tiny-ensemble"
    assert (out / "model_int8.tflite").is_file(), result.output
    return out


def test_the_ensemble_outputs_the_mean_of_its_members(
    ensembled: Path, members: list[Path], data_path: Path
) -> None:
    faces = preprocess_faces(load_dataset(data_path, progress=False).split("PublicTest").images[:24])
    each = [LiteRTClassifier(m / "model.tflite").predict(faces) for m in members]
    assert np.abs(each[0] - each[1]).max() > 1e-3, "the seeds should give different members"
    mean = LiteRTClassifier(ensembled / "model.tflite").predict(faces)
    np.testing.assert_allclose(mean, np.mean(each, axis=0), atol=1e-5)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, atol=1e-5)


def test_flip_averaging_can_be_built_into_the_ensemble(
    members: list[Path], data_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tta"
    args = [arg for m in members for arg in ("--member", str(m))]
    result = CliRunner().invoke(
        ensemble, [*args, "--data", str(data_path), "--out", str(out), "--tta", "--no-int8"]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    faces = preprocess_faces(load_dataset(data_path, progress=False).split("PublicTest").images[:24])
    mirrored = faces[:, :, ::-1, :]
    views = [LiteRTClassifier(m / "model.tflite").predict(x) for m in members for x in (faces, mirrored)]
    np.testing.assert_allclose(
        LiteRTClassifier(out / "model.tflite").predict(faces), np.mean(views, axis=0), atol=1e-5
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["flip_tta_in_model"] is True and "flip averaging" in metrics["arch"]


def test_the_ensemble_directory_is_complete_and_describes_its_members(
    ensembled: Path, members: list[Path]
) -> None:
    for name in (
        "model.keras",
        "model.tflite",
        "model_int8.tflite",
        "labels.json",
        "metrics.json",
        "confusion_matrix.png",
        "training_curves.png",
        "MODEL_CARD.md",
    ):
        assert (ensembled / name).is_file(), name
    metrics = json.loads((ensembled / "metrics.json").read_text())
    assert metrics["int8_file"] == "model_int8.tflite" and metrics["int8_max_drop"] == 1.0
    assert 0 <= metrics["int8_accuracy"] <= 1 and metrics["int8_ms_per_face"] > 0
    assert [m["version"] for m in metrics["members"]] == [m.name for m in members]
    assert [m["seed"] for m in metrics["members"]] == [1, 2]
    assert metrics["arch"] == "ensemble of 2 x default" and metrics["epochs"] == 2
    assert metrics["keras_litert_max_abs_diff"] < 1e-4
    assert metrics["command"].count("--member") == 2
    card = (ensembled / "MODEL_CARD.md").read_text()
    assert "ensemble" in card and all(m.name in card for m in members) and "5(1)(f)" in card


def test_the_worker_classifier_runs_the_ensemble(ensembled: Path) -> None:
    crops = [np.random.default_rng(i).integers(0, 256, (70, 60, 3), dtype=np.uint8) for i in range(5)]
    probs = EmotionClassifier(ensembled).predict(crops)
    assert probs.shape == (5, len(EMOTIONS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_bad_members_get_one_clear_error(members: list[Path], data_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    one = runner.invoke(
        ensemble, ["--member", str(members[0]), "--data", str(data_path), "--out", str(tmp_path / "x")]
    )
    assert one.exit_code != 0 and "at least two" in one.output

    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(
        ensemble,
        [
            "--member",
            str(members[0]),
            "--member",
            str(empty),
            "--data",
            str(data_path),
            "--out",
            str(tmp_path / "y"),
        ],
    )
    assert missing.exit_code != 0 and "not a model directory" in missing.output

    other = tmp_path / "other-labels"
    shutil.copytree(members[1], other)
    (other / "labels.json").write_text(json.dumps(list(reversed(EMOTIONS))))
    mismatch = runner.invoke(
        ensemble,
        [
            "--member",
            str(members[0]),
            "--member",
            str(other),
            "--data",
            str(data_path),
            "--out",
            str(tmp_path / "z"),
        ],
    )
    assert mismatch.exit_code != 0 and "predicts" in mismatch.output
    for result in (one, missing, mismatch):
        assert "Traceback" not in result.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "z").exists()


def test_distillation_targets_mix_the_label_with_the_softened_teacher() -> None:
    from training.distill import distillation_targets, soften

    probs = np.array([[0.90, 0.05, 0.05], [0.2, 0.5, 0.3]], np.float32)
    np.testing.assert_allclose(soften(probs, 1.0), probs, atol=1e-6)
    soft = soften(probs, 2.0)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-6)
    assert (soft.argmax(axis=1) == probs.argmax(axis=1)).all() and soft[0, 0] < probs[0, 0]
    labels = np.eye(3, dtype=np.float32)[[2, 1]]
    np.testing.assert_allclose(distillation_targets(labels, probs, weight=0.0), labels)
    mixed = distillation_targets(labels, probs, weight=0.5, temperature=2.0)
    np.testing.assert_allclose(mixed, 0.5 * labels + 0.5 * soft, atol=1e-6)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-6)


def test_a_student_distilled_from_the_ensemble_records_its_teacher(
    ensembled: Path, data_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "student"
    args = [
        "--data",
        str(data_path),
        "--epochs",
        "1",
        "--limit",
        str(TINY_ROWS),
        "--out",
        str(out),
        "--work-dir",
        str(tmp_path / "run"),
        "--no-int8",
        "--arch",
        "fast",
        "--teacher",
        str(ensembled),
    ]
    result = CliRunner().invoke(train, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "teacher tiny-ensemble (model_int8.tflite): labelling" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["teacher"]["version"] == "tiny-ensemble" and len(metrics["teacher"]["members"]) == 2
    assert metrics["arch"] == "fast" and "Distilled" in (out / "MODEL_CARD.md").read_text()
    assert EmotionClassifier(out).predict([np.zeros((48, 48), np.uint8)]).shape == (1, len(EMOTIONS))


def test_a_teacher_that_ships_only_its_int8_file_runs_calibrated_and_labels_once(
    ensembled: Path, data_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.distill import teacher_probabilities

    # Like the shipped ensemble: one model_int8.tflite and a calibration.json, no model.tflite.
    teacher = tmp_path / "teacher"
    shutil.copytree(ensembled, teacher)
    (teacher / "model.tflite").unlink()
    assert (teacher / "model_int8.tflite").is_file()
    calibration = {"files": {"model_int8.tflite": {"temperature": 2.0}}}
    (teacher / "calibration.json").write_text(json.dumps(calibration))
    dataset = load_dataset(data_path, progress=False)
    faces = preprocess_faces(dataset.split("Training").images[:32])
    run = tmp_path / "run"
    first = teacher_probabilities(teacher, faces, list(dataset.label_names), cache_dir=run)
    raw = LiteRTClassifier(teacher / "model_int8.tflite").predict(faces)
    np.testing.assert_allclose(first, EmotionClassifier(teacher).predict_batch(faces), atol=1e-5)
    assert (first.argmax(1) == raw.argmax(1)).all() and first.max(1).mean() < raw.max(1).mean()
    assert len(list(run.glob("teacher-*.npy"))) == 1 and "labelling 32" in capsys.readouterr().out
    again = teacher_probabilities(teacher, faces, list(dataset.label_names), cache_dir=run)
    np.testing.assert_array_equal(again, first)
    assert "probabilities from" in capsys.readouterr().out


def test_a_teacher_with_other_labels_is_refused(members: list[Path], data_path: Path, tmp_path: Path) -> None:
    teacher = tmp_path / "teacher"
    shutil.copytree(members[0], teacher)
    (teacher / "labels.json").write_text(json.dumps(["a", "b", "c", "d", "e", "f", "g"]))
    result = CliRunner().invoke(
        train,
        [
            "--data",
            str(data_path),
            "--epochs",
            "1",
            "--limit",
            "16",
            "--out",
            str(tmp_path / "m"),
            "--teacher",
            str(teacher),
        ],
    )
    assert result.exit_code != 0 and "teacher" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()
