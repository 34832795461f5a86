"""Head posture against the by-eye labels: per-face accuracy held out by person, and the heads-up share.

    .venv/bin/python benchmarks/posture.py [--labels ../shared/datasets/labels/classroom_posture.json]
    .venv/bin/python benchmarks/posture.py --pipeline [--windows 1,2,3,4]

``--pipeline`` runs the real worker pipeline over the labelled clip (every frame) and prints, per temporal
window (a track's posture = mean probability of its last k readings; 1 = the latest, as shipped), the
heads-up share on each labelled frame, held out by person (``training.posture.pipeline_heads_up_held_out``).

Prints JSON: per method, accuracy over up/down/away (``unsure`` left out; a method's "unknown" answers are
left out of its accuracy and counted in its coverage), the confusion matrix (rows by eye: up, down, away;
columns predicted: up, down, away, unknown), per labelled frame the predicted heads-up share against the
by-eye share (labels/README.md table), and ms per face. Every learned method is scored leave-one-person-out
(the video's ids P01-P26 are stable across frames; each still's people are their own groups).

Methods:
- ``solvepnp-learned-front``: the old posture (``cv2.solvePnP`` on the frame's 5 landmarks, front = the median
  pose of the faces seen, as ``FrontCalibrator`` learns it from a lesson's first minutes).
- ``geometry-frame-landmarks``: the shipped features and classifier, on the frame's own landmarks.
- ``geometry-close-range`` (shipped, ``models/posture-v1``): the same on landmarks found again on each face
  enlarged to 64 px (``monitor.posture.LandmarkRefiner``), with its "unknown" rules.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.engagement import POSTURES, face_pose, posture, relative_pose  # noqa: E402
from monitor.posture import PostureEstimator, PostureModel, posture_features  # noqa: E402
from monitor.posture_labels import load_labels, read_item_images  # noqa: E402
from training.posture import (  # noqa: E402
    DEFAULT_L2,
    DEFAULT_MIN_FACE_PX,
    DEFAULT_MIN_PROBABILITY,
    by_width,
    collect,
    decide,
    held_out_probabilities,
    pipeline_heads_up_held_out,
    score,
)

DEFAULT_LABELS = REPO.parent / "shared" / "datasets" / "labels" / "classroom_posture.json"


def solvepnp_baseline(samples) -> np.ndarray:
    """Class index per row from the old posture: pose relative to the median pose of every face seen."""
    shape = (720, 1280)
    poses = [face_pose(k, shape) for k in samples.keypoints]
    front = (float(np.median([p[0] for p in poses])), float(np.median([p[1] for p in poses])))
    return np.array([POSTURES.index(posture(*relative_pose(p, front))) for p in poses])


def time_estimator(labels_path: Path, repeats: int = 3) -> dict:
    """ms per face of the shipped estimator (close-range landmarks + model), batched per frame, and of the
    old solvePnP posture, over the labelled frames' detections."""
    from monitor.detect import make_detector

    detector = make_detector()
    estimator = PostureEstimator()
    frames = [(img, detector.detect(img)) for _, img in read_item_images(load_labels(labels_path))]
    frames = [(img, det) for img, det in frames if len(det)]
    faces = sum(len(det) for _, det in frames)
    best_new = best_old = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for img, det in frames:
            estimator.estimate(img, det.boxes)
        best_new = min(best_new, time.perf_counter() - start)
        start = time.perf_counter()
        for img, det in frames:
            [face_pose(k, img.shape) for k in det.keypoints]
        best_old = min(best_old, time.perf_counter() - start)
    return {
        "faces": faces,
        "frames": len(frames),
        "geometry-close-range_ms_per_face": round(1000 * best_new / faces, 2),
        "solvepnp_ms_per_face": round(1000 * best_old / faces, 3),
    }


def run(labels_path: Path) -> dict:
    samples = collect(labels_path)
    target, widths = samples.target(), samples.boxes[:, 2]
    frame_feats = posture_features(samples.boxes, samples.keypoints)
    methods: dict[str, dict] = {}
    methods["solvepnp-learned-front"] = score(samples, solvepnp_baseline(samples))
    probs = held_out_probabilities(frame_feats, target, samples.groups, DEFAULT_L2)
    methods["geometry-frame-landmarks"] = score(samples, decide(probs, widths, 0.0, 0.0))
    probs = held_out_probabilities(samples.features, target, samples.groups, DEFAULT_L2)
    methods["geometry-close-range (always answers)"] = score(samples, decide(probs, widths, 0.0, 0.0))
    shipped = PostureModel.load()
    methods["geometry-close-range (shipped rules)"] = score(
        samples, decide(probs, widths, shipped.min_face_px, shipped.min_probability)
    )
    methods["geometry-close-range (shipped rules)"]["by_width"] = by_width(samples, probs)
    return {
        "labels": str(labels_path),
        "held_out": "leave-one-person-out",
        "l2": DEFAULT_L2,
        "min_face_px": DEFAULT_MIN_FACE_PX,
        "min_probability": DEFAULT_MIN_PROBABILITY,
        "faces_labelled_up_down_away": int(samples.labelled().sum()),
        "majority_class_accuracy": round(
            float(np.bincount(target[target >= 0]).max() / (target >= 0).sum()), 4
        ),
        "methods": methods,
        "timing": time_estimator(labels_path),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="posture labels JSON")
    parser.add_argument("--pipeline", action="store_true", help="the pipeline's shares per temporal window")
    parser.add_argument("--windows", default="1,2,3,4", help="readings averaged per track, e.g. 1,2,3")
    parser.add_argument("--refresh", type=int, default=1, help="heads re-read per frame (0: all)")
    args = parser.parse_args(argv)
    if not args.labels.is_file():
        print(f"labels file not found: {args.labels}", file=sys.stderr)
        return 2
    if args.pipeline:
        try:
            windows = tuple(int(w) for w in args.windows.split(","))
        except ValueError:
            windows = ()
        if not windows or min(windows) < 1:
            print(
                f"--windows must be positive whole numbers, e.g. 1,2,3, not {args.windows!r}", file=sys.stderr
            )
            return 2
        result = pipeline_heads_up_held_out(args.labels, windows, max(args.refresh, 0))
        for frames in result.values():
            errors = [abs(f["error_points"]) for f in frames.values() if f["error_points"] is not None]
            frames["max_abs_error_points"] = max(errors) if errors else None
        print(json.dumps(result, indent=1))
        return 0
    print(json.dumps(run(args.labels), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
