"""Face detectors side by side on real classroom footage; prints one JSON object, then a Markdown table.

Sources (../shared/datasets, counts by eye from its SOURCES.md):
- ``classroom_front_720p.mp4``: 26 people, about 21 faces at least partly toward the camera; sampled at
  ``--frames`` frames spread over the clip, at its own 1280x720 and shrunk to 640x360 (a classroom camera's
  usual stream, where the same faces are 8-20 px wide);
- ``classroom_lab_students.png``: 10 small faces;
- ``classroom_cctv_b313_crowded.jpg`` / ``classroom_cctv_b205.jpg``: ceiling CCTV, about 30 and 12 people
  seen from behind, with only about 4 and at most 1 face visible: boxes beyond that are false;
- ``group_3people.mp4`` (640x360): three adults close to the lens, a regression check for large faces.

Columns: faces found (median per frame for videos) against faces counted by eye; ``excess`` = boxes beyond
the eye count (median per frame), which on the CCTV stills estimates false boxes (elsewhere it may also be
real profile faces that the eye count left out); ``odd size`` = boxes narrower than 5 px or wider than a
quarter of the frame; wall ms per frame (median, this machine, load average in the JSON) and process CPU ms
per frame (all threads; steadier than wall time on a shared machine).

    .venv/bin/python benchmarks/detectors.py [--frames 30] [--detectors yunet,haar]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from monitor.detect import (  # noqa: E402
    DEFAULT_DETECTOR,
    DETECTORS,
    BlazeFaceDetector,
    FaceDetector,
    YuNetDetector,
    make_detector,
)

DATA = REPO.parent / "shared" / "datasets"
# name: (path, faces by eye, resize to (w, h) or None)
SOURCES = {
    "classroom 1280x720": ("videos/classroom_front_720p.mp4", 21, None),
    "classroom 640x360": ("videos/classroom_front_720p.mp4", 21, (640, 360)),
    "lab 848x480": ("images/classroom_lab_students.png", 10, None),
    "cctv_b313 960x1080": ("images/classroom_cctv_b313_crowded.jpg", 4, None),
    "cctv_b205 960x576": ("images/classroom_cctv_b205.jpg", 1, None),
    "group 640x360": ("videos/group_3people.mp4", 3, None),
}
# Other settings of the same detectors, to show where more pixels stop paying.
EXTRA: dict[str, Callable[[], FaceDetector]] = {
    "yunet work_width=1280": lambda: YuNetDetector("yunet work_width=1280", work_width=1280),
    "blazeface-tiled tile=256": lambda: BlazeFaceDetector(
        "blazeface-tiled tile=256", "full", tile=256, whole=True
    ),
}


def load(path: Path, size: tuple[int, int] | None, count: int) -> list[np.ndarray]:
    """``count`` frames spread evenly over a video, or the still itself; resized to ``size`` if given."""
    if path.suffix == ".mp4":
        cap = cv2.VideoCapture(str(path))
        frames = []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
        picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
        frames = [frames[i] for i in picks]
    else:
        frames = [cv2.imread(str(path))]
    if size:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    return frames


def measure(detector: FaceDetector, frames: list[np.ndarray], by_eye: int) -> dict:
    detector.detect(frames[0])  # warm-up: first-call allocations
    counts, excess, odd, wall, cpu = [], [], [], [], []
    for f in frames:
        t, c = time.perf_counter(), time.process_time()
        det = detector.detect(f)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        widths = det.boxes[:, 2]
        counts.append(len(det))
        excess.append(max(len(det) - by_eye, 0))
        odd.append(int(((widths < 5) | (widths > f.shape[1] / 4)).sum()))
    return {
        "frames": len(frames),
        "faces_by_eye": by_eye,
        "found_median": statistics.median(counts),
        "found_min": min(counts),
        "found_max": max(counts),
        "excess_median": statistics.median(excess),
        "odd_size_median": statistics.median(odd),
        "wall_ms_median": round(statistics.median(wall), 1),
        "cpu_ms_median": round(statistics.median(cpu), 1),
        "has_keypoints": det.keypoints is not None,
    }


def table(results: dict) -> str:
    """One Markdown row per detector: faces found per source (by eye in the header), then time per frame."""
    sources = [s for s in SOURCES if isinstance(results.get(s), dict) and "skipped" not in results[s]]
    if not sources:
        return ""
    timed = [s for s in sources if s.startswith("classroom ")]
    head = [f"{s} ({SOURCES[s][1]})" for s in sources] + [f"ms {s.split()[-1]} wall / CPU" for s in timed]
    lines = ["| detector | " + " | ".join(head) + " | odd size |", "| --- |" + " ---: |" * (len(head) + 1)]
    for name in results[sources[0]]:
        cells = []
        for s in sources:
            r = results[s][name]
            cell = f"{r['found_median']:g}"
            cells.append(cell + (f" ({r['found_min']}-{r['found_max']})" if r["frames"] > 1 else ""))
        cells += [
            f"{results[s][name]['wall_ms_median']:g} / {results[s][name]['cpu_ms_median']:g}" for s in timed
        ]
        odd = sum(results[s][name]["odd_size_median"] for s in sources)
        mark = " (default)" if name == DEFAULT_DETECTOR else ""
        lines.append(f"| {name}{mark} | " + " | ".join(cells) + f" | {odd:g} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30, help="frames sampled from each video")
    parser.add_argument("--detectors", default="", help="comma-separated names (default: all, plus EXTRA)")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"error: {DATA} not found (the shared datasets hold the real classroom footage)")
    factories: dict[str, Callable[[], FaceDetector]] = {n: (lambda n=n: make_detector(n)) for n in DETECTORS}
    factories.update(EXTRA)
    if args.detectors:
        wanted = args.detectors.split(",")
        unknown = [n for n in wanted if n not in factories]
        if unknown:
            sys.exit(f"error: unknown detector(s) {', '.join(unknown)}; choose from {', '.join(factories)}")
        factories = {n: factories[n] for n in wanted}
    detectors = {name: make() for name, make in factories.items()}
    results: dict = {
        "cpu_count": len(os.sched_getaffinity(0)),
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        "default": DEFAULT_DETECTOR,
    }
    for source, (rel, by_eye, size) in SOURCES.items():
        path = DATA / rel
        if not path.is_file():
            results[source] = {"skipped": f"{path} not found"}
            continue
        frames = load(path, size, args.frames)
        results[source] = {name: measure(det, frames, by_eye) for name, det in detectors.items()}
    print(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
