"""Temperature scaling: the fit, ECE, the diagram, and the worker's classifier applying the shipped T."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from monitor.classify import CALIBRATION_FILE, EmotionClassifier, ModelError, apply_temperature, model_file
from tests.conftest import REPO
from tests.training.conftest import FER2013, requires_fer2013
from training.calibration import ece, fit_temperature, nll, reliability_diagram

MODELS = REPO / "models"
DEFAULT = MODELS / (MODELS / "DEFAULT").read_text().strip()


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_ece_on_a_hand_checked_example() -> None:
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 1, 0, 1])
    # bins: 0.9 → acc 0.5 (gap 0.4, 2 faces); 0.6 → acc 1 (gap 0.4, 2 faces, both at confidence 0.6)
    assert ece(probs, y) == pytest.approx(0.4)
    assert ece(np.eye(3), np.arange(3)) == 0.0


def test_the_fit_recovers_an_overconfident_models_temperature_and_keeps_every_argmax() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (600, 7))
    y = np.array([rng.choice(7, p=p) for p in _softmax(logits)])  # labels drawn from the true probabilities
    overconfident = _softmax(logits * 2.5)
    t = fit_temperature(overconfident, y)
    assert 2.0 < t < 3.1
    calibrated = apply_temperature(overconfident, t)
    assert np.array_equal(calibrated.argmax(axis=1), overconfident.argmax(axis=1))
    assert nll(calibrated, y) < nll(overconfident, y) and ece(calibrated, y) < ece(overconfident, y)
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0, atol=1e-6)


def test_the_reliability_diagram_is_a_png(tmp_path: Path) -> None:
    probs = _softmax(np.random.default_rng(1).normal(0, 2, (200, 7)))
    y = probs.argmax(axis=1)
    path = reliability_diagram(tmp_path / "r.png", {"raw": (probs, y)})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@requires_fer2013
def test_a_temperature_fitted_on_a_fer2013_slice_lowers_nll_and_ece_of_the_shipped_model() -> None:
    from monitor.preprocess import preprocess_faces
    from training.data import load_dataset
    from training.export import predict_litert

    rows = load_dataset(FER2013, progress=False).split("PublicTest").head(400)
    fit, check = slice(0, 200), slice(200, 400)
    raw = predict_litert(model_file(DEFAULT), preprocess_faces(rows.images))
    y = rows.labels
    t = fit_temperature(raw[fit], y[fit])
    scaled = apply_temperature(raw, t)
    assert np.array_equal(scaled.argmax(axis=1), raw.argmax(axis=1))
    assert nll(scaled[fit], y[fit]) < nll(raw[fit], y[fit]) and ece(scaled[fit], y[fit]) < ece(
        raw[fit], y[fit]
    )
    assert nll(scaled[check], y[check]) <= nll(raw[check], y[check]) + 0.01  # it carries over to unseen rows


def test_the_classifier_applies_the_shipped_temperature() -> None:
    from training.export import predict_litert

    calibration = json.loads((DEFAULT / CALIBRATION_FILE).read_text())
    path = model_file(DEFAULT)
    t = calibration["files"][path.name]["temperature"]
    assert t != 1.0
    clf = EmotionClassifier(DEFAULT)
    assert clf.temperature == t
    faces = np.random.default_rng(0).random((5, 48, 48, 1), dtype=np.float32)
    np.testing.assert_allclose(
        clf.predict_batch(faces), apply_temperature(predict_litert(path, faces), t), atol=1e-5
    )


def test_a_broken_calibration_file_is_one_clear_model_error(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(DEFAULT, model)
    name = model_file(model).name
    (model / CALIBRATION_FILE).write_text(json.dumps({"files": {name: {"temperature": -1}}}))
    with pytest.raises(ModelError, match="must be a positive number"):
        EmotionClassifier(model)
    (model / CALIBRATION_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="not a valid calibration file"):
        EmotionClassifier(model)
    (model / CALIBRATION_FILE).unlink()
    assert EmotionClassifier(model).temperature is None
