"""One epoch of the default recipe on a slice, then calibrate → export (T folded in) → evaluate."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from monitor.classify import CALIBRATION_FILE, EmotionClassifier
from tests.training.conftest import TINY_ROWS
from training.commands import calibrate_model, evaluate

pytestmark = [
    pytest.mark.slow,  # trains a (tiny) model
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected:UserWarning"),
]


def test_a_trained_model_calibrates_folds_its_temperature_and_evaluates(
    tiny_model: Callable[[int], tuple[Path, Path]], tiny_data: Path, tmp_path: Path
) -> None:
    # The session's tiny default model (one epoch on the slice, its int8 file kept), copied: calibrating
    # changes the directory.
    data = tiny_data
    model_dir = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_model(1)[0], model_dir)
    before = json.loads((model_dir / "metrics.json").read_text())

    # Fit T on a slice of PublicTest, fold it into model.tflite (the int8 file keeps it in JSON).
    result = CliRunner().invoke(
        calibrate_model,
        ["--model", str(model_dir), "--data", str(data), "--fold-into-graph", "--limit", str(TINY_ROWS)],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    record = json.loads((model_dir / CALIBRATION_FILE).read_text())
    f32 = record["files"]["model.tflite"]
    assert f32["in_graph"] and f32["folded_max_abs_diff"] < 1e-4 and f32["temperature"] > 0
    assert f32["nll_after"] <= f32["nll_before"] + 1e-6
    assert (model_dir / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "## Calibration" in card and "reliability.png" in card
    assert json.loads((model_dir / "metrics.json").read_text())["calibration"]["files"] == record["files"]

    # The classifier applies nothing more to the folded file; evaluate scores it with unchanged accuracy.
    assert EmotionClassifier(model_dir, precision="float32").temperature is None
    result = CliRunner().invoke(
        evaluate,
        [
            "--model",
            str(model_dir),
            "--data",
            str(data),
            "--precision",
            "float32",
            "--limit",
            str(TINY_ROWS),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["precision"] == "float32" and metrics["temperature"] is None
    assert metrics["accuracy"] == pytest.approx(before["accuracy"]) and metrics["n"] == before["n"]
    assert metrics["nll"] == pytest.approx(f32["nll_after"], abs=1e-3)
    assert metrics["ece"] == pytest.approx(f32["ece_after"], abs=1e-3)
    t8 = record["files"]["model_int8.tflite"]  # the int8 file is always there: --int8-max-drop 1
    assert not t8["in_graph"] and EmotionClassifier(model_dir).temperature == t8["temperature"]

    # Folding twice would square T: refused in one line.
    again = CliRunner().invoke(
        calibrate_model,
        ["--model", str(model_dir), "--data", str(data), "--fold-into-graph", "--limit", str(TINY_ROWS)],
    )
    assert again.exit_code != 0 and "already has T=" in again.output
    assert np.isfinite(metrics["ms_per_face"])
