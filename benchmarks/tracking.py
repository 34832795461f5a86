"""Tracker comparison on the shared clips: ids issued, fragments and id changes, per tracker.

    python benchmarks/tracking.py [--detect-every 3] [--detector NAME] [--json-only]

The clips have no ground-truth tracks, so the figures are proxies, taken over the tracks a tracker reports
(confirmed tracks, as the worker stores them) with the worker's cadence (detection every ``detect_every``
frames, coasting in between):

* ``tracks``: ids issued, to set against the people counted by eye (``people``);
* ``fragments``: tracks that last less than one second;
* ``id_changes``: a track that starts within one face width of where another ended in the 3 s before
  (the same person under a new id);
* ``jumps``: a track whose box moves more than one face width between two reports (an id that changed person);
* ``per_frame``: median and peak people reported per frame, so that fewer ids are not bought with
  fewer people seen.

Detection runs once per clip frame (the slow part) and every tracker sees the same detections. The
``trackers`` package's ByteTrack runs as a reference when it can be imported (it is no dependency of this
project: ``pip install --no-deps --target DIR trackers supervision rich pydeprecate`` plus their small pure
Python dependencies, then ``PYTHONPATH=DIR``). ``--cache DIR`` keeps the detections between runs.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.detect import make_detector  # noqa: E402
from monitor.pipeline import _lower_threshold  # noqa: E402
from monitor.stages import Detections  # noqa: E402
from monitor.track import ByteTracker, FaceTracker  # noqa: E402

VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "videos"
# clip: (people counted by eye, times played: the worker's --loop test plays the 3-person clip twice)
CLIPS = {
    "group_3people.mp4": (3, 2),
    "talking_head_phone.mp4": (1, 1),
    "classroom_front_720p.mp4": (26, 1),
}
HANDOFF_S = 3.0

Reported = list[list[tuple[int, np.ndarray]]]  # per frame: (track id, xywh box)


def detect_clip(path: Path, detector, cache: Path | None) -> tuple[list[Detections], float, float]:
    """Detections of every frame (at the lowered ByteTrack floor), the fps and ms per detection."""
    cached = cache / f"{path.stem}.{detector.name}.{detector.threshold:.2f}.pkl" if cache else None
    if cached and cached.is_file():
        return pickle.loads(cached.read_bytes())
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    out, spent = [], 0.0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        t0 = time.perf_counter()
        out.append(detector.detect(image))
        spent += time.perf_counter() - t0
    cap.release()
    result = out, fps, 1000 * spent / max(len(out), 1)
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(pickle.dumps(result))
    return result


def run_ours(
    make: Callable, stream: list[Detections], floor: float, detect_every: int
) -> tuple[Reported, int]:
    tracker = make()
    reported: Reported = []
    for i, dets in enumerate(stream):
        tracked = tracker.update(dets[dets.scores >= floor]) if i % detect_every == 0 else tracker.coast()
        reported.append(list(zip(tracked.track_ids.tolist(), tracked.boxes, strict=True)))
    return reported, tracker.ids_issued


def run_reference(
    stream: list[Detections], high: float, fps: float, detect_every: int
) -> tuple[Reported, int]:
    """The ``trackers`` package's ByteTrack, same thresholds and a 3 s buffer; holds its output in between."""
    import supervision as sv
    from trackers import ByteTrackTracker

    rate = fps / detect_every
    tracker = ByteTrackTracker(
        lost_track_buffer=int(HANDOFF_S * 30),
        frame_rate=rate,
        track_activation_threshold=high,
        high_conf_det_threshold=high,
    )
    reported: Reported = []
    last: list[tuple[int, np.ndarray]] = []
    ids: set[int] = set()
    for i, dets in enumerate(stream):
        if i % detect_every == 0:
            xyxy = np.concatenate([dets.boxes[:, :2], dets.boxes[:, :2] + dets.boxes[:, 2:]], axis=1)
            sv_dets = sv.Detections(xyxy=xyxy.reshape(-1, 4).astype(np.float32), confidence=dets.scores)
            res = tracker.update(sv_dets)
            last = []
            for box, tid in zip(res.xyxy, res.tracker_id, strict=True):
                if tid >= 0:
                    last.append((int(tid), np.array([*box[:2], *(box[2:] - box[:2])], np.float32)))
                    ids.add(int(tid))
        reported.append(last)
    return reported, len(ids)


