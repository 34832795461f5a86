"""Fitting a recipe: optimiser and schedule, epoch loop, and checkpoints that survive being killed.

A run keeps its working state in ``work_dir``, rewritten atomically after every epoch:

* ``last.keras``: the model with its optimiser (weights, momenta, step count and so the schedule position);
* ``ema.npz``: the moving average of the weights, when the recipe keeps one;
* ``state.json``: the commit point, written last: epochs done, the recipe, seed, learning rate,
  plateau and early-stopping counters and the whole history;
* ``best.keras``: the weights that scored best on PublicTest (the averaged ones when EMA is on);
* ``history.csv`` (one row per epoch) and ``train.log`` (the progress lines) for people.

Running the same command again, or with ``resume=True``, continues after the last committed epoch. Every
epoch ``k`` draws its shuffle, mixing and dropout from ``seed`` and ``k``, so a resumed run sees the same
batches as one that was never interrupted.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from training.averaging import WeightAverage
from training.mixing import TrainingBatches
from training.recipes import Recipe

LAST, BEST, HISTORY, EMA, STATE, LOG = (
    "last.keras",
    "best.keras",
    "history.csv",
    "ema.npz",
    "state.json",
    "train.log",
)
VAL_BATCH = 512


@dataclass
class FitResult:
    """What a finished fit left behind."""

    best_path: Path
    history: dict[str, list[float]]
    epochs_run: int
    precision: str
    seed: int | None = None
    """The run's seed (a resumed run keeps the one it started with)."""


def has_accelerator() -> bool:
    """Whether Keras' backend (TensorFlow, JAX or PyTorch) sees a GPU."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    if backend == "torch":
        import torch

        return bool(torch.cuda.is_available())
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def choose_precision() -> str:
    """``mixed_bfloat16`` on CPUs with native bf16 (measured 1.5-3x faster here), else ``float32``.

    A GPU is used automatically by the backend; it trains in float32 so results do not hinge on loss scaling.
    """
    if has_accelerator():
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


class RunMismatchError(ValueError):
    """``work_dir`` holds a run of another recipe or seed; the message says what to do."""


def build_optimizer(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The recipe's optimiser with its learning-rate schedule (a float for ``plateau``, changed per epoch)."""
    if recipe.schedule == "cosine":
        warmup = min(recipe.warmup_epochs, max(recipe.epochs - 1, 0)) * steps_per_epoch
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=recipe.peak_lr * 0.1,
            warmup_target=recipe.peak_lr,
            warmup_steps=warmup,
            decay_steps=max(recipe.epochs * steps_per_epoch - warmup, 1),
            alpha=recipe.min_lr_fraction,
        )
    elif recipe.schedule == "plateau":
        lr = recipe.peak_lr
    else:
        raise ValueError(f"unknown schedule {recipe.schedule!r}")
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(
            lr, momentum=recipe.momentum, nesterov=True, weight_decay=recipe.weight_decay or None
        )
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    raise ValueError(f"unknown optimizer {recipe.optimizer!r}")


def compile_model(model: keras.Model, recipe: Recipe, steps_per_epoch: int) -> None:
    """Optimiser, loss (cross-entropy on one-hot, soft or mixed targets) and accuracy for ``recipe``."""
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    model.compile(optimizer=build_optimizer(recipe, steps_per_epoch), loss=loss, metrics=["accuracy"])


def current_lr(model: keras.Model) -> float:
    opt = model.optimizer
    lr = opt.learning_rate
    return float(keras.ops.convert_to_numpy(lr(opt.iterations) if callable(lr) else lr))


def scores(probs: np.ndarray, labels: np.ndarray, n_classes: int) -> dict[str, float]:
    """Accuracy, macro-F1 and cross-entropy of ``probs`` against class indices ``labels``."""
    pred = probs.argmax(axis=1)
    conf = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(conf, (labels, pred), 1)
    tp = np.diag(conf).astype(float)
    precision = tp / np.maximum(conf.sum(axis=0), 1)
    recall = tp / np.maximum(conf.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    present = conf.sum(axis=1) > 0
    loss = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)).mean()
    return {
        "accuracy": float((pred == labels).mean()),
        "macro_f1": float(f1[present].mean()),
        "loss": float(loss),
    }


