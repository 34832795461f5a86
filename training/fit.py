"""Fitting: precision policy, optimiser and schedule, callbacks, and resumable checkpoints.

A run keeps its working state in ``work_dir`` (``last.keras`` every epoch, ``best.keras`` on the best
PublicTest accuracy, ``history.csv``), so an interrupted run continues with ``resume=True`` from the epoch
after the last one saved, with the optimiser (and thus the schedule position) restored.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

BATCH_SIZE = 64
PEAK_LR = 2e-3
WEIGHT_DECAY = 5e-4
WARMUP_EPOCHS = 2
MIN_LR_FRACTION = 0.01
LABEL_SMOOTHING = 0.1
EARLY_STOP_PATIENCE = 20
BASELINE_LR = 1e-3
"""The baseline recipe trains with plain Adam at a constant rate, halved on plateaus."""

LAST, BEST, HISTORY = "last.keras", "best.keras", "history.csv"


@dataclass
class FitResult:
    """What a finished fit left behind."""

    best_path: Path
    history: dict[str, list[float]]
    epochs_run: int
    precision: str


def choose_precision() -> str:
    """``mixed_bfloat16`` on CPUs with native bf16 (measured 1.5-3x faster here), else ``float32``.

    A GPU is used automatically by TensorFlow; it trains in float32 so results do not hinge on loss scaling.
    """
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return "float32"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    return "mixed_bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


def set_seed(seed: int) -> None:
    """Seed Python, numpy and the backend so a run can be repeated."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    keras.utils.set_random_seed(seed)


def compile_model(model: keras.Model, arch: str, steps_per_epoch: int, epochs: int,
                  peak_lr: float | None = None) -> None:
    """Optimiser, loss and metrics for ``arch``: AdamW + warm-up + cosine for ``default``."""
    peak_lr = peak_lr or (BASELINE_LR if arch == "baseline" else PEAK_LR)
    if arch == "baseline":
        optimizer = keras.optimizers.Adam(peak_lr)
        loss = keras.losses.CategoricalCrossentropy()
    else:
        warmup = min(WARMUP_EPOCHS, max(epochs - 1, 0)) * steps_per_epoch
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=peak_lr * 0.1, warmup_target=peak_lr, warmup_steps=warmup,
            decay_steps=max(epochs * steps_per_epoch - warmup, 1), alpha=MIN_LR_FRACTION)
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=WEIGHT_DECAY)
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


class LearningRateLogger(keras.callbacks.Callback):
    """Adds the current learning rate to each epoch's logs (so it lands in history.csv)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


def load_weights_by_name(model: keras.Model, source: Path) -> int:
    """Copy weights from a saved model (``.keras`` file or model directory) layer by layer; returns the count.

    Used to warm-start a new cosine cycle from an earlier run (``--init-from``).
    """
    path = source / "model.keras" if source.is_dir() else source
    trained = {layer.name: layer for layer in keras.models.load_model(path, compile=False).layers}
    copied = 0
    for layer in model.layers:
        src = trained.get(layer.name)
        if layer.weights and src is not None:
            layer.set_weights(src.get_weights())
            copied += 1
    if copied == 0:
        raise ValueError(f"{path}: no layer names in common with the model being trained")
    return copied


def completed_epochs(work_dir: Path) -> int:
    """Epochs recorded in ``history.csv`` (0 when there is none)."""
    path = work_dir / HISTORY
    if not path.exists():
        return 0
    with open(path, newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def read_history(work_dir: Path) -> dict[str, list[float]]:
    """``history.csv`` as columns of floats."""
    path = work_dir / HISTORY
    if not path.exists():
        return {}
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = rows[0].keys() if rows else []
    return {key: [float(r[key]) for r in rows if r.get(key) not in (None, "")] for key in keys}


def fit(model: keras.Model, arch: str, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
        y_val: np.ndarray, *, epochs: int, work_dir: Path, resume: bool = False,
        batch_size: int = BATCH_SIZE, peak_lr: float | None = None,
        verbose: int | str | None = None) -> FitResult:
    """Train ``model`` (or the one saved in ``work_dir`` when resuming); keep the best-on-PublicTest one."""

    work_dir.mkdir(parents=True, exist_ok=True)
    initial_epoch = 0
    if resume and (work_dir / LAST).exists():
        initial_epoch = completed_epochs(work_dir)
        model = keras.models.load_model(work_dir / LAST)
        print(f"resuming from {work_dir / LAST} after epoch {initial_epoch}", flush=True)
    else:
        for name in (LAST, BEST, HISTORY):
            (work_dir / name).unlink(missing_ok=True)
        compile_model(model, arch, steps_per_epoch=int(np.ceil(len(x_train) / batch_size)), epochs=epochs,
                      peak_lr=peak_lr)

    has_val = len(x_val) > 0
    monitor = "val_accuracy" if has_val else "accuracy"
    best_so_far = max(read_history(work_dir).get(monitor, []), default=None) if initial_epoch else None
    callbacks = [
        LearningRateLogger(),
        keras.callbacks.ModelCheckpoint(work_dir / LAST),
        # On resume, only an epoch better than the best so far may replace best.keras.
        keras.callbacks.ModelCheckpoint(work_dir / BEST, monitor=monitor, mode="max", save_best_only=True,
                                        initial_value_threshold=best_so_far),
        keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=EARLY_STOP_PATIENCE),
        keras.callbacks.CSVLogger(str(work_dir / HISTORY), append=initial_epoch > 0),
    ]
    if arch == "baseline":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="max", factor=0.5,
                                                           patience=5))
    if verbose is None:
        verbose = "auto" if sys.stdout.isatty() else 2  # one line per epoch in logs
    if initial_epoch < epochs:
        model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                  validation_data=(x_val, y_val) if has_val else None, callbacks=callbacks, shuffle=True,
                  verbose=verbose)
    if not (work_dir / BEST).exists():  # e.g. resumed a run that had already finished elsewhere
        shutil.copyfile(work_dir / LAST, work_dir / BEST)
    policy = keras.mixed_precision.global_policy().name
    return FitResult(work_dir / BEST, read_history(work_dir), completed_epochs(work_dir), policy)
