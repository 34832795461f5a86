"""Benchmark: the active expression model's accuracy and macro-F1 against face size.

FER2013 PublicTest faces are shrunk to 8, 12, 16, 24 and 32 px with ``cv2.INTER_AREA`` and scored by the
worker's own ``EmotionClassifier`` (LiteRT, the model file and temperature the worker would run), which
scales each small crop back to 48 px as it does a small detector box; 48 is the faces' own size. Prints one
JSON object: the curve, the smallest readable side by the rule in ``training/size_curve.py``, and the model.

    .venv/bin/python benchmarks/expression_size.py [--model models/DEFAULT's target] [--limit N] \
        [--write-metrics]

``--write-metrics`` stores ``size_curve`` and ``min_face_px`` in the model's ``metrics.json`` (the worker
reads ``min_face_px`` from there).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.classify import EmotionClassifier, ModelError  # noqa: E402
from training.data import DatasetError, load_dataset  # noqa: E402
from training.evaluate import newest_model_dir  # noqa: E402
from training.size_curve import READABLE_SHARE, size_curve_entry  # noqa: E402

DATA = REPO.parent / "shared" / "datasets" / "fer2013" / "fer2013.csv.gz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: the active one)")
    parser.add_argument("--data", type=Path, default=DATA, help="FER2013 CSV (plain or .gz)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N PublicTest faces")
    parser.add_argument("--write-metrics", action="store_true", help="store the curve in metrics.json")
    args = parser.parse_args(argv)
    model_dir = args.model or newest_model_dir(REPO / "models")
    if model_dir is None or not model_dir.is_dir():
        print(f"error: no model directory {model_dir}", file=sys.stderr)
        return 2
    try:
        dataset = load_dataset(args.data, progress=False).split("PublicTest")
        classifier = EmotionClassifier(model_dir)
    except (DatasetError, ModelError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit is not None:
        dataset = dataset.head(args.limit)
    if len(dataset) == 0:
        print(f"error: no PublicTest rows in {args.data}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    entry = size_curve_entry(classifier, dataset.images, dataset.hard_labels)
    result = {
        "model": model_dir.resolve().name,
        "precision": classifier.precision,
        "faces": len(dataset),
        "data": f"{args.data} (PublicTest)",
        "readable_share": READABLE_SHARE,
        **entry,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(result, indent=2))
    if args.write_metrics:
        path = model_dir / "metrics.json"
        metrics = json.loads(path.read_text())
        metrics.update(entry)
        path.write_text(json.dumps(metrics, indent=2) + "\n")
        print(f"wrote size_curve and min_face_px = {entry['min_face_px']} into {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
