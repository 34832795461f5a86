"""The training story, top to bottom: data → recipe → model → fit → evaluate → export → model directory.

``train(TrainConfig(...))`` is what ``classroom-monitor train`` runs; the hyper-parameters come from a
named recipe (:mod:`training.recipes`). ``publish`` turns a checkpoint into a
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
from training.data import DatasetError, FaceDataset, load_dataset, with_ferplus_labels
from training.publish import INT8_MAX_DROP
from training.recipes import Recipe, get_recipe

VAL_FRACTION = 0.1
"""Share of Training carved out for validation when a dataset has no PublicTest rows."""


@dataclass
class TrainConfig:
    """Everything a training run depends on (the CLI flags)."""

    data: Path
    arch: str | None = None
    """Overrides the recipe's network; ``--arch baseline`` alone picks the ``baseline`` recipe."""
    recipe_name: str | None = None
    epochs: int | None = None
    out: Path | None = None
    ferplus: Path | None = None
    seed: int = 1337
    resume: bool | None = None
    """Continue the run in ``run_dir`` if there is one of this recipe and seed; ``True``: of this recipe,
    keeping its seed; ``False``: delete it and start over."""
    limit: int | None = None
    work_dir: Path | None = None
    int8: bool = True
    int8_max_drop: float = INT8_MAX_DROP
    """The int8 file ships only if it loses at most this much accuracy (1: whatever it scores)."""
    export_only: bool = False
    fit_only: bool = False
    """Stop after fitting: the checkpoints stay in ``run_dir`` for a later ``export_only`` run (a GPU machine
    may run Keras on JAX or PyTorch without TensorFlow, which exporting needs)."""
    models_root: Path = Path("models")
    init_from: Path | None = None
    peak_lr: float | None = None
    teacher: Path | None = None
    command: str = field(default_factory=lambda: shlex.join(["classroom-monitor", *sys.argv[1:]]))

    @property
    def recipe(self) -> Recipe:
        """The named recipe with this run's overrides (network, epochs, peak learning rate)."""
        recipe = get_recipe(self.recipe_name or self.arch or "default")
        return recipe.with_overrides(arch=self.arch, epochs=self.epochs, peak_lr=self.peak_lr)

    @property
    def n_epochs(self) -> int:
        return self.recipe.epochs

    @property
    def version(self) -> str:
        if self.out is not None:
            return Path(self.out).name
        stem = Path(self.data).name.split(".")[0] or "faces"
        eight_classes = self.ferplus is not None and self.recipe.ferplus_weight == 0
        return f"{stem}-{self.recipe_name or self.arch or 'default'}" + ("-ferplus" if eight_classes else "")

    @property
    def model_dir(self) -> Path:
        return Path(self.out) if self.out is not None else Path(self.models_root) / self.version

    @property
    def run_dir(self) -> Path:
        """Checkpoints and history: never inside ``models/``, which holds only what ships."""
        return Path(self.work_dir) if self.work_dir is not None else Path("runs") / self.version


def load_training_data(cfg: TrainConfig, progress: bool = True) -> FaceDataset:
    """The dataset with FER+ votes if asked for, cut to ``limit`` rows per Usage.

    A recipe with ``ferplus_weight`` mixes the votes into the 7 FER2013 classes' targets (and needs
    ``--ferplus``); otherwise ``--ferplus`` trains on the vote distributions over all 8 FER+ classes.
    """
    weight = cfg.recipe.ferplus_weight
    if weight > 0:
        if cfg.ferplus is None:
            raise DatasetError(
                f"recipe {cfg.recipe.name!r} mixes FER+ votes into its targets: pass --ferplus "
                "with the FER+ vote CSV that lines up with --data"
            )
        from training.soft_targets import with_ferplus_targets

        dataset = with_ferplus_targets(load_dataset(cfg.data, progress=progress), cfg.ferplus, weight)
    elif cfg.ferplus is not None:
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

    recipe = cfg.recipe
    # 1. Data: faces are preprocessed exactly as the worker does it.
    dataset = load_training_data(cfg)
    print(f"data: {dataset.summary()}", flush=True)
    train_set, val_set = train_val_split(dataset, cfg.seed)
    x_train, y_train = preprocess_faces(train_set.images), targets(train_set)
    x_val = preprocess_faces(val_set.images)
    if cfg.teacher is not None and not cfg.export_only:
        from training.distill import distillation_targets, teacher_probabilities

        teacher = teacher_probabilities(
            cfg.teacher, x_train, list(dataset.label_names), cache_dir=cfg.run_dir
        )
        y_train = distillation_targets(y_train, teacher)

    precision = choose_precision()
    if cfg.export_only:  # re-export the best checkpoint of an earlier or still running run
        checkpoint = cfg.run_dir / BEST
        if not checkpoint.exists():
            raise FileNotFoundError(f"no checkpoint to export: {checkpoint}")
        return publish(checkpoint, cfg, val_set, x_train, read_history(cfg.run_dir), precision=precision)

    # 2. Model.
    set_seed(cfg.seed)
    keras.mixed_precision.set_global_policy(precision)
    model = build_model(recipe.arch, len(dataset.label_names), seed=cfg.seed)
    print(
        f"model: {recipe.arch}, {model.count_params():,} parameters, policy {precision}, "
        f"Keras backend {keras.backend.backend()}",
        flush=True,
    )
    if cfg.init_from is not None and not cfg.resume:
        n = load_weights_by_name(model, Path(cfg.init_from))
        print(f"warm start: {n} layers from {cfg.init_from}", flush=True)

    # 3. Fit, keeping the checkpoint with the best PublicTest accuracy (on the original labels).
    result = fit(
        model,
        recipe,
        x_train,
        y_train,
        x_val,
        val_set.hard_labels,
        work_dir=cfg.run_dir,
        seed=cfg.seed,
        resume=cfg.resume,
    )
    keras.mixed_precision.set_global_policy("float32")
    cfg.seed = result.seed if result.seed is not None else cfg.seed
    if cfg.fit_only:
        return fitted_summary(cfg, result.best_path, result.history, len(val_set))

    # 4-5. Evaluate and export.
    return publish(result.best_path, cfg, val_set, x_train, result.history, precision=result.precision)