def _save_model(model: keras.Model, path: Path) -> None:
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def _write_history(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def read_state(work_dir: Path) -> dict | None:
    """The run's ``state.json`` (None when the run has not finished an epoch yet)."""
    path = Path(work_dir) / STATE
    return json.loads(path.read_text()) if path.is_file() else None


def reseed_random_layers(model: keras.Model, seed: int, epoch: int) -> None:
    """Set the seed generators of the random layers (augmentation, dropout) from ``seed`` and ``epoch``.

    Keras does not save their state with the model, so without this a resumed run would replay the
    augmentation of its first epoch; with it, epoch ``k`` draws the same whether or not the run stopped.
    """
    states = [v for v in model.variables if "seed_generator_state" in v.path]
    for i, state in enumerate(states):
        state.assign(np.array([(seed * 1_000_003 + epoch * 1_009 + i) % 2**31, 0], dtype=state.dtype))


class Progress:
    """One line per epoch on stdout and appended to ``train.log``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        print(line, flush=True)
        with open(self.path, "a") as fh:
            fh.write(f"{stamp}Z {line}\n")


def _hms(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def fit(
    model: keras.Model,
    recipe: Recipe,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    val_labels: np.ndarray,
    *,
    work_dir: Path,
    seed: int,
    resume: bool | None = None,
    verbose: int | str | None = None,
) -> FitResult:
    """Train ``model`` by ``recipe``, or continue the run saved in ``work_dir``; keep the best on PublicTest.

    ``y_train`` are target distributions (one-hot, soft or both); ``val_labels`` are class indices, so
    PublicTest is scored on its original labels whatever the targets were. A run already in ``work_dir``
    continues unless ``resume`` is False; it must be of the same recipe, and of the same seed unless
    ``resume`` is True (asked for explicitly), when the saved run's seed is kept.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    say = Progress(work_dir / LOG)
    n_classes = y_train.shape[1]
    state = read_state(work_dir) if resume is not False and (work_dir / LAST).is_file() else None
    if state is not None:
        saved = {k: v for k, v in state["recipe"].items() if k != "epochs"}
        other_seed = state["seed"] != seed and resume is not True
        if saved != {k: v for k, v in recipe.as_dict().items() if k != "epochs"} or other_seed:
            raise RunMismatchError(
                f"{work_dir} holds a run of recipe {state['recipe']['name']!r} with seed {state['seed']}, "
                f"not {recipe.name!r} with seed {seed}: pass another --work-dir, or --restart"
            )
        seed = state["seed"]
    batches = TrainingBatches(
        x_train,
        y_train,
        recipe.batch_size,
        seed=seed,
        mixup_alpha=recipe.mixup_alpha,
        cutmix_alpha=recipe.cutmix_alpha,
        mix_probability=recipe.mix_probability,
    )
    average = WeightAverage(recipe.ema_decay) if recipe.ema_decay > 0 else None

    if state is not None:
        model = keras.models.load_model(work_dir / LAST)
        if recipe.schedule == "plateau":
            model.optimizer.learning_rate = state["lr"]
        if average is not None:
            average.load(work_dir / EMA, model)
        say(
            f"resuming {work_dir} after epoch {state['epoch']}/{recipe.epochs} with seed {seed} "
            f"(best PublicTest {state['best']:.4f} at epoch {state['best_epoch']})"
        )
    else:
        for name in (LAST, BEST, HISTORY, EMA, STATE):
            (work_dir / name).unlink(missing_ok=True)
        compile_model(model, recipe, steps_per_epoch=len(batches))
        state = {
            "epoch": 0,
            "recipe": recipe.as_dict(),
            "seed": seed,
            "best": -1.0,
            "best_epoch": 0,
            "plateau_best": -1.0,
            "plateau_wait": 0,
            "lr": recipe.peak_lr,
            "history": [],
        }
        say(
            f"run {work_dir}: recipe {recipe.name}, {recipe.epochs} epochs, {len(x_train):,} training and "
            f"{len(x_val):,} PublicTest faces, seed {seed}"
        )
    if average is not None:
        average.attach(model)

    if verbose is None:
        verbose = "auto" if sys.stdout.isatty() else 0
    session_start, first_epoch = time.monotonic(), state["epoch"]
    while state["epoch"] < recipe.epochs:
        epoch = state["epoch"]
        if epoch - state["best_epoch"] >= recipe.early_stop_patience:
            say(f"early stop: no PublicTest gain for {recipe.early_stop_patience} epochs")
            break
        t0 = time.monotonic()
        set_seed(seed + epoch)
        reseed_random_layers(model, seed, epoch)
        batches.set_epoch(epoch)
        lr = current_lr(model)
        logs = model.fit(
            batches,
            epochs=epoch + 1,
            initial_epoch=epoch,
            verbose=verbose,
            callbacks=[average] if average is not None else [],
        ).history
        row = {"epoch": epoch + 1, "loss": logs["loss"][-1], "accuracy": logs["accuracy"][-1]}
        raw = scores(model.predict(x_val, batch_size=VAL_BATCH, verbose=0), val_labels, n_classes)
        if average is not None:
            with average.swapped(model):
                chosen = scores(model.predict(x_val, batch_size=VAL_BATCH, verbose=0), val_labels, n_classes)
            row.update({"raw_val_accuracy": raw["accuracy"], "raw_val_macro_f1": raw["macro_f1"]})
        else:
            chosen = raw
        # val_* are the scores of the weights that would ship (the average when there is one).
        row.update(
            {
                "val_loss": chosen["loss"],
                "val_accuracy": chosen["accuracy"],
                "val_macro_f1": chosen["macro_f1"],
                "lr": lr,
            }
        )
        score = chosen["accuracy"]
        improved = score > state["best"]
        if improved:
            state["best"], state["best_epoch"] = score, epoch + 1
            if average is not None:
                with average.swapped(model):
                    _save_model(model, work_dir / BEST)
            else:
                _save_model(model, work_dir / BEST)
        if recipe.schedule == "plateau":
            if score > state["plateau_best"]:
                state["plateau_best"], state["plateau_wait"] = score, 0
            else:
                state["plateau_wait"] += 1
                if state["plateau_wait"] >= recipe.plateau_patience:
                    model.optimizer.learning_rate = current_lr(model) * recipe.plateau_factor
                    state["plateau_wait"] = 0
            state["lr"] = current_lr(model)
        seconds = time.monotonic() - t0
        row["seconds"] = round(seconds, 1)
        state["epoch"] = epoch + 1
        state["history"].append(row)
        # Commit: model and average first, the state (which says how far the run got) last.
        _save_model(model, work_dir / LAST)
        if average is not None:
            average.save(work_dir / EMA)
        _write_history(work_dir / HISTORY, state["history"])
        _write_json(work_dir / STATE, state)
        done = state["epoch"] - first_epoch
        eta = (time.monotonic() - session_start) / done * (recipe.epochs - state["epoch"])
        ema_part = f" (raw {raw['accuracy']:.4f})" if average is not None else ""
        say(
            f"epoch {state['epoch']}/{recipe.epochs} loss {row['loss']:.4f} acc {row['accuracy']:.4f} "
            f"val_acc {score:.4f}{ema_part} val_f1 {chosen['macro_f1']:.4f} lr {lr:.2e} {seconds:.0f}s "
            f"eta {_hms(eta)}" + (" *best" if improved else "")
        )
    if not (work_dir / BEST).exists():
        _save_model(model, work_dir / BEST)
    policy = keras.mixed_precision.global_policy().name
    return FitResult(work_dir / BEST, read_history(work_dir), completed_epochs(work_dir), policy, seed)
