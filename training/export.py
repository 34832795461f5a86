"""Export a trained Keras model to LiteRT (``.tflite``) and run exported models the way the worker does.

The exported graph is always float32 (also after ``mixed_bfloat16`` training): input ``(N, 48, 48, 1)``
float32 in [0, 1] with a resizable batch dimension, output ``(N, C)`` probabilities.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from training.models import INPUT_SHAPE

if TYPE_CHECKING:
    import keras

LITERT_THREADS = 2
"""Threads the worker gives LiteRT on a 2-core box; benchmarks use the same."""


def to_tflite(model: keras.Model, *, representative: np.ndarray | None = None) -> bytes:
    """Convert ``model`` to LiteRT flatbuffer bytes; int8 weights and activations if ``representative``."""
    import tensorflow as tf

    # from_keras_model freezes the Keras 3 variables into constants and keeps the batch dimension dynamic
    # (shape_signature -1), so the worker can resize it to the number of faces in a frame.
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if representative is not None:

        def samples() -> Iterator[list[np.ndarray]]:
            for i in range(0, len(representative), 16):
                yield [representative[i : i + 16].astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = samples
        # int8 inside, float32 at the edges: the worker feeds the same tensors to either file.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    # The converter prints every captured variable to stdout; keep the training log readable.
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; the worker may run as another user
    os.replace(tmp, path)


class LiteRTClassifier:
    """Batch inference on an exported ``.tflite`` with ai_edge_litert (the worker's runtime)."""

    def __init__(self, path: str | Path, threads: int = LITERT_THREADS) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]
        self._batch = 0

    @property
    def n_classes(self) -> int:
        return int(self.interpreter.get_output_details()[0]["shape"][-1])

    def _resize(self, n: int) -> None:
        if n != self._batch:
            self.interpreter.resize_tensor_input(self._input, [n, *INPUT_SHAPE])
            self.interpreter.allocate_tensors()
            self._batch = n

    def predict(self, faces: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Probabilities for ``faces`` (N, 48, 48, 1) float32 in [0, 1]."""
        out = []
        for i in range(0, len(faces), batch_size):
            chunk = np.ascontiguousarray(faces[i : i + batch_size], dtype=np.float32)
            self._resize(len(chunk))
            self.interpreter.set_tensor(self._input, chunk)
            self.interpreter.invoke()
            out.append(self.interpreter.get_tensor(self._output).copy())
        return np.concatenate(out) if out else np.zeros((0, self.n_classes), np.float32)

    def ms_per_face(self, batch: int = 16, repeats: int = 30) -> float:
        """Median wall time per face of one batch of ``batch`` faces, in milliseconds."""
        faces = np.random.default_rng(0).random((batch, *INPUT_SHAPE), dtype=np.float32)
        self.predict(faces, batch)  # warm-up: allocation and XNNPACK packing
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            self.predict(faces, batch)
            times.append(time.perf_counter() - t0)
        return float(np.median(times) * 1000.0 / batch)


def save_compact_keras(model, path: Path) -> Path:
    """Save ``model`` as ``.keras`` with its zip entries deflated (Keras stores them uncompressed).

    The weights are the same bytes, ~9% smaller on disk: what ships in ``models/`` stays small.
    """
    import zipfile

    raw = path.with_name(path.name + ".tmp.keras")
    model.save(raw)
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    raw.unlink()
    return path


def with_temperature(model: keras.Model, temperature: float) -> keras.Model:
    """``model`` followed by temperature scaling, ``softmax(log(p) / T)``, folded into one graph.

    Works on any probability output (one network or an ensemble's mean); the floor on ``p`` is the one
    ``monitor.classify.apply_temperature`` uses, so the exported file answers like the classifier would.
    """
    import keras

    from monitor.classify import _LOG_FLOOR

    probs = model.outputs[0]
    log_probs = keras.ops.log(keras.ops.maximum(probs, _LOG_FLOOR))
    scaled = keras.ops.softmax(log_probs / float(temperature), axis=-1)
    return keras.Model(model.inputs, scaled, name=f"{model.name}_t")


def predict_litert(tflite_path: Path, faces: np.ndarray, *, flip_tta: bool = False) -> np.ndarray:
    """Probabilities from an exported model under ai_edge_litert; ``flip_tta`` averages with mirror images."""
    classifier = LiteRTClassifier(tflite_path)
    probs = classifier.predict(faces)
    if flip_tta:
        probs = (probs + classifier.predict(faces[:, :, ::-1, :])) / 2.0
    return probs


def predict_model_file(
    path: Path, faces: np.ndarray, *, flip_tta: bool = False, calibrated: bool = True
) -> tuple[np.ndarray, float | None]:
    """``(probabilities, temperature)`` of one ``.tflite`` as the worker sees them: with the temperature
    from ``calibration.json`` applied (``calibrated=False``: the file's raw outputs, temperature None)."""
    from monitor.classify import apply_temperature, read_temperature

    probs = predict_litert(path, faces, flip_tta=flip_tta)
    temperature = read_temperature(path) if calibrated else None
    return apply_temperature(probs, temperature), temperature
