"""Evaluation: classification metrics, and evaluating an exported model under LiteRT like the worker does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from monitor.preprocess import preprocess_faces
from training.data import FaceDataset


def classification_metrics(
    y_true: np.ndarray, probs: np.ndarray, labels: tuple[str, ...] | list[str]
) -> dict:
    """Accuracy, macro F1, per-class precision/recall/F1 and the confusion matrix (rows = true class).

    Macro F1 averages over the classes that occur in the truth or the predictions, as scikit-learn does.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    n_classes = max(len(labels), probs.shape[1] if probs.ndim == 2 else 0)
    y_pred = probs.argmax(axis=1) if len(probs) else np.zeros(0, np.int64)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    tp = np.diag(confusion).astype(float)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = (support > 0) | (predicted > 0)
    names = list(labels) + [f"class_{i}" for i in range(len(labels), n_classes)]
    n = int(len(y_true))
    return {
        "n": n,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "labels": names,
        "per_class_precision": {name: round(float(p), 4) for name, p in zip(names, precision, strict=True)},
        "per_class_recall": {name: round(float(r), 4) for name, r in zip(names, recall, strict=True)},
        "per_class_f1": {name: round(float(v), 4) for name, v in zip(names, f1, strict=True)},
        "support": {name: int(s) for name, s in zip(names, support, strict=True)},
        "confusion": confusion.tolist(),
    }


def read_labels(model_dir: Path) -> list[str]:
    """The model's output labels from ``labels.json`` (a list, or an object with a ``labels`` list)."""
    data = json.loads((model_dir / "labels.json").read_text())
    return list(data["labels"] if isinstance(data, dict) else data)


def default_usage(dataset: FaceDataset) -> str:
    """What ``evaluate`` scores when not told: PublicTest of a FER2013 CSV, every image of a folder."""
    return "all" if dataset.is_folder else "PublicTest"


def evaluate_model_dir(
    model_dir: Path,
    dataset: FaceDataset,
    *,
    usage: str | None = None,
    flip_tta: bool = False,
    tflite_name: str | None = None,
    precision: str = "auto",
    calibrated: bool = True,
    timing: bool = False,
) -> dict:
    """Metrics of one model file of ``model_dir`` on the ``usage`` rows of ``dataset``.

    The file is ``tflite_name`` when given, else the worker's choice at ``precision``
    (``monitor.classify.model_file``). Besides accuracy and macro F1: ECE (15 bins) and NLL of the
    probabilities the worker would use, and with ``timing`` the LiteRT ms per face (batches of 16).
    """
    from monitor.classify import model_file
    from training.calibration import calibration_summary
    from training.export import LiteRTClassifier

    usage = usage or default_usage(dataset)
    path = model_dir / tflite_name if tflite_name else model_file(model_dir, precision)
    if not path.is_file():
        raise FileNotFoundError(f"no {path.name} in {model_dir}")
    subset = dataset.split(usage)
    if len(subset) == 0:
        present = sorted(set(dataset.usage.tolist()))
        raise ValueError(f"no {usage} rows in {dataset.source} (it has: {', '.join(present)})")
    from training.export import predict_model_file  # Keras is imported only when a model is scored

    probs, temperature = predict_model_file(
        path, preprocess_faces(subset.images), flip_tta=flip_tta, calibrated=calibrated
    )
    labels = read_labels(model_dir)
    metrics = classification_metrics(subset.hard_labels, probs, labels)
    metrics.update(calibration_summary(probs, subset.hard_labels))
    metrics.update(
        model=str(model_dir),
        model_file=str(path),
        precision=_precision_of(path),
        temperature=temperature,
        data=dataset.source,
        usage=usage,
        flip_tta=flip_tta,
        skipped_rows=dataset.skipped,
        skipped_classes=dataset.dropped_classes,
    )
    if timing:
        metrics["ms_per_face"] = round(LiteRTClassifier(path).ms_per_face() * (2 if flip_tta else 1), 4)
    return metrics


def _precision_of(path: Path) -> str:
    from monitor.classify import INT8_FILE

    return "int8" if path.name == INT8_FILE else "float32"


def _database_exists(db_url: str) -> bool:
    """Whether ``db_url`` names a server database or an SQLite file that exists (never create one to ask)."""
    from monitor.store.db import sqlite_file

    text = str(db_url)
    if "://" in text and not text.startswith("sqlite"):
        return True
    file = sqlite_file(text)  # a plain path is an SQLite file, as in monitor.store
    return file is not None and file.is_file()


def newest_model_dir(models_root: Path = Path("models"), db_url: str | None = None) -> Path | None:
    """The active model: the database's choice (``monitor.registry``) when a database exists, else the
    default shipped one (``models_root/DEFAULT``, else the newest)."""
    from monitor.classify import ModelError
    from monitor.registry import active_model_dir

    if db_url and _database_exists(db_url):
        try:
            from monitor.store import make_engine, session_factory

            with session_factory(make_engine(db_url))() as db:
                return Path(active_model_dir(db, models_dir=models_root))
        except Exception:  # noqa: BLE001  (an unreadable database must not stop an evaluation)
            pass
    try:
        return active_model_dir(None, models_dir=models_root)
    except ModelError:
        return None
