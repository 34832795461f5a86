"""Soak: the real worker on a looped clip for N minutes; prints one JSON object.

Samples the worker's resident memory (/proc) and its heartbeat fps (worker_status) every few seconds and
reports RSS growth per hour (least-squares slope after a one-minute warm-up), fps per minute, and whether
the stored frames keep pace with the processed ones (a growing write queue would show as a widening gap).

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--clip PATH]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from monitor.store.migrate import upgrade  # noqa: E402

CLIP = REPO.parent / "shared" / "datasets" / "videos" / "group_3people.mp4"
WARMUP_S = 60.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--every", type=float, default=5.0, help="sampling period, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/soak.db"
        upgrade(url)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "--db",
                url,
                "worker",
                "--camera",
                "soak",
                "--source",
                str(args.clip),
                "--loop",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
        )
        engine = create_engine(url)
        samples = []
        start = time.monotonic()
        while time.monotonic() - start < args.minutes * 60 and proc.poll() is None:
            time.sleep(args.every)
            with engine.connect() as conn:
                hb = conn.execute(text("SELECT frames, fps FROM worker_status")).first()
                stored = conn.execute(text("SELECT COALESCE(SUM(frames), 0) FROM class_sessions")).scalar()
            samples.append(
                {
                    "t": time.monotonic() - start,
                    "rss_mb": rss_mb(proc.pid),
                    "frames": hb[0] if hb else 0,
                    "fps": hb[1] if hb else None,
                    "stored_frames": stored,
                }
            )
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        engine.dispose()
    steady = [s for s in samples if s["t"] >= min(WARMUP_S, args.minutes * 30)]
    t = np.array([s["t"] for s in steady]) / 3600
    rss = np.array([s["rss_mb"] for s in steady])
    slope = float(np.polyfit(t, rss, 1)[0]) if len(steady) > 2 else None
    per_minute: dict[int, list[float]] = {}
    for s in samples:
        if s["fps"]:
            per_minute.setdefault(int(s["t"] // 60), []).append(s["fps"])
    # The heartbeat is written with each batch, so processed-but-unwritten frames stay near zero unless the
    # write queue grows.
    lag = [max(0, s["frames"] - s["stored_frames"]) for s in samples]
    print(
        json.dumps(
            {
                "minutes": args.minutes,
                "clip": args.clip.name,
                "rss_mb_start": round(steady[0]["rss_mb"], 1) if steady else None,
                "rss_mb_end": round(samples[-1]["rss_mb"], 1) if samples else None,
                "rss_growth_mb_per_hour": None if slope is None else round(slope, 1),
                "fps_median_per_minute": [
                    round(statistics.median(v), 1) for _, v in sorted(per_minute.items())
                ],
                "unwritten_frames": {
                    "median": statistics.median(lag) if lag else None,
                    "max": max(lag) if lag else None,
                    "last": lag[-1] if lag else None,
                },
                "frames_processed": samples[-1]["frames"] if samples else 0,
                "summary": out.strip().splitlines()[-1] if out.strip() else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
