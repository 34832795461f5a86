"""Average several trained models into one model directory: one LiteRT call returns the members' mean.

FER2013's labels are noisy and one compact CNN overfits them; independently seeded members make different
mistakes, so their mean probability is more accurate than any of them. The ensemble is a single Keras
graph (members side by side, then an ``Average`` layer), exported like any other model, so the worker
needs no change to run it.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.preprocess import preprocess_faces
from training.data import load_dataset
from training.publish import INT8_MAX_DROP

if TYPE_CHECKING:
    import keras


class EnsembleError(ValueError):
    """Members that cannot be averaged; the message is meant for the user."""


@dataclass
class EnsembleConfig:
    members: list[Path]
    data: Path
    out: Path
    int8: bool = True
    int8_max_drop: float = INT8_MAX_DROP
    flip_tta: bool = False
    seed: int = 1337
    command: str = field(default_factory=lambda: shlex.join(["classroom-monitor", *sys.argv[1:]]))


@dataclass
class Member:
    """One trained model directory and what its ``metrics.json`` says about it."""

    path: Path
    labels: list[str]
    metrics: dict

    @classmethod
    def read(cls, path: Path) -> Member:
        path = Path(path)
        for name in ("model.keras", "labels.json"):
            if not (path / name).is_file():
                raise EnsembleError(f"{path} is not a model directory: {name} is missing")
        try:
            labels = json.loads((path / "labels.json").read_text())
            metrics_file = path / "metrics.json"
            metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        except json.JSONDecodeError as exc:
            raise EnsembleError(f"{path}: unreadable JSON ({exc})") from exc
        return cls(path, labels, metrics)

    @property
    def run_dir(self) -> Path:
        """Where its checkpoints and history.csv were written (``runs/<version>`` unless recorded)."""
        return Path(self.metrics.get("run_dir") or Path("runs") / self.path.name)

    def summary(self) -> dict:
        keys = ("arch", "params", "epochs", "best_epoch", "seed", "accuracy", "macro_f1", "command")
        keys += ("teacher",)  # a distilled member: what it learnt from
        return {"version": self.path.name, **{key: self.metrics.get(key) for key in keys}}


def build_ensemble(
    members: list[keras.Model], name: str = "ensemble", *, flip_tta: bool = False
) -> keras.Model:
    """One graph that feeds the same faces to every member and returns their mean probabilities.

    With ``flip_tta`` each member also sees the mirrored faces and the mean runs over both views
    (twice the compute, the same as ``evaluate --tta`` but inside the exported model).
    """
    import keras
    from keras import layers

    from training.models import INPUT_SHAPE, HorizontalFlip

    inputs = keras.Input(INPUT_SHAPE, name="face")
    views = [inputs, HorizontalFlip(name="mirror")(inputs)] if flip_tta else [inputs]
    # Each member becomes a named sub-model so that identical layer names inside members never clash.
    named = [keras.Model(m.inputs, m.outputs[0], name=f"member{i}") for i, m in enumerate(members, start=1)]
    outputs = [member(view) for view in views for member in named]
    mean = layers.Average(name="mean_probs")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, mean, name=name)


def ensemble(cfg: EnsembleConfig) -> dict:
    """Build, export and evaluate the ensemble of ``cfg.members``; returns its metrics."""
    import keras

    from training.fit import read_history
    from training.publish import publish_model
    from training.train import train_val_split

    if len(cfg.members) < 2:
        raise EnsembleError("an ensemble needs at least two --member model directories")
    members = [Member.read(path) for path in cfg.members]
    labels = members[0].labels
    for member in members[1:]:
        if member.labels != labels:
            raise EnsembleError(f"{member.path} predicts {member.labels}, {members[0].path} {labels}")

    dataset = load_dataset(cfg.data)
    if list(dataset.label_names) != labels:
        raise EnsembleError(f"{cfg.data} has labels {list(dataset.label_names)}, the members {labels}")
    train_set, val_set = train_val_split(dataset, cfg.seed)
    print(f"ensemble of {len(members)}: " + ", ".join(m.path.name for m in members), flush=True)
    models = [keras.models.load_model(m.path / "model.keras") for m in members]
    model = build_ensemble(models, name=Path(cfg.out).name.replace("-", "_"), flip_tta=cfg.flip_tta)
    archs = "/".join(sorted({str(m.metrics.get("arch")) for m in members}))
    info = dict(
        arch=f"ensemble of {len(members)} x {archs}" + (" with flip averaging" if cfg.flip_tta else ""),
        flip_tta_in_model=cfg.flip_tta,
        epochs=sum(int(m.metrics.get("epochs") or 0) for m in members),
        precision="float32",
        label_source="fer2013",
        data=str(cfg.data),
        members=[m.summary() for m in members],
        command=cfg.command,
    )
    histories = {m.path.name: read_history(m.run_dir) for m in members}
    return publish_model(
        model,
        Path(cfg.out),
        val_set,
        preprocess_faces(train_set.images),
        histories,
        info,
        int8=cfg.int8,
        int8_max_drop=cfg.int8_max_drop,
    )
