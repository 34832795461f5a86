"""EmotionClassifier: the exported model under LiteRT, one batched call per frame."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from monitor.classify import FLOAT32_FILE, EmotionClassifier, ModelError
from monitor.labels import EMOTIONS
from monitor.registry import active_model_dir, shipped_models


@pytest.fixture(scope="module")
def model_dir() -> Path:
    """A shipped model with its float32 file (the default ensemble ships only its int8 file)."""
    return next(d for d in shipped_models() if (d / FLOAT32_FILE).is_file())


def test_the_default_model_runs_from_whichever_file_it_ships() -> None:
    clf = EmotionClassifier(active_model_dir())
    assert clf.version == active_model_dir().name
    probs = clf.predict(faces(4, seed=2))
    assert probs.shape == (4, len(EMOTIONS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def faces(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (rng.integers(40, 120),) * 2, dtype=np.uint8) for _ in range(n)]


def test_a_batch_gives_one_distribution_per_face_equal_to_single_calls(model_dir: Path) -> None:
    clf = EmotionClassifier(model_dir)
    crops = faces(5)
    batch = clf.predict(crops)
    assert batch.shape == (5, len(EMOTIONS))
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, atol=1e-4)
    singles = np.concatenate([clf.predict([c]) for c in crops])
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    assert clf.predict([]).shape == (0, len(EMOTIONS))


def test_outputs_are_reordered_by_labels_json(model_dir: Path, tmp_path: Path) -> None:
    permuted = list(reversed(EMOTIONS))
    copy = tmp_path / "permuted"
    shutil.copytree(model_dir, copy)
    (copy / "labels.json").write_text(json.dumps(permuted))
    crops = faces(3, seed=1)
    original = EmotionClassifier(model_dir).predict(crops)
    relabelled = EmotionClassifier(copy).predict(crops)
    # The same raw outputs, read under reversed names, land reversed in EMOTIONS order.
    np.testing.assert_allclose(relabelled, original[:, ::-1], atol=1e-6)


def test_bad_model_files_are_clear_errors(model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model file not found"):
        EmotionClassifier(tmp_path / "missing")
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "model.tflite").write_bytes((model_dir / "model.tflite").read_bytes()[:1000])
    with pytest.raises(ModelError, match="not a usable TFLite model"):
        EmotionClassifier(truncated)
    wrong_labels = tmp_path / "labels"
    shutil.copytree(model_dir, wrong_labels)
    (wrong_labels / "labels.json").write_text('["happy", "sad"]')
    with pytest.raises(ModelError, match="outputs but labels.json"):
        EmotionClassifier(wrong_labels)


def test_a_model_with_the_wrong_input_shape_is_refused(tmp_path: Path) -> None:
    tf = pytest.importorskip("tensorflow", reason="needs tensorflow-cpu (the train extra) to build a model")
    inputs = tf.keras.Input((64, 64, 1))
    outputs = tf.keras.layers.Dense(7, activation="softmax")(tf.keras.layers.Flatten()(inputs))
    model = tf.keras.Model(inputs, outputs)
    (tmp_path / "model.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    with pytest.raises(ModelError, match=r"model input must be \(N, 48, 48, 1\)"):
        EmotionClassifier(tmp_path)


def test_auto_precision_runs_int8_only_when_the_model_ships_it(model_dir: Path, tmp_path: Path) -> None:
    from monitor.classify import INT8_FILE

    if not (model_dir / INT8_FILE).is_file():
        pytest.skip(f"{model_dir.name} ships no {INT8_FILE}")
    float_only = tmp_path / "float-only"
    shutil.copytree(model_dir, float_only, ignore=shutil.ignore_patterns(INT8_FILE))
    assert EmotionClassifier(model_dir).precision == "int8"
    assert EmotionClassifier(model_dir, precision="float32").precision == "float32"
    assert EmotionClassifier(float_only).precision == "float32"
    with pytest.raises(ModelError, match="model file not found"):
        EmotionClassifier(float_only, precision="int8")
    with pytest.raises(ModelError, match="precision must be one of"):
        EmotionClassifier(model_dir, precision="fp8")
    # Both files give nearly the same answers on real faces (the export keeps int8 only within 1 point).
    from tests.training.conftest import FER2013

    if not FER2013.is_file():
        pytest.skip(f"FER2013 not found at {FER2013} (../shared is not beside the repo)")
    from training.data import load_dataset

    crops = list(load_dataset(FER2013, progress=False).split("PublicTest").images[:200])
    full = EmotionClassifier(model_dir, precision="float32").predict(crops)
    quant = EmotionClassifier(model_dir, precision="int8").predict(crops)
    assert np.abs(full - quant).mean() < 0.02
    assert (full.argmax(axis=1) == quant.argmax(axis=1)).mean() >= 0.9
