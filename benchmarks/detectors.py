"""Face detectors compared on the real clips; prints one JSON object.

Ground truth is the number of people in each clip (1 and 3): boxes beyond it in a frame count as false boxes,
a shortfall as missed faces (a turned-away head is also "missed" by this measure, for every detector alike).

    .venv/bin/python benchmarks/detectors.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from monitor.detect import DETECTORS, make_detector  # noqa: E402

VIDEOS = REPO.parent / "shared" / "datasets" / "videos"
CLIPS = {"talking_head_phone.mp4": 1, "group_3people.mp4": 3}


def main() -> None:
    result = {}
    for clip, people in CLIPS.items():
        cap = cv2.VideoCapture(str(VIDEOS / clip))
        frames = []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
        for name in DETECTORS:
            det = make_detector(name)
            det.detect(frames[0])
            counts, times = [], []
            for f in frames:
                t = time.perf_counter()
                counts.append(len(det.detect(f)))
                times.append((time.perf_counter() - t) * 1000)
            result[f"{clip}/{name}"] = {
                "frames": len(frames),
                "people": people,
                "faces_found": sum(min(c, people) for c in counts),
                "faces_expected": people * len(frames),
                "false_boxes": sum(max(c - people, 0) for c in counts),
                "frames_exactly_right": sum(c == people for c in counts),
                "ms_per_frame_median": round(statistics.median(times), 2),
            }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
