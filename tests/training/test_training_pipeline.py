"""End to end on a tiny slice: train → export → evaluate, and the export behaves like the Keras model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from monitor.labels import EMOTIONS
from monitor.preprocess import preprocess_faces
from tests.training.conftest import TINY_ROWS
from training.commands import evaluate, train
from training.data import load_dataset

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected:UserWarning"),
]


@pytest.fixture(scope="module")
def data_path(tiny_data: Path) -> Path:
    return tiny_data


@pytest.fixture(scope="module")
def trained(tiny_model: Callable[[int], tuple[Path, Path]]) -> tuple[Path, Path]:
    """``(model_dir, run_dir)`` of a default model trained one epoch on the slice (shared, read-only)."""
    return tiny_model(1)


@pytest.mark.slow  # trains a (tiny) model, once per session
def test_training_writes_a_complete_model_directory(trained: tuple[Path, Path]) -> None:
    model_dir, run_dir = trained
    for name in (
        "model.keras",
        "model.tflite",
        "model_int8.tflite",  # kept whatever it scores: --int8-max-drop 1
        "labels.json",
        "metrics.json",
        "confusion_matrix.png",
        "training_curves.png",
        "MODEL_CARD.md",
    ):
        assert (model_dir / name).is_file(), name
    assert not list(model_dir.glob("*.npz")) and not (model_dir / "best.keras").exists()
    assert (run_dir / "best.keras").is_file() and (run_dir / "history.csv").is_file()
    assert json.loads((model_dir / "labels.json").read_text()) == list(EMOTIONS)
    metrics = json.loads((model_dir / "metrics.json").read_text())
    for key in (
        "accuracy",
        "macro_f1",
        "per_class_precision",
        "per_class_recall",
        "confusion",
        "n",
        "arch",
        "epochs",
        "params",
        "ms_per_face",
        "tflite_bytes",
        "command",
    ):
        assert key in metrics, key
    assert metrics["n"] == TINY_ROWS and metrics["arch"] == "default" and metrics["epochs"] == 1
    assert np.array(metrics["confusion"]).shape == (7, 7) and np.sum(metrics["confusion"]) == TINY_ROWS
    assert metrics["keras_litert_max_abs_diff"] < 1e-4
    assert metrics["int8_file"] == "model_int8.tflite" and 0 <= metrics["int8_accuracy"] <= 1
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "`model_int8.tflite` (int8 inside" in card
    assert "5(1)(f)" in card and "disgust" in card.lower() and "grading" in card.lower()


@pytest.mark.slow  # trains a (tiny) model, once per session
def test_export_is_float32_with_a_resizable_batch_and_matches_keras(
    trained: tuple[Path, Path], data_path: Path
) -> None:
    import keras
    from ai_edge_litert.interpreter import Interpreter

    model_dir, _ = trained
    interpreter = Interpreter(model_path=str(model_dir / "model.tflite"), num_threads=2)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert inp["dtype"] == np.float32 and out["dtype"] == np.float32
    faces = preprocess_faces(load_dataset(data_path, progress=False).split("PublicTest").images[:16])
    expected = keras.models.load_model(model_dir / "model.keras").predict(faces, verbose=0)
    for n in (1, 16):
        interpreter.resize_tensor_input(inp["index"], [n, 48, 48, 1])
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], faces[:n])
        interpreter.invoke()
        probs = interpreter.get_tensor(out["index"])
        assert probs.shape == (n, 7)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(probs, expected[:n], atol=1e-4)


@pytest.mark.slow  # trains a (tiny) model, once per session
def test_evaluate_prints_one_json_object_from_the_litert_model(
    trained: tuple[Path, Path], data_path: Path
) -> None:
    model_dir, _ = trained
    result = CliRunner().invoke(evaluate, ["--model", str(model_dir), "--data", str(data_path), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    for key in ("accuracy", "macro_f1", "n", "per_class_recall", "confusion"):
        assert key in metrics
    assert metrics["usage"] == "PublicTest" and metrics["n"] > 0
    assert set(metrics["per_class_recall"]) == set(EMOTIONS)


@pytest.mark.slow  # trains a (tiny) model, once per session
def test_resume_continues_after_the_last_saved_epoch(
    trained: tuple[Path, Path], data_path: Path, tmp_path: Path
) -> None:
    _, run_dir = trained
    shutil.copytree(run_dir, tmp_path / "run")
    result = CliRunner().invoke(
        train,
        [
            "--data",
            str(data_path),
            "--epochs",
            "2",
            "--limit",
            str(TINY_ROWS),
            "--out",
            str(tmp_path / "model"),
            "--work-dir",
            str(tmp_path / "run"),
            "--resume",
            "--no-int8",
        ],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "resuming" in result.output and "after epoch 1" in result.output
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["epochs"] == 2


def test_not_a_dataset_fails_with_one_clear_message(tmp_path: Path) -> None:
    bogus = tmp_path / "holiday.jpg.csv"
    bogus.write_text("name,size\nbeach,12\n")
    result = CliRunner().invoke(train, ["--data", str(bogus), "--epochs", "1"])
    assert result.exit_code != 0
    assert "not a FER2013 dataset" in result.output and "Traceback" not in result.output


def test_an_int8_tolerance_outside_0_to_1_is_refused_in_one_line(tmp_path: Path) -> None:
    from training.commands import ensemble

    for command, args in ((train, []), (ensemble, ["--member", "a", "--member", "b", "--out", "x"])):
        result = CliRunner().invoke(
            command, [*args, "--data", str(tmp_path), "--int8-max-drop", "1.5"], catch_exceptions=False
        )
        assert result.exit_code == 2 and "--int8-max-drop" in result.output and "0<=x<=1" in result.output
        assert "Traceback" not in result.output


def test_not_a_dataset_as_a_real_process_exits_non_zero_without_traceback(tmp_path: Path) -> None:
    bogus = tmp_path / "random.bin"
    bogus.write_bytes(np.random.default_rng(0).bytes(5000))
    proc = subprocess.run(
        [sys.executable, "-m", "training", "evaluate", "--model", str(tmp_path), "--data", str(bogus)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Error:" in proc.stderr and "Traceback" not in proc.stderr


def test_training_commands_do_not_load_tensorflow_until_run() -> None:
    code = (
        "import sys, training.commands; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
