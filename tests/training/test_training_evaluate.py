"""The metric code shared by training, ``evaluate`` and the benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
