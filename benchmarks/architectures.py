"""LiteRT speed of each training network (``ARCHS``), float32 and int8: prints one JSON object.

Speed does not depend on the weights, so each network is built untrained, exported as the worker loads it
(float32, and int8 calibrated on real or random faces) and timed on batches of 16 faces with 2 threads, the
worker's setting. The worker's budget is 1 ms per face on 2 cores.

    python benchmarks/architectures.py [--arch default --arch wide] [--data .../fer2013.csv.gz]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.recipes import ARCHS  # noqa: E402

BATCH = 16
REPEATS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", choices=ARCHS, help="network(s) to time (default: all)")
    parser.add_argument("--data", type=Path, help="FER2013 CSV for int8 calibration faces (else random)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()

    from monitor.preprocess import preprocess_faces
    from training.export import LiteRTClassifier, to_tflite, write_bytes_atomic
    from training.models import build_model

    if args.data is not None:
        from training.data import load_dataset

        faces = preprocess_faces(load_dataset(args.data, progress=False).split("Training").images[:200])
    else:
        faces = np.random.default_rng(0).random((200, 48, 48, 1), dtype=np.float32)
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.arch or ARCHS:
            model = build_model(arch, augment=False)
            row: dict[str, float | int] = {"params": int(model.count_params())}
            for precision, representative in (("float32", None), ("int8", faces)):
                path = Path(tmp) / f"{arch}-{precision}.tflite"
                write_bytes_atomic(path, to_tflite(model, representative=representative))
                row[f"{precision}_ms_per_face"] = round(
                    LiteRTClassifier(path).ms_per_face(BATCH, repeats=args.repeats), 4
                )
                row[f"{precision}_bytes"] = path.stat().st_size
            out[arch] = row
    print(json.dumps({"batch": BATCH, "threads": 2, "archs": out}))


if __name__ == "__main__":
    main()
