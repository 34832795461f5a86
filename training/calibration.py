"""Calibration: temperature scaling, expected calibration error and reliability diagrams.

Temperature scaling (Guo et al., 2017) divides a model's log-probabilities by one number ``T`` and
re-normalises: ``softmax(log(p) / T)``. It never changes the argmax, so accuracy stays the same, and ``T``
is fitted on held-out faces by minimising the negative log-likelihood. The fitted value is stored beside
the model (``monitor.classify.CALIBRATION_FILE``) and applied by the worker's classifier.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from monitor.classify import apply_temperature
from training.data import FaceDataset

ECE_BINS = 15
T_RANGE = (0.05, 20.0)
"""The temperatures searched; a fit at either end means the probabilities are degenerate."""


def nll(probs: np.ndarray, y_true: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class."""
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(y_true)), np.asarray(y_true, dtype=np.int64)]
    return float(-np.log(np.maximum(p, 1e-12)).mean()) if len(p) else 0.0


def fit_temperature(probs: np.ndarray, y_true: np.ndarray, *, tol: float = 1e-4) -> float:
    """The ``T`` in :data:`T_RANGE` that minimises NLL of ``softmax(log(probs) / T)`` (golden section on
    ``log T``; the NLL is convex in ``1/T`` and unimodal in ``log T``)."""
    if len(y_true) == 0:
        raise ValueError("no faces to fit a temperature on")
    lo, hi = math.log(T_RANGE[0]), math.log(T_RANGE[1])
    inv_phi = (math.sqrt(5) - 1) / 2

    def loss(log_t: float) -> float:
        return nll(apply_temperature(probs, math.exp(log_t)), y_true)

    a, b = lo + (1 - inv_phi) * (hi - lo), lo + inv_phi * (hi - lo)
    fa, fb = loss(a), loss(b)
    while hi - lo > tol:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - inv_phi) * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + inv_phi * (hi - lo)
            fb = loss(b)
    return float(math.exp((lo + hi) / 2))


def reliability(probs: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS) -> dict:
    """Per-bin confidence, accuracy and count over ``n_bins`` equal-width bins of the top probability."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1) if len(probs) else np.zeros(0)
    correct = (probs.argmax(axis=1) == np.asarray(y_true)) if len(probs) else np.zeros(0, bool)
    # Bins (k/n, (k+1)/n]; a confidence of exactly 0 joins the first bin.
    idx = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / count
        accuracy = np.bincount(idx, weights=correct.astype(float), minlength=n_bins) / count
    return {"count": count, "confidence": mean_conf, "accuracy": accuracy, "n_bins": n_bins}


def ece(probs: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error: the count-weighted mean |accuracy - confidence| over the bins."""
    r = reliability(probs, y_true, n_bins)
    n = int(r["count"].sum())
    if n == 0:
        return 0.0
    used = r["count"] > 0
    gap = np.abs(r["accuracy"][used] - r["confidence"][used])
    return float((gap * r["count"][used]).sum() / n)


def calibration_summary(probs: np.ndarray, y_true: np.ndarray) -> dict:
    """ECE (15 bins) and NLL of ``probs``, rounded for metrics.json."""
    return {"ece": round(ece(probs, y_true), 4), "nll": round(nll(probs, y_true), 4)}


