"""Detection only where tracks are predicted (``monitor.detectors.regions``) against a full pass every time.

    .venv/bin/python benchmarks/detect_regions.py [--full-every 5,7,10] [--repeats 3] [--width 640]

The real pipeline (default settings: YuNet, ByteTrack, ``detect_every`` 5, posture and expressions) runs over
every frame of ``classroom_front_720p.mp4``, once with a full detector pass on every detector call and once
per ``--full-every`` N with a region pass between full passes. At the labelled frames
(``labels/classroom_posture.json``) the faces it reports (its tracks) and, where the detector ran on that
frame, what the detector itself returned, are matched to the labelled visible faces as
``benchmarks/detector_size.py`` matches them (``match_boxes``). The default phase puts a full pass on
detector calls 0, N, 2N, ...; labelled frames 30, 60, 90, 120 are calls 6, 12, 18, 24, so for N = 5, 7, 10
they are all region passes (the ``region_pass_frames`` field says which were). ``--width 640`` runs the
clip shrunk to 640x360 (a camera's usual substream; YuNet enlarges it to 960 wide), label boxes alike.

Prints JSON: per configuration, recall and unmatched boxes of the detector and of the tracks, detector CPU
ms per call (process time, all threads, median of the best of ``--repeats``), and pipeline CPU ms per frame.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.classify import EmotionClassifier  # noqa: E402
from monitor.config import EngagementWeights, Settings  # noqa: E402
from monitor.detect import make_detector  # noqa: E402
from monitor.detectors.regions import RegionDetector  # noqa: E402
from monitor.engagement import EngagementIndex  # noqa: E402
from monitor.pipeline import FramePipeline  # noqa: E402
from monitor.posture_labels import load_labels, match_boxes  # noqa: E402
from monitor.registry import active_model_dir  # noqa: E402

DEFAULT_LABELS = REPO.parent / "shared" / "datasets" / "labels" / "classroom_posture.json"
VIDEO = "classroom_front_720p.mp4"


def clip_and_labels(
    labels_path: Path, width: int | None = None
) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """Every frame of the clip, and the visible-face head boxes of each labelled frame by index; with
    ``width``, frames shrunk to it (a camera's substream) and the boxes alike."""
    import cv2

    labels = {
        item.frame: np.array([p.box for p in item.people if p.face_visible], np.float64).reshape(-1, 4)
        for item in load_labels(labels_path).items
        if item.frame is not None and item.file.endswith(VIDEO)
    }
    cap = cv2.VideoCapture(str(REPO.parent / "shared" / "datasets" / "videos" / VIDEO))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    if width and frames and width != frames[0].shape[1]:
        factor = width / frames[0].shape[1]
        size = (width, round(frames[0].shape[0] * factor))
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
        labels = {k: v * factor for k, v in labels.items()}
    return frames, labels


class _Timed:
    """The pipeline's detector, timed (process CPU) and fed the tracker's predicted boxes."""

    def __init__(self, inner, pipeline: FramePipeline | None = None) -> None:
        self.inner, self.pipeline = inner, pipeline
        self.name, self.threshold = inner.name, inner.threshold
        self.cpu_ms: list[float] = []
        self.kinds: list[str] = []
        self.last = None

    def detect(self, frame: np.ndarray):
        self.inner.threshold = self.threshold  # the pipeline lowers it for ByteTrack
        start = time.process_time()
        if isinstance(self.inner, RegionDetector):
            full_before = self.inner.full_passes
            expected = np.array([t.box for t in self.pipeline.tracker.tracks], np.float64).reshape(-1, 4)
            self.last = self.inner.detect(frame, expected)
            self.kinds.append("full" if self.inner.full_passes > full_before else "regions")
        else:
            self.last = self.inner.detect(frame)
            self.kinds.append("full")
        self.cpu_ms.append((time.process_time() - start) * 1000)
        return self.last


def run(frames, labels, full_every: int | None, classifier) -> dict:
    settings = Settings()
    base = make_detector(settings.detector)
    pipeline = FramePipeline(
        base,
        classifier,
        EngagementIndex(EngagementWeights()),
        detect_every=settings.detect_every,
        classify_per_frame=settings.classify_per_frame,
        tracker=settings.tracker,
        full_detect_every=1,  # the region passes, if any, come from the timed detector below
    )
    inner = base if full_every is None else RegionDetector(base, full_every)
    timed = _Timed(inner, pipeline)
    timed.threshold = base.threshold
    pipeline.detector = timed
    found = {"detector": [0, 0, 0], "tracks": [0, 0, 0]}  # found, visible, unmatched
    region_frames = []
    t0, start = datetime(2026, 1, 5, 9), time.process_time()
    for i, frame in enumerate(frames):
        calls = len(timed.cpu_ms)
        record = pipeline.process(frame, t0 + timedelta(seconds=i / 30), i)
        if i not in labels:
            continue
        truth = labels[i]
        outputs = {"tracks": record.boxes}
        if len(timed.cpu_ms) > calls:  # the detector ran on this frame
            outputs["detector"] = timed.last.boxes
            if timed.kinds[-1] == "regions":
                region_frames.append(i)
        for name, boxes in outputs.items():
            pairs = match_boxes(boxes, truth) if len(boxes) and len(truth) else []
            found[name][0] += len(pairs)
            found[name][1] += len(truth)
            found[name][2] += len(boxes) - len(pairs)
    cpu_frame = (time.process_time() - start) / len(frames) * 1000
    by_kind = {
        k: round(statistics.median(c for c, kk in zip(timed.cpu_ms, timed.kinds, strict=True) if kk == k), 1)
        for k in sorted(set(timed.kinds))
    }
    return {
        "region_pass_frames": region_frames,
        **{
            f"{name}_recall": {"found": f, "visible": v, "recall": round(f / max(v, 1), 3), "unmatched": u}
            for name, (f, v, u) in found.items()
        },
        "detector_calls": len(timed.cpu_ms),
        "detector_cpu_ms_per_call_median": by_kind,
        "detector_cpu_ms_per_frame": round(sum(timed.cpu_ms) / len(frames), 2),
        "pipeline_cpu_ms_per_frame": round(cpu_frame, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--full-every", default="5,7,10", help="full pass every N detector calls, e.g. 5,7")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--width", type=int, help="shrink the 1280x720 clip to this width first, e.g. 640")
    args = parser.parse_args(argv)
    try:
        choices = [int(n) for n in args.full_every.split(",")]
    except ValueError:
        choices = []
    if not choices or min(choices) < 1:
        print(f"--full-every takes whole numbers >= 1, e.g. 5,7, not {args.full_every!r}", file=sys.stderr)
        return 2
    if not args.labels.is_file():
        print(f"labels file not found: {args.labels}", file=sys.stderr)
        return 2
    frames, labels = clip_and_labels(args.labels, args.width)
    if not frames or not labels:
        print(f"{VIDEO} or its labelled frames not found", file=sys.stderr)
        return 2
    classifier = EmotionClassifier(active_model_dir())
    result: dict = {
        "frames": len(frames),
        "size": f"{frames[0].shape[1]}x{frames[0].shape[0]}",
        "labelled_frames": sorted(labels),
        "repeats": args.repeats,
    }
    configs: list[int | None] = [None, *choices]
    runs: dict[str, list[dict]] = {}
    for _ in range(max(args.repeats, 1)):  # interleaved, so that a busy moment hits every configuration
        for n in configs:
            runs.setdefault("full" if n is None else f"regions_full_every_{n}", []).append(
                run(frames, labels, n, classifier)
            )
    for name, rs in runs.items():
        best = dict(rs[0])
        for key in ("detector_cpu_ms_per_frame", "pipeline_cpu_ms_per_frame"):
            best[key] = round(statistics.median(r[key] for r in rs), 2)
        kinds = rs[0]["detector_cpu_ms_per_call_median"]
        best["detector_cpu_ms_per_call_median"] = {
            k: round(statistics.median(r["detector_cpu_ms_per_call_median"][k] for r in rs), 1) for k in kinds
        }
        result[name] = best
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
