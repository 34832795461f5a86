"""How the expression model's scores fall with face size, and the smallest face it can still read.

A classroom camera gives faces of 8-30 px. ``size_curve`` shrinks each 48x48 test face to ``side`` x
``side`` with ``cv2.INTER_AREA`` (what a camera's small face holds) and hands that small crop to the worker's
own classifier (``monitor.classify.EmotionClassifier.predict``), which scales it back up to 48 px exactly as
it does a small detector box. ``min_readable_side`` turns the curve into the threshold the worker gates on
(``min_face_px`` in the model's ``metrics.json``; ``monitor.classify.MIN_FACE_PX`` when absent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from training.evaluate import classification_metrics

if TYPE_CHECKING:
    from monitor.classify import EmotionClassifier

SIDES: tuple[int, ...] = (8, 12, 16, 20, 24, 32, 48)
"""Face sides (px) the curve is measured at; 48 is FER2013's own size, left untouched."""
READABLE_SHARE = 0.9
"""A face size is readable when macro-F1 there is at least this share of the full-size (48 px) macro-F1."""


def shrink(images: np.ndarray, side: int) -> list[np.ndarray]:
    """Each ``(48, 48)`` uint8 face shrunk to ``side`` x ``side`` (INTER_AREA); unchanged at its own size."""
    if side <= 0:
        raise ValueError(f"face side must be a positive number of pixels, not {side}")
    if side == images.shape[1]:
        return list(images)
    return [cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA) for img in images]


def size_curve(
    classifier: EmotionClassifier,
    images: np.ndarray,
    labels: np.ndarray,
    sides: Sequence[int] = SIDES,
    batch: int = 256,
) -> list[dict]:
    """Accuracy and macro-F1 of ``classifier`` on ``images`` shrunk to each of ``sides``.

    Returns one ``{"side", "accuracy", "macro_f1"}`` per side, in the order given.
    """
    from monitor.labels import EMOTIONS

    out = []
    for side in sides:
        small = shrink(images, side)
        probs = np.concatenate(
            [classifier.predict(small[i : i + batch]) for i in range(0, len(small), batch)]
            or [np.empty((0, len(EMOTIONS)), np.float32)]
        )
        m = classification_metrics(labels, probs, EMOTIONS)
        out.append(
            {"side": int(side), "accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4)}
        )
    return out


def min_readable_side(curve: list[dict], share: float = READABLE_SHARE) -> int | None:
    """The smallest side from which on every larger side keeps macro-F1 >= ``share`` x the largest side's.

    None when the curve is empty. The largest measured side always qualifies, so a curve always gives one.
    """
    if not curve:
        return None
    ordered = sorted(curve, key=lambda row: row["side"])
    floor = share * ordered[-1]["macro_f1"]
    readable = ordered[-1]["side"]
    for row in reversed(ordered):
        if row["macro_f1"] < floor:
            break
        readable = row["side"]
    return int(readable)


def size_curve_entry(classifier: EmotionClassifier, images: np.ndarray, labels: np.ndarray) -> dict:
    """What ``metrics.json`` stores: ``size_curve``, ``min_face_px`` and the rule that chose it."""
    curve = size_curve(classifier, images, labels)
    return {
        "size_curve": curve,
        "size_curve_precision": classifier.precision,
        "min_face_px": min_readable_side(curve),
        "min_face_rule": f"macro-F1 >= {READABLE_SHARE:g} x the 48 px macro-F1",
    }
