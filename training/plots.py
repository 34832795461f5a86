"""Figures for a model directory: the confusion matrix and the training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_confusion(confusion: list[list[int]], labels: list[str], path: Path, title: str = "") -> None:
    """Row-normalised confusion matrix (rows = true class) with the raw counts in each cell."""
    cm = np.asarray(confusion, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(
                j,
                i,
                f"{norm[i, j]:.2f}\n{int(cm[i, j])}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if norm[i, j] > 0.5 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title or "confusion matrix (row-normalised)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_history(history: dict[str, list[float]], path: Path, title: str = "") -> None:
    """Loss and accuracy per epoch, training vs. PublicTest, with the learning rate when logged."""
    fig, axes = plt.subplots(1, 3 if "lr" in history else 2, figsize=(13, 4))
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    for ax, key in zip(axes, ("loss", "accuracy"), strict=False):
        if key in history:
            ax.plot(epochs, history[key], label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="PublicTest")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if "lr" in history:
        axes[2].plot(epochs, history["lr"])
        axes[2].set_title("learning rate")
        axes[2].set_xlabel("epoch")
        axes[2].grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_histories(histories: dict[str, dict[str, list[float]]], path: Path, title: str = "") -> None:
    """One run: :func:`plot_history`. Several (an ensemble's members): loss and accuracy of each, overlaid."""
    runs = {name: history for name, history in histories.items() if history}
    if len(runs) == 1:
        plot_history(next(iter(runs.values())), path, title)
        return
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    for name, history in runs.items():
        epochs = np.arange(1, len(history.get("loss", [])) + 1)
        for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
            if f"val_{key}" in history:
                (line,) = ax.plot(epochs, history[f"val_{key}"], label=f"{name} PublicTest")
                if key in history:
                    ax.plot(
                        epochs,
                        history[key],
                        color=line.get_color(),
                        alpha=0.4,
                        ls="--",
                        label=f"{name} train",
                    )
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
