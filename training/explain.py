"""Grad-CAM (Selvaraju et al., 2017) for a trained Keras model, on dataset faces only.

For each face, the gradient of the predicted class's logit with respect to the last convolutional feature
map, averaged over space, weights the feature channels; their ReLU'd sum, upsampled to 48x48, shows the
regions that pushed the prediction; a map is empty when no region raised the predicted logit. Needs the
float ``model.keras`` (LiteRT files carry no gradients).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from monitor.labels import EMOTIONS
from monitor.preprocess import preprocess_faces
from training.data import FaceDataset

if TYPE_CHECKING:
    import keras

GRID_FILE = "gradcam_grid.png"
MEANS_FILE = "gradcam_class_means.png"
MEAN_OF = 150  # faces per class averaged into the class-means picture
"""Per class, the mean face and mean map of all its sampled faces: no single face is recognisable in it, so
this one may be committed with a model card; the per-face grid shows dataset faces and stays local."""


@dataclass
class Explanation:
    """Faces with their Grad-CAM maps: ``faces`` (N, 48, 48) uint8, ``cams`` (N, 48, 48) in [0, 1]."""

    faces: np.ndarray
    cams: np.ndarray
    true: np.ndarray
    pred: np.ndarray
    prob: np.ndarray
    layer: str


def last_conv_layer(model: keras.Model) -> str:
    """The name of the last layer with a spatial (N, H, W, C) output that is not a pooling layer."""
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        shape = getattr(shape, "shape", None)
        if shape is not None and len(shape) == 4 and "pool" not in layer.name and shape[1] and shape[1] > 1:
            return layer.name
    raise ValueError(f"{model.name}: no convolutional layer to explain")


def grad_cam(model: keras.Model, faces: np.ndarray, *, layer: str | None = None) -> Explanation:
    """Grad-CAM maps of the predicted class for uint8 ``faces`` (N, 48, 48)."""
    import cv2
    import keras
    import tensorflow as tf

    layer = layer or last_conv_layer(model)
    head = model.layers[-1]  # the Dense "probs" layer: softmax(features @ W + b)
    probe = keras.Model(model.inputs, [model.get_layer(layer).output, head.input])
    kernel, bias = (w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in head.weights)
    x = tf.constant(preprocess_faces(list(faces)))
    with tf.GradientTape() as tape:
        feature_map, features = probe(x, training=False)
        logits = tf.matmul(features, kernel) + bias
        pred = tf.argmax(logits, axis=1)
        score = tf.reduce_sum(tf.gather(logits, pred, axis=1, batch_dims=1))
    grads = tape.gradient(score, feature_map).numpy()
    fmap = feature_map.numpy()
    weights = grads.mean(axis=(1, 2), keepdims=True)
    cams = np.maximum((fmap * weights).sum(axis=-1), 0)
    cams /= np.maximum(cams.max(axis=(1, 2), keepdims=True), 1e-9)
    size = faces.shape[1]
    cams = np.stack(
        [cv2.resize(c.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC) for c in cams]
    ).clip(0, 1)
    probs = tf.nn.softmax(logits).numpy()
    pred_np = pred.numpy()
    return Explanation(
        faces, cams, np.full(len(faces), -1), pred_np, probs[np.arange(len(faces)), pred_np], layer
    )


def sample_per_class(dataset: FaceDataset, per_class: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``per_class`` faces of each class present (random with ``seed``): ``(faces, labels)``."""
    rng = np.random.default_rng(seed)
    y = dataset.hard_labels
    idx = [rng.permutation(np.flatnonzero(y == c))[:per_class] for c in range(len(EMOTIONS))]
    chosen = np.concatenate(idx).astype(np.int64)
    return dataset.images[chosen], y[chosen]


def explain_dataset(
    model: keras.Model, dataset: FaceDataset, per_class: int, *, seed: int = 0
) -> Explanation:
    """Grad-CAM of ``per_class`` faces of every class in ``dataset``."""
    faces, labels = sample_per_class(dataset, per_class, seed=seed)
    if len(faces) == 0:
        raise ValueError(f"{dataset.source}: no faces to explain")
    ex = grad_cam(model, faces)
    ex.true = labels
    return ex


def plot_grid(
    ex: Explanation, path: Path, labels: tuple[str, ...] | list[str] = EMOTIONS, title: str = ""
) -> Path:
    """One PNG: a row per true class, each face with its heat map over it and ``pred p`` as title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = [c for c in range(len(labels)) if (ex.true == c).any()]
    cols = max(int((ex.true == c).sum()) for c in classes)
    fig, axes = plt.subplots(
        len(classes), cols, figsize=(1.15 * cols + 0.9, 1.3 * len(classes)), dpi=64, squeeze=False
    )
    for r, c in enumerate(classes):
        rows = np.flatnonzero(ex.true == c)
        for k in range(cols):
            ax = axes[r][k]
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if k >= len(rows):
                continue
            i = rows[k]
            ax.imshow(ex.faces[i], cmap="gray", vmin=0, vmax=255)
            ax.imshow(ex.cams[i], cmap="jet", alpha=0.4, vmin=0, vmax=1)
            colour = "green" if ex.pred[i] == c else "red"
            ax.set_title(f"{labels[ex.pred[i]]} {ex.prob[i]:.2f}", fontsize=7, color=colour, pad=2)
        axes[r][0].set_ylabel(labels[c], fontsize=9, rotation=0, ha="right", va="center")
    fig.suptitle(title or f"Grad-CAM ({ex.layer}); rows: true class, titles: prediction", fontsize=9)
    return _save(fig, path)


def plot_class_means(
    ex: Explanation, path: Path, labels: tuple[str, ...] | list[str] = EMOTIONS, title: str = ""
) -> Path:
    """One PNG, a tile per true class: the mean of its faces under the mean of their Grad-CAM maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = [c for c in range(len(labels)) if (ex.true == c).any()]
    fig, axes = plt.subplots(1, len(classes), figsize=(1.5 * len(classes), 2.0), dpi=80, squeeze=False)
    for ax, c in zip(axes[0], classes, strict=True):
        rows = ex.true == c
        ax.imshow(ex.faces[rows].mean(axis=0), cmap="gray", vmin=0, vmax=255)
        ax.imshow(ex.cams[rows].mean(axis=0), cmap="jet", alpha=0.45, vmin=0, vmax=1)
        hit = float((ex.pred[rows] == c).mean())
        ax.set_title(f"{labels[c]}\nn={int(rows.sum())}, {hit:.0%} right", fontsize=8, pad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title or f"Mean Grad-CAM per true class ({ex.layer})", fontsize=9)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    """Write ``fig`` as a small palette PNG at ``path`` and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    _to_palette(path)
    return path


def _to_palette(path: Path) -> None:
    """Re-save a PNG with a 256-colour palette: a third of the bytes, and it stays small in git."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
