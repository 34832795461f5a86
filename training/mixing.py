"""Batches for training: a seeded shuffle per epoch, and mixup / cutmix of whole batches.

Every random choice comes from ``numpy.random.default_rng((seed, epoch, batch))``, so epoch ``k`` sees the
same batches whether or not the run was interrupted before it.
"""

from __future__ import annotations

import math

import keras
import numpy as np


def mixup(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each face blended with another of the batch, ``lam * a + (1 - lam) * b``; targets blended alike."""
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(len(x))
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


def cutmix(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """A random box of each face replaced by the same box of another; targets weighted by area."""
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(len(x))
    h, w = x.shape[1:3]
    cut_h, cut_w = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
    cy, cx = int(rng.integers(h)), int(rng.integers(w))
    y0, y1 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, h)
    x0, x1 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, w)
    mixed = x.copy()
    mixed[:, y0:y1, x0:x1] = x[perm, y0:y1, x0:x1]
    kept = 1 - (y1 - y0) * (x1 - x0) / (h * w)
    return mixed, kept * y + (1 - kept) * y[perm]


def mix_batch(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    mixup_alpha: float,
    cutmix_alpha: float,
    probability: float,
) -> tuple[np.ndarray, np.ndarray]:
    """With ``probability``, mixup or cutmix (a coin flip when both are on); else the batch unchanged."""
    kinds = [k for k, a in (("mixup", mixup_alpha), ("cutmix", cutmix_alpha)) if a > 0]
    if not kinds or rng.random() >= probability:
        return x, y
    kind = kinds[int(rng.integers(len(kinds)))]
    if kind == "mixup":
        return mixup(x, y, rng, mixup_alpha)
    return cutmix(x, y, rng, cutmix_alpha)


class TrainingBatches(keras.utils.PyDataset):
    """Shuffled (and optionally mixed) batches of ``(x, y)``; call :meth:`set_epoch` before each epoch."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        *,
        seed: int,
        mixup_alpha: float = 0.0,
        cutmix_alpha: float = 0.0,
        mix_probability: float = 0.0,
    ) -> None:
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y.astype(np.float32), batch_size, seed
        self.mix = dict(mixup_alpha=mixup_alpha, cutmix_alpha=cutmix_alpha, probability=mix_probability)
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.order = np.random.default_rng((self.seed, epoch)).permutation(len(self.x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        x, y = mix_batch(self.x[idx], self.y[idx], rng, **self.mix)
        return x.astype(np.float32, copy=False), y.astype(np.float32, copy=False)
