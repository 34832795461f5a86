"""Which members make the best ensemble? PublicTest accuracy of every subset, with and without flip averaging.

Each member's LiteRT probabilities (plain and mirrored) are computed once; subsets are averaged in numpy,
exactly as ``classroom-monitor ensemble`` averages them in the graph. Prints one JSON object.

    python benchmarks/ensemble_members.py --data ../shared/datasets/fer2013/fer2013.csv.gz \\
        models/fer2013-default-v1 runs/members/fer2013-default-s7 ...
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.preprocess import preprocess_faces  # noqa: E402
from training.data import load_dataset  # noqa: E402
from training.evaluate import classification_metrics  # noqa: E402
from training.export import LiteRTClassifier  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("members", nargs="+", type=Path, help="model directories")
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()

    val = load_dataset(args.data, progress=False).split("PublicTest")
    faces, y = preprocess_faces(val.images), val.hard_labels
    labels = list(val.label_names)
    plain, mirrored = {}, {}
    for member in args.members:
        clf = LiteRTClassifier(member / "model.tflite")
        plain[member.name] = clf.predict(faces, batch_size=256)
        mirrored[member.name] = clf.predict(faces[:, :, ::-1, :], batch_size=256)

    rows = []
    names = list(plain)
    for k in range(1, len(names) + 1):
        for subset in itertools.combinations(names, k):
            probs = np.mean([plain[n] for n in subset], axis=0)
            both = (probs + np.mean([mirrored[n] for n in subset], axis=0)) / 2
            rows.append(
                {
                    "members": list(subset),
                    "accuracy": round(classification_metrics(y, probs, labels)["accuracy"], 4),
                    "accuracy_flip": round(classification_metrics(y, both, labels)["accuracy"], 4),
                }
            )
    rows.sort(key=lambda r: (len(r["members"]), -r["accuracy_flip"]))
    print(json.dumps({"n": int(len(y)), "subsets": rows}, indent=1))


if __name__ == "__main__":
    main()
