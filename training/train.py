"""The training story, top to bottom: data → model → fit → evaluate → export → model directory.

``train(TrainConfig(...))`` is what ``classroom-monitor train`` runs. ``publish`` turns a checkpoint into a
model directory (``model.keras``, ``model.tflite``, ``labels.json``, ``metrics.json``, figures, card) and
can be called on its own to re-export a checkpoint.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monitor.preprocess import preprocess_faces
from training.data import FaceDataset, load_dataset, with_ferplus_labels

DEFAULT_EPOCHS = {"default": 45, "baseline": 25}
BENCHMARK_BATCH = 16
INT8_MAX_DROP = 0.01
"""An int8 export ships only if it loses at most this much PublicTest accuracy."""
VAL_FRACTION = 0.1
"""Share of Training carved out for validation when a dataset has no PublicTest rows."""


@dataclass
class TrainConfig:
    """Everything a training run depends on (the CLI flags)."""

    data: Path
    arch: str = "default"
    epochs: int | None = None
    out: Path | None = None
    ferplus: Path | None = None
    seed: int = 1337
    resume: bool = False
    limit: int | None = None
    work_dir: Path | None = None
    int8: bool = True
    export_only: bool = False
    models_root: Path = Path("models")
    init_from: Path | None = None
    peak_lr: float | None = None
    command: str = field(default_factory=lambda: shlex.join(["classroom-monitor", *sys.argv[1:]]))

    @property
    def n_epochs(self) -> int:
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS[self.arch]

    @property
    def version(self) -> str:
        if self.out is not None:
            return Path(self.out).name
        stem = Path(self.data).name.split(".")[0] or "faces"
        return f"{stem}-{self.arch}" + ("-ferplus" if self.ferplus else "")

    @property
    def model_dir(self) -> Path:
        return Path(self.out) if self.out is not None else Path(self.models_root) / self.version

    @property
    def run_dir(self) -> Path:
        """Checkpoints and history: never inside ``models/``, which holds only what ships."""
        return Path(self.work_dir) if self.work_dir is not None else Path("runs") / self.version


def load_training_data(cfg: TrainConfig, progress: bool = True) -> FaceDataset:
    """The dataset with FER+ soft labels if asked for, cut to ``limit`` rows per Usage."""
    if cfg.ferplus is not None:
        dataset = with_ferplus_labels(cfg.data, cfg.ferplus, progress=progress)
    else:
        dataset = load_dataset(cfg.data, progress=progress)
    return dataset.head(cfg.limit)


def train_val_split(dataset: FaceDataset, seed: int) -> tuple[FaceDataset, FaceDataset]:
    """Training and PublicTest rows; without PublicTest rows, a stratified slice of Training validates."""
    train_set, val_set = dataset.split("Training"), dataset.split("PublicTest")
    if len(val_set) == 0 and len(train_set) > 1:
        rng = np.random.default_rng(seed)
        is_val = np.zeros(len(train_set), dtype=bool)
        for c in np.unique(train_set.hard_labels):
            idx = rng.permutation(np.flatnonzero(train_set.hard_labels == c))
            is_val[idx[: int(round(len(idx) * VAL_FRACTION))]] = True
        usage = train_set.usage.copy()
        usage[is_val] = "PublicTest"
        carved = FaceDataset(
            train_set.images,
            train_set.labels,
            usage,
            train_set.label_names,
            train_set.skipped,
            train_set.source,
        )
        train_set, val_set = carved.split("Training"), carved.split("PublicTest")
    return train_set, val_set


def targets(dataset: FaceDataset) -> np.ndarray:
    """One-hot (hard labels) or vote distributions (soft labels), float32."""
    if dataset.soft:
        return dataset.labels.astype(np.float32)
    return np.eye(len(dataset.label_names), dtype=np.float32)[dataset.labels]


def train(cfg: TrainConfig) -> dict:
    """Run the whole story and return the metrics written to ``metrics.json``."""
    import keras

    from training.fit import BEST, choose_precision, fit, load_weights_by_name, read_history, set_seed
    from training.models import build_model

    # 1. Data: faces are preprocessed exactly as the worker does it.
    dataset = load_training_data(cfg)
    print(f"data: {dataset.summary()}", flush=True)
    train_set, val_set = train_val_split(dataset, cfg.seed)
    x_train, y_train = preprocess_faces(train_set.images), targets(train_set)
    x_val, y_val = preprocess_faces(val_set.images), targets(val_set)

    precision = choose_precision()
    if cfg.export_only:  # re-export the best checkpoint of an earlier or still running run
        checkpoint = cfg.run_dir / BEST
        if not checkpoint.exists():
            raise FileNotFoundError(f"no checkpoint to export: {checkpoint}")
        return publish(checkpoint, cfg, val_set, x_train, read_history(cfg.run_dir), precision=precision)

    # 2. Model.
    set_seed(cfg.seed)
    keras.mixed_precision.set_global_policy(precision)
    model = build_model(cfg.arch, len(dataset.label_names), seed=cfg.seed)
    print(f"model: {cfg.arch}, {model.count_params():,} parameters, policy {precision}", flush=True)
    if cfg.init_from is not None and not cfg.resume:
        n = load_weights_by_name(model, Path(cfg.init_from))
        print(f"warm start: {n} layers from {cfg.init_from}", flush=True)

    # 3. Fit, keeping the checkpoint with the best PublicTest accuracy.
    result = fit(
        model,
        cfg.arch,
        x_train,
        y_train,
        x_val,
        y_val,
        epochs=cfg.n_epochs,
        work_dir=cfg.run_dir,
        resume=cfg.resume,
        peak_lr=cfg.peak_lr,
    )
    keras.mixed_precision.set_global_policy("float32")

    # 4-5. Evaluate and export.
    return publish(result.best_path, cfg, val_set, x_train, result.history, precision=result.precision)


def publish(
    checkpoint: Path,
    cfg: TrainConfig,
    val_set: FaceDataset,
    representative: np.ndarray,
    history: dict[str, list[float]],
    *,
    precision: str = "float32",
) -> dict:
    """Export ``checkpoint`` into ``cfg.model_dir`` and write metrics, figures, labels and the card."""
    import keras

    from training.card import write_model_card
    from training.evaluate import classification_metrics, predict_litert
    from training.export import (
        LITERT_THREADS,
        LiteRTClassifier,
        float32_inference_model,
        save_compact_keras,
        to_tflite,
        write_bytes_atomic,
    )
    from training.plots import plot_confusion, plot_history

    out = cfg.model_dir
    out.mkdir(parents=True, exist_ok=True)
    labels = list(val_set.label_names)
    model = float32_inference_model(keras.models.load_model(checkpoint), cfg.arch, len(labels))
    save_compact_keras(model, out / "model.keras")
    write_bytes_atomic(out / "model.tflite", to_tflite(model))
    (out / "labels.json").write_text(json.dumps(labels) + "\n")

    x_val = preprocess_faces(val_set.images)
    y_true = val_set.hard_labels
    probs = predict_litert(out / "model.tflite", x_val)
    metrics = classification_metrics(y_true, probs, labels)
    keras_probs = model.predict(x_val[:256], verbose=0)
    tta = classification_metrics(y_true, predict_litert(out / "model.tflite", x_val, flip_tta=True), labels)

    val_acc = history.get("val_accuracy", [])
    metrics.update(
        version=out.name,
        arch=cfg.arch,
        params=int(model.count_params()),
        epochs=len(history.get("loss", [])),
        best_epoch=int(np.argmax(val_acc)) + 1 if val_acc else None,
        precision=precision,
        usage="PublicTest" if "PublicTest" in set(val_set.usage.tolist()) else "validation",
        label_source="ferplus" if cfg.ferplus else "fer2013",
        data=str(cfg.data) + (f" + {cfg.ferplus}" if cfg.ferplus else ""),
        seed=cfg.seed,
        limit=cfg.limit,
        init_from=str(cfg.init_from) if cfg.init_from else None,
        peak_lr=cfg.peak_lr,
        accuracy_flip_tta=tta["accuracy"],
        macro_f1_flip_tta=tta["macro_f1"],
        keras_litert_max_abs_diff=float(np.abs(keras_probs - probs[:256]).max()) if len(probs) else 0.0,
        ms_per_face=LiteRTClassifier(out / "model.tflite").ms_per_face(BENCHMARK_BATCH),
        benchmark_batch=BENCHMARK_BATCH,
        litert_threads=LITERT_THREADS,
        tflite_bytes=(out / "model.tflite").stat().st_size,
        command=cfg.command,
    )

    previous = _previous_runs(cfg.init_from)
    if previous:
        metrics["previous_runs"] = previous
    if cfg.int8:
        _maybe_int8(model, out, representative, x_val, y_true, labels, metrics)

    plot_confusion(
        metrics["confusion"],
        labels,
        out / "confusion_matrix.png",
        f"{out.name}: {metrics['usage']} accuracy {metrics['accuracy']:.3f}",
    )
    if history:
        plot_history(history, out / "training_curves.png", out.name)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(out, metrics)
    print(
        f"exported {out}: accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}, "
        f"{metrics['ms_per_face']:.3f} ms/face",
        flush=True,
    )
    return metrics


def _previous_runs(init_from: Path | None) -> list[dict]:
    """How the warm-start weights were made: the chain of runs recorded in their metrics.json."""
    if init_from is None:
        return []
    path = Path(init_from)
    metrics_file = (path if path.is_dir() else path.parent) / "metrics.json"
    try:
        prev = json.loads(metrics_file.read_text())
    except (OSError, json.JSONDecodeError):
        return [{"init_from": str(path)}]
    keys = ("version", "command", "epochs", "best_epoch", "accuracy", "macro_f1", "init_from", "peak_lr")
    return [*prev.get("previous_runs", []), {k: prev.get(k) for k in keys}]


def _maybe_int8(
    model,
    out: Path,
    representative: np.ndarray,
    x_val: np.ndarray,  # noqa: ANN001
    y_true: np.ndarray,
    labels: list[str],
    metrics: dict,
) -> None:
    """Ship ``model_int8.tflite`` only if it stays within INT8_MAX_DROP of the float32 accuracy."""
    from training.evaluate import classification_metrics, predict_litert
    from training.export import LiteRTClassifier, to_tflite, write_bytes_atomic

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
    metrics.update(int8_accuracy=int8["accuracy"], int8_macro_f1=int8["macro_f1"])
    if metrics["accuracy"] - int8["accuracy"] <= INT8_MAX_DROP:
        metrics.update(
            int8_file=path.name,
            int8_bytes=path.stat().st_size,
            int8_ms_per_face=LiteRTClassifier(path).ms_per_face(BENCHMARK_BATCH),
        )
    else:
        path.unlink()
