"""YuNet's working size against the by-eye labels: recall of visible faces and CPU per call.

    .venv/bin/python benchmarks/detector_size.py [--widths 640,800,960,1280] [--repeats 3]

For each labelled frame of ``classroom_front_720p.mp4`` (``labels/classroom_posture.json``), at its own
1280x720 and shrunk to 640x360 (a camera's usual substream; label boxes halved alike), YuNet runs with the
frame resized to exactly each work width (no scale clamp, so 640 on a 640x360 frame means "not enlarged").
A labelled head with ``face_visible`` counts as found when a detection matches it as ``benchmarks/posture.py``
matches them (``match_boxes``: greedy IoU >= 0.2, or the detection's centre inside the head box). Boxes that
match no labelled head are counted as ``unmatched`` (labels cover every person, so these are mostly false;
a few may be faces the labels mark not visible).

Prints JSON: per source and width, faces found / visible, recall, unmatched boxes, and process CPU ms per
call (all threads, median over frames of the best of ``--repeats``) and wall ms per call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.detect import YuNetDetector  # noqa: E402
from monitor.posture_labels import load_labels, match_boxes, read_item_images  # noqa: E402

DEFAULT_LABELS = REPO.parent / "shared" / "datasets" / "labels" / "classroom_posture.json"
VIDEO = "classroom_front_720p.mp4"


def labelled_frames(labels_path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(BGR frame, visible-face head boxes (n, 4)) for each labelled frame of the 720p clip."""
    labels = load_labels(labels_path)
    out = []
    for item, image in read_item_images(labels):
        if item.frame is None or not item.file.endswith(VIDEO):
            continue
        boxes = np.array([p.box for p in item.people if p.face_visible], np.float64).reshape(-1, 4)
        out.append((image, boxes))
    return out


def measure(
    frames: list[tuple[np.ndarray, np.ndarray]], work_width: int, repeats: int
) -> dict[str, float | int]:
    """Recall, unmatched boxes and CPU/wall ms per call of YuNet resized to exactly ``work_width``."""
    detector = YuNetDetector(f"yunet@{work_width}", work_width=work_width, min_scale=0.05, max_scale=8.0)
    detector.detect(frames[0][0])  # warm up threads and buffers
    found = visible = unmatched = 0
    cpu_ms, wall_ms = [], []
    for image, boxes in frames:
        best_cpu = best_wall = float("inf")
        for _ in range(repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            det = detector.detect(image)
            best_cpu = min(best_cpu, time.process_time() - c0)
            best_wall = min(best_wall, time.perf_counter() - w0)
        cpu_ms.append(best_cpu * 1000)
        wall_ms.append(best_wall * 1000)
        pairs = match_boxes(det.boxes, boxes) if len(det) and len(boxes) else []
        found += len(pairs)
        visible += len(boxes)
        unmatched += len(det) - len(pairs)
    return {
        "work_width": work_width,
        "found": found,
        "visible": visible,
        "recall": round(found / max(visible, 1), 3),
        "unmatched": unmatched,
        "cpu_ms": round(statistics.median(cpu_ms), 1),
        "wall_ms": round(statistics.median(wall_ms), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--widths", default="640,800,960,1280")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        parser.error(f"--widths takes integers separated by commas, not {args.widths!r}")
    if not args.labels.is_file():
        print(f"labels file not found: {args.labels}", file=sys.stderr)
        return 2
    full = labelled_frames(args.labels)
    if not full:
        print(f"no labelled frames of {VIDEO} in {args.labels}", file=sys.stderr)
        return 2
    small = [
        (cv2.resize(img, (640, 360), interpolation=cv2.INTER_AREA), boxes / (img.shape[1] / 640))
        for img, boxes in full
    ]
    sources = {"1280x720": full, "640x360": small}
    result = {
        "frames": len(full),
        "repeats": args.repeats,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "sources": {
            name: [measure(frames, w, args.repeats) for w in widths] for name, frames in sources.items()
        },
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
