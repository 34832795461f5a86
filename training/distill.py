"""Knowledge distillation: train one compact model on a stronger teacher's probabilities.

An ensemble is more accurate than each of its members but costs their sum at inference time. A student of
the shipped size, trained on targets that mix the FER2013 label with the teacher's softened probabilities,
learns which faces are ambiguous (and which labels are probably wrong) instead of memorising them.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

TEACHER_WEIGHT = 0.5
"""Share of the target taken from the teacher; the rest is the (one-hot) label."""
TEACHER_TEMPERATURE = 2.0
"""Softening of the teacher's probabilities (p ** (1/T), renormalised), as in Hinton et al. 2015."""


class TeacherError(ValueError):
    """A teacher that cannot label this dataset; the message is meant for the user."""


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log(p) / T)``: the teacher's distribution at temperature ``T`` (rows sum to 1)."""
    logits = np.log(np.clip(probs, 1e-8, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    soft = np.exp(logits)
    return (soft / soft.sum(axis=1, keepdims=True)).astype(np.float32)


def teacher_probabilities(
    teacher: Path, faces: np.ndarray, label_names: list[str], *, cache_dir: Path | None = None
) -> np.ndarray:
    """The teacher model directory's probabilities for ``faces``, in the order of ``label_names``.

    The teacher runs as the worker would run it: the file :func:`monitor.classify.model_file` picks
    (``model_int8.tflite`` when that is all an ensemble ships) with its ``calibration.json`` temperature.
    With ``cache_dir`` the probabilities are kept there, keyed by the teacher file's and the faces' hashes,
    so a resumed run does not label the training set again.
    """
    from monitor.classify import apply_temperature, model_file, read_temperature
    from training.export import LiteRTClassifier, write_bytes_atomic

    teacher = Path(teacher)
    path = model_file(teacher)
    if not path.is_file():
        raise TeacherError(f"teacher {teacher} is not a model directory: no model.tflite or int8 file")
    labels_file = teacher / "labels.json"
    labels = json.loads(labels_file.read_text()) if labels_file.is_file() else None
    if labels != list(label_names):
        raise TeacherError(f"teacher {teacher} predicts {labels}, the dataset has {list(label_names)}")
    key = hashlib.sha256(path.read_bytes() + np.ascontiguousarray(faces).tobytes()).hexdigest()[:16]
    cached = Path(cache_dir) / f"teacher-{key}.npy" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        print(f"teacher {teacher.name}: probabilities from {cached}", flush=True)
        return np.load(cached)
    print(f"teacher {teacher.name} ({path.name}): labelling {len(faces):,} training faces ...", flush=True)
    probs = LiteRTClassifier(path).predict(faces, batch_size=256)
    probs = apply_temperature(probs, read_temperature(path))
    if cached is not None:
        buffer = io.BytesIO()
        np.save(buffer, probs)
        write_bytes_atomic(cached, buffer.getvalue())
    return probs


def distillation_targets(
    labels: np.ndarray,
    teacher_probs: np.ndarray,
    *,
    weight: float = TEACHER_WEIGHT,
    temperature: float = TEACHER_TEMPERATURE,
) -> np.ndarray:
    """``(1 - weight) * labels + weight * soften(teacher_probs, temperature)``, float32 rows summing to 1."""
    if labels.shape != teacher_probs.shape:
        raise TeacherError(f"teacher gives {teacher_probs.shape} probabilities for {labels.shape} targets")
    return ((1.0 - weight) * labels + weight * soften(teacher_probs, temperature)).astype(np.float32)
