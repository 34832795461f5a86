"""A GPU machine may have JAX (or PyTorch) but no TensorFlow: fitting must run there, exporting here after.

The fit runs in a subprocess under ``KERAS_BACKEND=jax`` with ``tensorflow`` (and the worker's runtimes)
made unimportable; the checkpoint it leaves is then exported by ``--export-only`` under TensorFlow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.training.conftest import FER2013, FERPLUS, requires_fer2013

REPO = Path(__file__).resolve().parents[2]
ABSENT = ("tensorflow", "ai_edge_litert", "flask", "flask_socketio")
"""Packages a GPU machine's image lacks; the fit-only path must not import them."""


def _without(packages: tuple[str, ...], root: Path) -> Path:
    """A folder that, first on PYTHONPATH, makes each of ``packages`` raise ImportError when imported."""
    for name in packages:
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text(f"raise ImportError('{name} is not on this machine')\n")
    return root


@pytest.mark.slow
@requires_fer2013
def test_fit_only_runs_on_jax_without_tensorflow_and_the_checkpoint_exports_under_tensorflow(
    tmp_path: Path,
) -> None:
    from training.commands import train

    run, model = tmp_path / "run", tmp_path / "model"
    common = ["--data", str(FER2013), "--ferplus", str(FERPLUS), "--recipe", "strong", "--limit", "64"]
    common += ["--work-dir", str(run), "--out", str(model), "--seed", "3"]
    shim = _without(ABSENT, tmp_path / "absent")
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": f"{shim}{os.pathsep}{REPO}"}
    fitted = subprocess.run(
        [sys.executable, "-m", "training", "train", *common, "--epochs", "2", "--fit-only"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert fitted.returncode == 0, fitted.stdout[-3000:] + fitted.stderr[-3000:]
    assert "Keras backend jax" in fitted.stdout
    summary = json.loads(fitted.stdout.strip().splitlines()[-1])
    assert summary["checkpoint"] == str(run / "best.keras") and summary["ms_per_face"] is None
    assert "--export-only" in summary["publish_with"]
    assert not model.exists(), "--fit-only must not export"
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 2 and (run / "ema.npz").is_file()

    both = CliRunner().invoke(train, [*common, "--fit-only", "--export-only"])
    assert both.exit_code == 2 and "exclude each other" in both.output

    exported = CliRunner().invoke(train, [*common, "--export-only", "--no-int8"])
    assert exported.exit_code == 0, exported.output + repr(exported.exception)
    metrics = json.loads((model / "metrics.json").read_text())
    # The exported (TensorFlow, float32) model scores the PublicTest slice exactly as the JAX fit did.
    assert metrics["n"] == summary["n"] == 64
    assert metrics["accuracy"] == pytest.approx(summary["accuracy"], abs=1 / 64)
    assert metrics["best_epoch"] == summary["best_epoch"] and (model / "model.tflite").is_file()