def reliability_diagram(
    path: Path, curves: dict[str, tuple[np.ndarray, np.ndarray]], *, title: str = ""
) -> Path:
    """Plot accuracy against confidence per bin for each ``name: (probs, y_true)`` and write a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.2), dpi=100)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfectly calibrated")
    for (name, (probs, y_true)), marker in zip(curves.items(), "os^v", strict=False):
        r = reliability(probs, y_true)
        used = r["count"] > 0
        ax.plot(
            r["confidence"][used],
            r["accuracy"][used],
            marker=marker,
            markersize=4,
            label=f"{name} (ECE {ece(probs, y_true):.3f})",
        )
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top probability)", ylabel="accuracy")
    ax.set_title(title or f"Reliability ({ECE_BINS} bins)", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file (a dataset's identity in calibration.json and the model card)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def calibrate_model_dir(
    model_dir: Path, dataset: FaceDataset, *, usage: str = "PublicTest", command: str = "", fold: bool = False
) -> dict:
    """Fit a temperature for every ``.tflite`` in ``model_dir`` on ``usage`` rows and store the results.

    Writes ``calibration.json`` (read by the worker's classifier), ``reliability.png`` (the file the worker
    runs by default, before and after), a ``calibration`` entry in ``metrics.json`` and the model card.
    Returns the calibration record. Accuracy is checked to be unchanged (temperature keeps the argmax).

    ``fold``: re-export ``model.tflite`` from ``model.keras`` with T folded into the graph (marked
    ``in_graph``; the classifier then applies nothing more). An int8 file always keeps T in the JSON:
    folding would mean quantising again, which could move its accuracy.
    """
    import json

    from monitor.classify import CALIBRATION_FILE, FLOAT32_FILE, INT8_FILE, model_file
    from monitor.preprocess import preprocess_faces
    from training.card import write_model_card
    from training.export import predict_model_file

    subset = dataset.split(usage)
    if len(subset) == 0:
        raise ValueError(f"no {usage} rows in {dataset.source} to fit a temperature on")
    files = [name for name in (FLOAT32_FILE, INT8_FILE) if (model_dir / name).is_file()]
    if not files:
        raise FileNotFoundError(f"no {FLOAT32_FILE} or {INT8_FILE} in {model_dir}")
    if fold:
        _check_foldable(model_dir)
    faces, y = preprocess_faces(subset.images), subset.hard_labels
    source = Path(dataset.source)
    record: dict = {
        "method": "temperature scaling: p' = softmax(log(p) / T), applied by monitor.classify",
        "fitted_on": {
            "data": str(dataset.source),
            "usage": usage,
            "n": int(len(y)),
            "sha256": file_sha256(source) if source.is_file() else None,
        },
        "ece_bins": ECE_BINS,
        "command": command,
        "files": {},
    }
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    worker_file = model_file(model_dir, "auto").name
    for name in files:
        raw, _ = predict_model_file(model_dir / name, faces, calibrated=False)
        t = fit_temperature(raw, y)
        scaled = apply_temperature(raw, t)
        if not np.array_equal(raw.argmax(axis=1), scaled.argmax(axis=1)):
            raise AssertionError(f"temperature {t} changed a prediction of {name}")  # cannot happen
        record["files"][name] = {
            "temperature": round(t, 4),
            "in_graph": False,
            "accuracy": round(float((raw.argmax(axis=1) == y).mean()), 4),
            "ece_before": round(ece(raw, y), 4),
            "ece_after": round(ece(scaled, y), 4),
            "nll_before": round(nll(raw, y), 4),
            "nll_after": round(nll(scaled, y), 4),
        }
        if fold and name == FLOAT32_FILE:
            diff = _fold_into_graph(model_dir, t, faces[:64], scaled[:64])
            record["files"][name].update(in_graph=True, folded_max_abs_diff=round(diff, 6))
        if name == worker_file:
            curves = {f"{name} raw": (raw, y), f"{name} T={t:.2f}": (scaled, y)}
    (model_dir / CALIBRATION_FILE).write_text(json.dumps(record, indent=2) + "\n")
    reliability_diagram(
        model_dir / "reliability.png", curves, title=f"{model_dir.name}: {usage}, n={len(y)}, {ECE_BINS} bins"
    )
    metrics_path = model_dir / "metrics.json"
    if metrics_path.is_file():
        metrics = json.loads(metrics_path.read_text())
        metrics["calibration"] = {**record, "worker_file": worker_file}
        if fold:  # the re-exported file's size, for the card
            metrics["tflite_bytes"] = (model_dir / FLOAT32_FILE).stat().st_size
        metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
        write_model_card(model_dir, metrics)
    return record


def _check_foldable(model_dir: Path) -> None:
    """Refuse to fold when there is no Keras model or ``model.tflite`` already has a temperature inside."""
    import json

    from monitor.classify import CALIBRATION_FILE, FLOAT32_FILE

    if not (model_dir / "model.keras").is_file() or not (model_dir / FLOAT32_FILE).is_file():
        raise FileNotFoundError(f"folding needs model.keras and {FLOAT32_FILE} in {model_dir}")
    existing = model_dir / CALIBRATION_FILE
    if existing.is_file():
        entry = json.loads(existing.read_text()).get("files", {}).get(FLOAT32_FILE) or {}
        if entry.get("in_graph"):
            raise ValueError(
                f"{model_dir / FLOAT32_FILE} already has T={entry.get('temperature')} in its "
                "graph; export it again (train --export-only) before folding another"
            )


def _fold_into_graph(model_dir: Path, temperature: float, faces: np.ndarray, expected: np.ndarray) -> float:
    """Re-export ``model.tflite`` with ``temperature`` inside; returns the max |difference| from
    ``expected`` (the JSON-applied probabilities) on ``faces``."""
    import keras

    from monitor.classify import FLOAT32_FILE
    from training.export import predict_litert, to_tflite, with_temperature, write_bytes_atomic

    scaled_model = with_temperature(keras.models.load_model(model_dir / "model.keras"), temperature)
    write_bytes_atomic(model_dir / FLOAT32_FILE, to_tflite(scaled_model))
    return float(np.abs(predict_litert(model_dir / FLOAT32_FILE, faces) - expected).max())
