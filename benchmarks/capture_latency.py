"""Capture-to-stored-row latency and dropped frames of the real worker on a live-paced source: prints JSON.

The worker (``classroom-monitor worker``) plays a shared clip looped with ``--realtime`` (frames arrive at the
clip's own rate, as from a camera) into a fresh SQLite file, once as it is and once starved of CPU: pinned
with ``taskset`` to one core that it shares with busy-looping processes. Figures come from what the worker
writes with its heartbeat (``worker_status``: p50/p95 of capture → committed row over the last minute, frames
dropped) plus an outside check: how old the newest stored observation is, sampled every second.

    .venv/bin/python benchmarks/capture_latency.py [--seconds 30] [--burners 2] [--clip group_3people.mp4]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VIDEOS = REPO.parent / "shared" / "datasets" / "videos"

from monitor.store.migrate import upgrade  # noqa: E402

BURN = "import time\nwhile True:\n    pass\n"


def pinned(cmd: list[str], cpu: int | None) -> list[str]:
    if cpu is None or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", str(cpu), *cmd]


def sample(engine) -> dict | None:
    with engine.connect() as conn:
        ws = conn.execute(
            text("SELECT frames, fps, frames_dropped, latency_p50_ms, latency_p95_ms FROM worker_status")
        ).first()
        newest = conn.execute(text("SELECT MAX(ts) FROM observations")).scalar()
    if ws is None:
        return None
    age = None
    if newest is not None:
        ts = datetime.fromisoformat(str(newest))
        age = (datetime.now(UTC) - (ts if ts.tzinfo else ts.replace(tzinfo=UTC))).total_seconds() * 1000
    return dict(zip(("frames", "fps", "dropped", "p50", "p95"), ws, strict=True)) | {"newest_row_age_ms": age}


def run(clip: Path, seconds: float, starve: int, extra: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLASSROOM_MONITOR_")}
    cpu = 0 if starve else None
    burners = [subprocess.Popen(pinned([sys.executable, "-c", BURN], cpu), env=env) for _ in range(starve)]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        cmd = [sys.executable, "-m", "monitor", "--db", url, "worker", "--camera", "bench"]
        cmd += ["--source", str(clip), "--loop", "--realtime", "--session", "latency bench", *extra]
        proc = subprocess.Popen(
            pinned(cmd, cpu), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        engine = create_engine(url)
        samples: list[dict] = []
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (samples and samples[-1]["frames"]):
                time.sleep(0.5)  # start-up (loading the detector and model) is not part of the measure
                s = sample(engine) if proc.poll() is None else None
                samples = [s] if s else []
            end = time.monotonic() + seconds
            while time.monotonic() < end and proc.poll() is None:
                time.sleep(1.0)
                s = sample(engine)
                if s:
                    samples.append(s)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
            for b in burners:
                b.kill()
                b.wait()
            engine.dispose()
    if proc.returncode != 0:
        raise SystemExit(f"worker failed:\n{err[-2000:]}")
    line = out.strip().splitlines()[-1]
    frames = int(re.search(r"(\d+) frames", line).group(1))
    dropped = int(re.search(r"(\d+) frames dropped", line).group(1))
    last = samples[-1]
    ages = [s["newest_row_age_ms"] for s in samples[1:] if s["newest_row_age_ms"] is not None]
    return {
        "cpu": f"1 core shared with {starve} busy loops" if starve else "unrestricted (2 shared cores)",
        "seconds": seconds,
        "frames_processed": frames,
        "frames_dropped": dropped,
        "dropped_share": round(dropped / max(frames + dropped, 1), 3),
        "fps": round(last["fps"] or 0.0, 1),
        "latency_p50_ms": round(last["p50"], 1) if last["p50"] is not None else None,
        "latency_p95_ms": round(last["p95"], 1) if last["p95"] is not None else None,
        "latency_p95_ms_max_seen": round(max(s["p95"] for s in samples if s["p95"] is not None), 1),
        # Bounded, not growing (a worker falling behind would climb): the figures every 5 s of the run.
        "latency_p95_ms_every_5s": [round(s["p95"]) for s in samples[::5] if s["p95"] is not None],
        "newest_row_age_ms_every_5s": [round(a) for a in ages[::5]],
        "newest_row_age_ms_median": round(statistics.median(ages), 1) if ages else None,
        "newest_row_age_ms_max": round(max(ages), 1) if ages else None,
        "summary": line,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument(
        "--burners", type=int, default=2, help="busy loops sharing the worker's core when starved"
    )
    ap.add_argument("--clip", default="group_3people.mp4", help="a clip in ../shared/datasets/videos")
    ap.add_argument("worker_args", nargs="*", help="extra worker options (after --), e.g. --detect-every 1")
    args = ap.parse_args()
    clip = VIDEOS / args.clip
    if not clip.is_file():
        raise SystemExit(f"clip not found: {clip} (../shared is not beside the repo)")
    result = {
        "clip": args.clip,
        "worker_args": args.worker_args,
        "normal": run(clip, args.seconds, 0, args.worker_args),
        "starved": run(clip, args.seconds, args.burners, args.worker_args),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