def fitted_summary(cfg: TrainConfig, checkpoint: Path, history: dict[str, list[float]], n_val: int) -> dict:
    """What a ``fit_only`` run reports: its best PublicTest scores and how to publish its checkpoint."""
    val_acc = history.get("val_accuracy", [])
    best = int(np.argmax(val_acc)) if val_acc else None
    return {
        "version": cfg.version,
        "accuracy": val_acc[best] if best is not None else None,
        "macro_f1": history["val_macro_f1"][best] if best is not None else None,
        "n": n_val,
        "ms_per_face": None,
        "best_epoch": best + 1 if best is not None else None,
        "checkpoint": str(checkpoint),
        "publish_with": f"classroom-monitor train --data {cfg.data} ... --work-dir {cfg.run_dir} "
        "--export-only",
    }


def publish(
    checkpoint: Path,
    cfg: TrainConfig,
    val_set: FaceDataset,
    representative: np.ndarray,
    history: dict[str, list[float]],
    *,
    precision: str = "float32",
) -> dict:
    """Export ``checkpoint`` into ``cfg.model_dir`` with its metrics, figures, labels and card."""
    import keras

    from training.models import float32_clone
    from training.publish import publish_model

    recipe = cfg.recipe
    model = float32_clone(keras.models.load_model(checkpoint), recipe.arch, len(val_set.label_names))
    val_acc = history.get("val_accuracy", [])
    info = dict(
        arch=recipe.arch,
        recipe=recipe.as_dict(),
        epochs=len(history.get("loss", [])),
        best_epoch=int(np.argmax(val_acc)) + 1 if val_acc else None,
        precision=precision,
        label_source=("fer2013+ferplus-votes" if recipe.ferplus_weight > 0 else "ferplus")
        if cfg.ferplus
        else "fer2013",
        data=str(cfg.data) + (f" + {cfg.ferplus}" if cfg.ferplus else ""),
        seed=cfg.seed,
        limit=cfg.limit,
        init_from=str(cfg.init_from) if cfg.init_from else None,
        peak_lr=cfg.peak_lr,
        run_dir=str(cfg.run_dir),
        command=cfg.command,
    )
    if cfg.teacher is not None:
        info["teacher"] = _teacher_summary(Path(cfg.teacher))
    previous = _previous_runs(cfg.init_from)
    if previous:
        info["previous_runs"] = previous
    histories = {cfg.version: history}
    return publish_model(
        model,
        cfg.model_dir,
        val_set,
        representative,
        histories,
        info,
        int8=cfg.int8,
        int8_max_drop=cfg.int8_max_drop,
    )


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


def _teacher_summary(teacher: Path) -> dict:
    """What the distillation teacher was: its version, accuracy and how it was made."""
    from training.distill import TEACHER_TEMPERATURE, TEACHER_WEIGHT

    try:
        meta = json.loads((teacher / "metrics.json").read_text())
    except (OSError, json.JSONDecodeError):
        meta = {}
    return {
        "version": teacher.name,
        "weight": TEACHER_WEIGHT,
        "temperature": TEACHER_TEMPERATURE,
        **{k: meta.get(k) for k in ("arch", "accuracy", "macro_f1", "command", "members")},
    }
