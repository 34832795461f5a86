"""``EmotionClassifier``: all faces of a frame in one LiteRT call on the exported model.

The model directory holds ``model.tflite`` (input ``(N, 48, 48, 1)`` float32 in [0, 1], output ``(N, K)``
probabilities) and ``labels.json``. A FER+ model with an 8th class (contempt) is folded onto the 7
FER2013 labels so the store always sees the same classes.

A directory may also ship ``model_int8.tflite`` (int8 inside, float32 in and out); the training export
writes it only when it stays within one point of the float32 accuracy. ``precision="auto"`` runs it when
present: the same answers at a fraction of the CPU time.

``calibration.json`` (optional, written by ``classroom-monitor calibrate-model``) holds a temperature per
model file, fitted on held-out faces; the classifier returns ``softmax(log(p) / T)``, which keeps the top
class and makes the probabilities that the dashboard and reports average honest.

``min_face_px``: the smallest face (shorter side of the detector's box, px) whose expression the model can
read; smaller faces get no expression at all (``FramePipeline``). It comes from the model's ``metrics.json``
(measured by ``benchmarks/expression_size.py`` / ``training/size_curve.py``), else ``MIN_FACE_PX``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from monitor.config import MODEL_PRECISIONS
from monitor.labels import EMOTIONS
from monitor.preprocess import FACE_SIZE, preprocess_faces

FLOAT32_FILE, INT8_FILE = "model.tflite", "model_int8.tflite"
CALIBRATION_FILE = "calibration.json"
METRICS_FILE = "metrics.json"
MIN_FACE_PX = 24
"""Smallest readable face side (px) when a model's ``metrics.json`` gives none: where the shipped models'
macro-F1 on FER2013 PublicTest, shrunk to that size, is still at least 0.9 x their 48 px macro-F1."""
_LOG_FLOOR = 1e-7
"""Probabilities are floored here before the log: an int8 model outputs exact zeros."""


class ModelError(Exception):
    """A model directory or file that cannot be used; the message is meant for the user."""


def has_runtime(model_dir: Path) -> bool:
    """Whether ``model_dir`` holds a file the worker can run (float32, int8 or both)."""
    return any((model_dir / name).is_file() for name in (FLOAT32_FILE, INT8_FILE))


def model_file(model: Path, precision: str = "auto") -> Path:
    """The ``.tflite`` to run for ``model`` (a directory or a file) at ``precision``."""
    if precision not in MODEL_PRECISIONS:
        raise ModelError(f"precision must be one of {', '.join(MODEL_PRECISIONS)}, not {precision!r}")
    if not model.is_dir():
        return model
    if precision == "int8" or (precision == "auto" and (model / INT8_FILE).is_file()):
        return model / INT8_FILE
    return model / FLOAT32_FILE


def apply_temperature(probs: np.ndarray, temperature: float | None) -> np.ndarray:
    """``softmax(log(probs) / temperature)`` row by row; the argmax never changes. ``None`` or 1: no-op."""
    if temperature is None or temperature == 1.0 or len(probs) == 0:
        return probs
    logits = np.log(np.maximum(probs, _LOG_FLOOR)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    out /= out.sum(axis=1, keepdims=True)
    return out.astype(probs.dtype, copy=False)


def read_temperature(path: Path) -> float | None:
    """The temperature ``calibration.json`` beside ``path`` stores for that model file (None: none stored,
    or the temperature is already folded into the file's graph)."""
    calibration = path.parent / CALIBRATION_FILE
    if not calibration.is_file():
        return None
    try:
        entry = json.loads(calibration.read_text()).get("files", {}).get(path.name)
    except (json.JSONDecodeError, AttributeError, OSError) as exc:
        raise ModelError(f"{calibration} is not a valid calibration file ({exc})") from exc
    if not entry or entry.get("in_graph"):
        return None
    t = entry.get("temperature")
    if not isinstance(t, (int, float)) or isinstance(t, bool) or not (0 < t < float("inf")):
        raise ModelError(f"{calibration}: temperature for {path.name} must be a positive number, not {t!r}")
    return float(t)


def read_min_face_px(model_dir: Path) -> int:
    """``min_face_px`` from ``model_dir/metrics.json``; ``MIN_FACE_PX`` when the file or entry is absent."""
    path = model_dir / METRICS_FILE
    if not path.is_file():
        return MIN_FACE_PX
    try:
        value = json.loads(path.read_text()).get("min_face_px", MIN_FACE_PX)
    except (json.JSONDecodeError, AttributeError, OSError) as exc:
        raise ModelError(f"{path} is not a valid metrics file ({exc})") from exc
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ModelError(f"{path}: min_face_px must be a whole number of pixels >= 0, not {value!r}")
    return value


class EmotionClassifier:
    def __init__(self, model_dir: str | Path, num_threads: int = 2, precision: str = "auto") -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.model_dir = Path(model_dir)
        path = model_file(self.model_dir, precision)
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        in_dir = path.name in (FLOAT32_FILE, INT8_FILE)
        self.version = (path.parent if in_dir else path).name.removesuffix(".tflite")
        self.precision = "int8" if path.name == INT8_FILE else "float32"
        try:
            self._interp = Interpreter(model_path=str(path), num_threads=num_threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"not a usable TFLite model: {path} ({exc})") from exc
        inp = self._interp.get_input_details()[0]
        out = self._interp.get_output_details()[0]
        if tuple(inp["shape"][1:]) != (FACE_SIZE, FACE_SIZE, 1):
            raise ModelError(f"model input must be (N, 48, 48, 1), got {tuple(inp['shape'])}: {path}")
        self._in, self._out = inp["index"], out["index"]
        self._batch = int(inp["shape"][0])
        self._fold = self._label_map(path.parent / "labels.json", int(out["shape"][-1]))
        self.temperature = read_temperature(path)
        self.min_face_px = read_min_face_px(path.parent)

    @staticmethod
    def _label_map(labels_file: Path, n_out: int) -> np.ndarray | None:
        """Index array that reorders model outputs into EMOTIONS order (None: already in order)."""
        labels = list(EMOTIONS)
        if labels_file.is_file():
            try:
                labels = json.loads(labels_file.read_text())
            except json.JSONDecodeError as exc:
                raise ModelError(f"labels.json is not valid JSON: {labels_file}") from exc
        if len(labels) != n_out:
            raise ModelError(f"model has {n_out} outputs but labels.json lists {len(labels)}")
        if labels == list(EMOTIONS):
            return None
        aliases = {"anger": "angry", "happiness": "happy", "sadness": "sad"}
        labels = [aliases.get(label, label) for label in labels]
        missing = set(EMOTIONS) - set(labels)
        if missing:
            raise ModelError(f"model labels lack {sorted(missing)}: {labels_file}")
        return np.array([labels.index(e) for e in EMOTIONS])

    def _resize(self, n: int) -> None:
        if n != self._batch:
            self._interp.resize_tensor_input(self._in, [n, FACE_SIZE, FACE_SIZE, 1])
            self._interp.allocate_tensors()
            self._batch = n

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, 7)`` in EMOTIONS order for a preprocessed ``(N, 48, 48, 1)`` batch."""
        n = len(batch)
        if n == 0:
            return np.empty((0, len(EMOTIONS)), np.float32)
        self._resize(n)
        self._interp.set_tensor(self._in, np.ascontiguousarray(batch, dtype=np.float32))
        self._interp.invoke()
        probs = apply_temperature(self._interp.get_tensor(self._out).copy(), self.temperature)
        if self._fold is not None:
            probs = probs[:, self._fold]
        # Renormalise: folding drops a class, and an int8 model's outputs come in steps of 1/256.
        probs /= np.maximum(probs.sum(axis=1, keepdims=True), 1e-9)
        return probs

    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities ``(N, 7)`` for face crops of any size (grey or BGR)."""
        return self.predict_batch(preprocess_faces(crops))
