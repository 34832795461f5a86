"""An exponential moving average (EMA) of a model's weights, kept beside training and saved with each epoch.

Every floating-point weight is averaged, batch-norm statistics included, so the averaged network is
self-consistent. The decay warms up as ``min(decay, (1 + t) / (10 + t))`` so that early steps do not leave
the random initialisation in the average for long. Reading the weights costs about as much as a small
training step on 2 cores, so the average is updated every :data:`UPDATE_EVERY` steps (and at each epoch's
end) with the decay raised to the number of steps it covers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keras
import numpy as np

UPDATE_EVERY = 8
"""Training steps per update of the average."""


def _averaged(model: keras.Model) -> list:
    return [v for v in model.weights if "float" in str(v.dtype)]


class WeightAverage(keras.callbacks.Callback):
    """Updates the average after every training batch; :meth:`swapped` puts it into the model for a while."""

    def __init__(self, decay: float) -> None:
        super().__init__()
        self.decay = decay
        self.steps = 0
        self.pending = 0
        self.shadow: list[np.ndarray] | None = None

    def attach(self, model: keras.Model) -> None:
        """Start the average from ``model``'s current weights (unless one was loaded)."""
        self.set_model(model)
        if self.shadow is None:
            self.shadow = [np.array(v.numpy(), dtype=np.float32) for v in _averaged(model)]

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps += 1
        self.pending += 1
        if self.pending >= UPDATE_EVERY:
            self.update()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.update()

    def update(self) -> None:
        """Fold the current weights in for the ``pending`` steps since the last update."""
        if self.pending == 0:
            return
        d = min(self.decay, (1 + self.steps) / (10 + self.steps)) ** self.pending
        self.pending = 0
        for s, v in zip(self.shadow, _averaged(self.model), strict=True):
            s *= d
            s += (1 - d) * v.numpy()

    @contextmanager
    def swapped(self, model: keras.Model) -> Iterator[keras.Model]:
        """``model`` with the averaged weights inside the block, its own weights again after it."""
        variables = _averaged(model)
        raw = [v.numpy() for v in variables]
        try:
            for v, s in zip(variables, self.shadow, strict=True):
                v.assign(s.astype(v.dtype))
            yield model
        finally:
            for v, r in zip(variables, raw, strict=True):
                v.assign(r)

    def save(self, path: Path) -> None:
        """Write the average atomically (``.npz``)."""
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, steps=np.int64(self.steps), **{f"w{i}": s for i, s in enumerate(self.shadow)})
        os.replace(tmp, path)

    def load(self, path: Path, model: keras.Model) -> None:
        """Read an average saved by :meth:`save` for this model."""
        with np.load(path) as z:
            shadow = [z[f"w{i}"] for i in range(len(z.files) - 1)]
            steps = int(z["steps"])
        shapes = [tuple(v.shape) for v in _averaged(model)]
        if [s.shape for s in shadow] != shapes:
            raise ValueError(f"{path}: the saved weight average does not fit this model")
        self.shadow, self.steps = shadow, steps
        self.set_model(model)
