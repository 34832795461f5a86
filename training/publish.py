"""Turn a float32 inference model into a shippable model directory.

``publish_model`` writes ``model.keras``, ``model.tflite`` (and ``model_int8.tflite`` when it keeps
accuracy), ``labels.json``, ``metrics.json``, the figures and ``MODEL_CARD.md``, measuring everything on the
validation split with the worker's own runtime (LiteRT). Single trained models and ensembles share it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from monitor.labels import EMOTIONS
from monitor.preprocess import preprocess_faces
from training.data import FaceDataset

if TYPE_CHECKING:
    import keras

BENCHMARK_BATCH = 16
INT8_MAX_DROP = 0.01
"""An int8 export ships only if it loses at most this much validation accuracy."""


def publish_model(
    model: keras.Model,
    out: Path,
    val_set: FaceDataset,
    representative: np.ndarray,
    histories: dict[str, dict[str, list[float]]],
    info: dict,
    *,
    int8: bool = True,
    int8_max_drop: float = INT8_MAX_DROP,
) -> dict:
    """Export ``model`` into ``out``, evaluate it there and return the metrics written to ``metrics.json``.

    ``histories`` maps a run name to its per-epoch history (one run, or every member of an ensemble);
    ``info`` describes how the model was made (arch, epochs, command...) and is copied into the metrics.
    """
    from training.card import write_model_card
    from training.evaluate import classification_metrics
    from training.export import (
        LITERT_THREADS,
        LiteRTClassifier,
        predict_litert,
        save_compact_keras,
        to_tflite,
        write_bytes_atomic,
    )
    from training.plots import plot_confusion, plot_histories

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels = list(val_set.label_names)
    print(f"exporting {out} ...", flush=True)
    save_compact_keras(model, out / "model.keras")
    write_bytes_atomic(out / "model.tflite", to_tflite(model))
    (out / "labels.json").write_text(json.dumps(labels) + "\n")

    print("evaluating the LiteRT export ...", flush=True)
    x_val = preprocess_faces(val_set.images)
    y_true = val_set.hard_labels
    probs = predict_litert(out / "model.tflite", x_val)
    metrics = classification_metrics(y_true, probs, labels)
    keras_probs = model.predict(x_val[:256], verbose=0)
    tta = classification_metrics(y_true, predict_litert(out / "model.tflite", x_val, flip_tta=True), labels)

    command = info.get("command")
    metrics.update(version=out.name, params=int(model.count_params()))
    metrics.update({key: value for key, value in info.items() if key != "command"})
    metrics.update(
        usage="PublicTest" if "PublicTest" in set(val_set.usage.tolist()) else "validation",
        accuracy_flip_tta=tta["accuracy"],
        macro_f1_flip_tta=tta["macro_f1"],
        keras_litert_max_abs_diff=float(np.abs(keras_probs - probs[:256]).max()) if len(probs) else 0.0,
        ms_per_face=LiteRTClassifier(out / "model.tflite").ms_per_face(BENCHMARK_BATCH),
        benchmark_batch=BENCHMARK_BATCH,
        litert_threads=LITERT_THREADS,
        tflite_bytes=(out / "model.tflite").stat().st_size,
        command=command,
    )
    if int8:
        _maybe_int8(model, out, representative, x_val, y_true, labels, metrics, int8_max_drop)
    if labels == list(EMOTIONS):  # how it reads small faces, with the file the worker will run
        from monitor.classify import EmotionClassifier
        from training.size_curve import size_curve_entry

        print("face-size curve ...", flush=True)
        metrics.update(size_curve_entry(EmotionClassifier(out), val_set.images, y_true))

    plot_confusion(
        metrics["confusion"],
        labels,
        out / "confusion_matrix.png",
        f"{out.name}: {metrics['usage']} accuracy {metrics['accuracy']:.3f}",
    )
    if any(histories.values()):
        plot_histories(histories, out / "training_curves.png", out.name)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(out, metrics)
    print(
        f"exported {out}: accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
        f"{metrics['ms_per_face']:.3f} ms/face",
        flush=True,
    )
    return metrics


def _maybe_int8(
    model: keras.Model,
    out: Path,
    representative: np.ndarray,
    x_val: np.ndarray,
    y_true: np.ndarray,
    labels: list[str],
    metrics: dict,
    max_drop: float = INT8_MAX_DROP,
) -> None:
    """Ship ``model_int8.tflite`` only if its accuracy is at most ``max_drop`` below float32's.

    On a small validation set one face moves the accuracy by more than INT8_MAX_DROP, and which faces the
    int8 kernels flip differs between CPUs (AVX2, AVX-512 VNNI): a ``max_drop`` of 1 keeps the file
    whatever it scores (tests, and models whose int8 file is wanted for its speed alone).
    """
    from training.evaluate import classification_metrics
    from training.export import LiteRTClassifier, predict_litert, to_tflite, write_bytes_atomic

    print("int8 export ...", flush=True)
    rng = np.random.default_rng(0)
    sample = representative[rng.permutation(len(representative))[:512]]
    path = out / "model_int8.tflite"
    try:
        write_bytes_atomic(path, to_tflite(model, representative=sample))
    except Exception as exc:  # noqa: BLE001  (the converter raises many types; int8 is optional)
        print(f"int8 export skipped: {exc}", flush=True)
        path.unlink(missing_ok=True)
        return
    int8 = classification_metrics(y_true, predict_litert(path, x_val), labels)
    metrics.update(int8_accuracy=int8["accuracy"], int8_macro_f1=int8["macro_f1"], int8_max_drop=max_drop)
    if metrics["accuracy"] - int8["accuracy"] <= max_drop:
        metrics.update(
            int8_file=path.name,
            int8_bytes=path.stat().st_size,
            int8_ms_per_face=LiteRTClassifier(path).ms_per_face(BENCHMARK_BATCH),
        )
    else:
        path.unlink()