def _centre(box: np.ndarray) -> np.ndarray:
    return box[:2] + box[2:] / 2


def proxies(reported: Reported, fps: float) -> dict:
    """Tracks, fragments, id changes, jumps and people per frame of one run (see the module docstring)."""
    first: dict[int, tuple[int, np.ndarray]] = {}
    last: dict[int, tuple[int, np.ndarray]] = {}
    frames_seen: dict[int, int] = {}
    jumps = 0
    for f, rows in enumerate(reported):
        for tid, box in rows:
            if tid in last:
                prev = last[tid][1]
                if np.linalg.norm(_centre(box) - _centre(prev)) > max(prev[2], box[2]):
                    jumps += 1
            else:
                first[tid] = (f, box)
            last[tid] = (f, box)
            frames_seen[tid] = frames_seen.get(tid, 0) + 1
    fragments = sum(1 for tid in first if last[tid][0] - first[tid][0] + 1 < fps)
    changes = 0
    for tid, (start, box) in first.items():
        for other, (end, obox) in last.items():
            near = np.linalg.norm(_centre(box) - _centre(obox)) < max(box[2], obox[2])
            if other != tid and start - HANDOFF_S * fps <= end < start and near:
                changes += 1
                break
    counts = [len(rows) for rows in reported]
    lifetimes = [(last[t][0] - first[t][0] + 1) / fps for t in first]
    return {
        "tracks": len(first),
        "fragments": fragments,
        "id_changes": changes,
        "jumps": jumps,
        "per_frame_median": statistics.median(counts) if counts else 0,
        "per_frame_peak": max(counts, default=0),
        "per_frame_mean": round(sum(counts) / max(len(counts), 1), 2),
        "median_track_s": round(statistics.median(lifetimes), 2) if lifetimes else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detect-every", type=int, default=3)
    parser.add_argument("--detector", default=None, help="detector name (default: the worker's default)")
    parser.add_argument("--json-only", action="store_true")
    parser.add_argument("--cache", type=Path, help="folder that keeps each clip's detections between runs")
    args = parser.parse_args()
    detector = make_detector(args.detector) if args.detector else make_detector()
    high = _lower_threshold(detector, "bytetrack")  # None: the detector has no threshold to lower
    floor = detector.threshold if high is not None else 0.0
    high = high if high is not None else 0.0
    trackers: dict[str, Callable] = {
        "iou": FaceTracker,
        "bytetrack": lambda: ByteTracker(high_thresh=high),
    }
    try:
        import trackers as _  # noqa: F401

        reference = True
    except ImportError:
        reference = False
    results = []
    for clip, (people, plays) in CLIPS.items():
        path = VIDEOS / clip
        if not path.is_file():
            print(f"skipping {clip}: not found under {VIDEOS}", file=sys.stderr)
            continue
        dets, fps, det_ms = detect_clip(path, detector, args.cache)
        stream = dets * plays
        row = {
            "clip": clip,
            "people": people,
            "frames": len(stream),
            "plays": plays,
            "detect_ms": round(det_ms, 1),
        }
        for name, make in trackers.items():
            t0 = time.perf_counter()
            # The IoU tracker sees what the detector reports at its own threshold, as before.
            reported, issued = run_ours(make, stream, high if name == "iou" else floor, args.detect_every)
            ms = 1000 * (time.perf_counter() - t0) / len(stream)
            results.append({**row, "tracker": name, **proxies(reported, fps), "track_ms": round(ms, 3)})
        if reference:
            t0 = time.perf_counter()
            reported, _ = run_reference(stream, high, fps, args.detect_every)
            ms = 1000 * (time.perf_counter() - t0) / len(stream)
            results.append(
                {**row, "tracker": "trackers.ByteTrack", **proxies(reported, fps), "track_ms": round(ms, 3)}
            )
    print(json.dumps({"detector": detector.name, "detect_every": args.detect_every, "results": results}))
    if args.json_only:
        return
    cols = [
        "clip",
        "people",
        "tracker",
        "tracks",
        "fragments",
        "id_changes",
        "jumps",
        "per_frame_median",
        "per_frame_peak",
        "median_track_s",
        "track_ms",
    ]
    print("\n| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in results:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
