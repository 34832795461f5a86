"""Capture-worker speed and memory: prints one JSON object.

End-to-end figures come from the real worker process (``classroom-monitor worker``, writing to SQLite),
repeated and reported as medians; peak RSS is the largest child's ``ru_maxrss``. Per-stage timings (detection
per frame, classification per face) are measured in-process on real frames.

    .venv/bin/python benchmarks/worker.py [--repeats 3] [--model DIR ...] [--stages-only] [--only NAME ...]

``--model`` (repeatable) times the classifier stage of other model directories too (the worker runs the
first one); ``--stages-only`` skips the end-to-end worker runs and only times detection and classification;
``--only`` (repeatable) runs the end-to-end worker on those sources only (e.g. ``classroom_front_1280x720``).
The ``stages_classroom_1280x720`` entry is the CPU time per frame of the whole pipeline on the real classroom
clip and of its posture step (``RoomAttention.postures``: the heads re-read that frame), in-process.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VIDEOS = REPO.parent / "shared" / "datasets" / "videos"

from monitor.classify import EmotionClassifier  # noqa: E402
from monitor.config import Settings, load_settings  # noqa: E402
from monitor.detect import make_detector  # noqa: E402
from monitor.preprocess import crop_face  # noqa: E402
from monitor.registry import active_model_dir  # noqa: E402
from monitor.sample import SyntheticClassroom, grid_seats  # noqa: E402
from monitor.store.migrate import upgrade  # noqa: E402


def write_classroom_video(path: Path, frames: int = 300, fps: float = 25.0) -> Path:
    """A 1280x720 synthetic clip with 15 faces (5 x 3 seats) for the large-class case."""
    room = SyntheticClassroom(1280, 720, grid_seats(5, 3, 1280, 720, face=95))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1280, 720))
    for i in range(frames):
        writer.write(room.render(i / fps))
    writer.release()
    return path


def resized_copy(source: Path, path: Path, width: int, height: int) -> Path:
    """The same clip at another size (the real classroom at 640x360, as a cheaper camera sends it)."""
    cap = cv2.VideoCapture(str(source))
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"mp4v"), cap.get(cv2.CAP_PROP_FPS), (width, height)
    )
    while True:
        ok, img = cap.read()
        if not ok:
            break
        writer.write(cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA))
    writer.release()
    return path


def run_worker(source: Path, db: str, extra: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--db",
            db,
            "worker",
            "--camera",
            source.stem,
            "--source",
            str(source),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    wall = time.perf_counter() - t0
    line = proc.stdout.strip().splitlines()[-1]
    frames = int(re.search(r"(\d+) frames", line).group(1))
    faces = int(re.search(r"(\d+) observations", line).group(1))
    fps = float(re.search(r"([\d.]+) fps", line).group(1))
    # Process wall time minus the frame loop: interpreter start, imports, model and detector loading, DB.
    return {"frames": frames, "faces": faces, "fps": fps, "wall_s": wall, "startup_s": wall - frames / fps}


def end_to_end(source: Path, repeats: int, extra: list[str]) -> dict:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        upgrade(db)
        for _ in range(repeats):
            runs.append(run_worker(source, db, extra))
    fps = statistics.median(r["fps"] for r in runs)
    faces_per_frame = runs[0]["faces"] / max(runs[0]["frames"], 1)
    return {
        "frames": runs[0]["frames"],
        "faces_per_frame": round(faces_per_frame, 2),
        "fps_median": round(fps, 1),
        "faces_per_s_median": round(fps * faces_per_frame, 1),
        "process_wall_s_median": round(statistics.median(r["wall_s"] for r in runs), 2),
        "startup_and_shutdown_s_median": round(statistics.median(r["startup_s"] for r in runs), 2),
    }


def read_frames(path: Path, limit: int = 120) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while len(out) < limit:
        ok, img = cap.read()
        if not ok:
            break
        out.append(img)
    return out


def stage_timings(frames: list[np.ndarray], classifier: EmotionClassifier) -> dict:
    out = {}
    for name in dict.fromkeys((Settings().detector, "blazeface", "haar")):
        det = make_detector(name)
        det.detect(frames[0])
        times = []
        for f in frames:
            t = time.perf_counter()
            det.detect(f)
            times.append((time.perf_counter() - t) * 1000)
        out[f"detect_{name}_ms_per_frame_median"] = round(statistics.median(times), 2)
    det = make_detector(Settings().detector)
    crops = [crop_face(f, b) for f in frames for b in det.detect(f).boxes]
    for batch in (1, 3, 15):
        per_face = []
        for i in range(0, len(crops) - batch, batch):
            t = time.perf_counter()
            classifier.predict(crops[i : i + batch])
            per_face.append((time.perf_counter() - t) * 1000 / batch)
        out[f"classify_ms_per_face_batch{batch}_median"] = round(statistics.median(per_face), 3)
    return out


def posture_timing(frames: list[np.ndarray], classifier: EmotionClassifier, repeats: int = 3) -> dict:
    """CPU ms per frame (process time, all threads) of the default pipeline and of its posture step."""
    from datetime import datetime, timedelta

    from monitor.config import EngagementWeights
    from monitor.engagement import EngagementIndex
    from monitor.pipeline import FramePipeline

    runs = []
    for _ in range(repeats):
        settings = load_settings()  # as the worker loads them (CLASSROOM_MONITOR_* variables too)
        pipeline = FramePipeline(
            make_detector(settings.detector),
            classifier,
            EngagementIndex(EngagementWeights()),
            detect_every=settings.detect_every,
            classify_per_frame=settings.classify_per_frame,
            full_detect_every=settings.full_detect_every,
        )
        read_postures, posture_s = pipeline.room.postures, [0.0]
        if pipeline.room.estimator is None:  # loaded here, before the clock starts
            return {"skipped": "the posture model could not load"}

        def timed_postures(*args, read=read_postures, spent=posture_s):
            start = time.process_time()
            out = read(*args)
            spent[0] += time.process_time() - start
            return out

        pipeline.room.postures = timed_postures
        start, t0 = time.process_time(), datetime(2026, 1, 5, 9)
        for i, frame in enumerate(frames):
            pipeline.process(frame, t0 + timedelta(seconds=i / 30), i)
        runs.append(((time.process_time() - start) / len(frames), posture_s[0] / len(frames)))
    return {
        "frames": len(frames),
        "pipeline_cpu_ms_per_frame_median": round(1000 * statistics.median(r[0] for r in runs), 2),
        "posture_cpu_ms_per_frame_median": round(1000 * statistics.median(r[1] for r in runs), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", type=Path, action="append", help="model directory (default: active)")
    parser.add_argument("--stages-only", action="store_true", help="skip the end-to-end worker runs")
    parser.add_argument("--only", action="append", help="end-to-end runs on these sources only")
    args = parser.parse_args()
    models = args.model or [active_model_dir()]
    model = models[0]
    result: dict = {
        "model": model.name,
        "detector": Settings().detector,
        "tracker": Settings().tracker,
        "cpu_count": len(__import__("os").sched_getaffinity(0)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        large = write_classroom_video(Path(tmp) / "classroom_1280x720_15faces.mp4")
        classroom = VIDEOS / "classroom_front_720p.mp4"
        sources = {
            "classroom_front_1280x720": classroom,
            "classroom_front_640x360": resized_copy(classroom, Path(tmp) / "classroom_640x360.mp4", 640, 360)
            if classroom.is_file()
            else classroom,
            "group_3people_640x360": VIDEOS / "group_3people.mp4",
            "talking_head_596x336": VIDEOS / "talking_head_phone.mp4",
            "synthetic_1280x720_15faces": large,
        }
        for name, path in sources.items():
            if args.stages_only:
                break
            if args.only and name not in args.only:
                continue
            if not path.is_file():
                result[name] = {"skipped": f"{path} not found"}
                continue
            result[name] = end_to_end(path, args.repeats, ["--model", str(model)] if args.model else [])
        if not args.stages_only and (not args.only or "group_3people_640x360_attention_only" in args.only):
            result["group_3people_640x360_attention_only"] = end_to_end(
                sources["group_3people_640x360"], args.repeats, ["--mode", "attention"]
            )
        for m in models:
            classifier = EmotionClassifier(m)
            suffix = "" if m == model else f"_{m.name}"
            result[f"stages_group_640x360{suffix}"] = stage_timings(
                read_frames(sources["group_3people_640x360"]), classifier
            )
            result[f"stages_1280x720_15faces{suffix}"] = stage_timings(read_frames(large, 60), classifier)
        if classroom.is_file():
            result["stages_classroom_1280x720"] = posture_timing(
                read_frames(classroom, 200), EmotionClassifier(model)
            )
    result["worker_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
