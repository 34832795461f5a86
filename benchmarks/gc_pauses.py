"""Garbage-collection pauses during a real worker run: prints JSON.

Each run is a fresh process that records ``--frames`` frames of a shared clip (looped, read as fast as it
can) with ``CaptureWorker`` into a new SQLite file, timing every collection through ``gc.callbacks``: how
many full (generation 2) collections ran once the first frame was processed, the longest pause and the
time spent in all, in wall time and in the collecting thread's CPU time (which a busy host's preemption does
not inflate). With ``--tree`` given more than once (e.g. a worktree of an older commit) the trees run
alternately, ``--runs`` times each.

    .venv/bin/python benchmarks/gc_pauses.py [--frames 600] [--runs 3] [--tree /tmp/old --tree .]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.alternate import add_tree_arguments, alternate, clip_and_trees, run_in_tree  # noqa: E402

CHILD = """
import gc, json, sys, tempfile, time
from monitor.config import Settings
from monitor.store.migrate import upgrade
from monitor.worker import CaptureWorker

clip, frames = sys.argv[1], int(sys.argv[2])
tmp = tempfile.mkdtemp()
url = f"sqlite:///{tmp}/gc.db"
upgrade(url)
worker = CaptureWorker(Settings(db_url=url), "room-1", clip, loop=True, max_frames=frames)
pauses = {0: [], 1: [], 2: []}
cpu = {0: [], 1: [], 2: []}
started = {}

def timing(phase, info):
    if phase == "start":
        started["t"], started["cpu"] = time.perf_counter(), time.thread_time()
    elif worker.frames >= 1 and "t" in started:  # pauses while frames flow, not start-up
        pauses[info["generation"]].append(time.perf_counter() - started["t"])
        cpu[info["generation"]].append(time.thread_time() - started["cpu"])  # immune to preemption

gc.callbacks.append(timing)
wall = time.perf_counter()
summary = worker.run()
wall = time.perf_counter() - wall
gc.callbacks.remove(timing)
every = [p for ps in pauses.values() for p in ps]
every_cpu = [p for ps in cpu.values() for p in ps]
print(json.dumps({
    "frames": summary.frames,
    "wall_s": wall,
    "collections": {str(g): len(ps) for g, ps in pauses.items()},
    "gen2_max_ms": 1000 * max(pauses[2], default=0.0),
    "max_pause_ms": 1000 * max(every, default=0.0),
    "gc_total_ms": 1000 * sum(every),
    "max_pause_cpu_ms": 1000 * max(every_cpu, default=0.0),
    "gen2_max_cpu_ms": 1000 * max(cpu[2], default=0.0),
    "gc_total_cpu_ms": 1000 * sum(every_cpu),
    "thresholds": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
}))
"""


def run_once(tree: Path, clip: Path, frames: int) -> dict:
    return run_in_tree(tree, CHILD, str(clip), str(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tree_arguments(parser, runs=3)
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    clip, trees = clip_and_trees(parser, args)
    results = alternate(trees, args.runs, lambda tree: run_once(tree, clip, args.frames))
    summary = {
        tree: {
            "gen2_collections": [r["collections"]["2"] for r in runs],
            "gen1_collections": [r["collections"]["1"] for r in runs],
            "gen0_collections": [r["collections"]["0"] for r in runs],
            "max_pause_ms": [round(r["max_pause_ms"], 1) for r in runs],
            "max_pause_ms_median": round(statistics.median(r["max_pause_ms"] for r in runs), 1),
            "gc_total_ms_median": round(statistics.median(r["gc_total_ms"] for r in runs), 1),
            "max_pause_cpu_ms": [round(r["max_pause_cpu_ms"], 1) for r in runs],
            "gen2_max_cpu_ms": [round(r["gen2_max_cpu_ms"], 1) for r in runs],
            "gc_total_cpu_ms_median": round(statistics.median(r["gc_total_cpu_ms"] for r in runs), 1),
            "fps_median": round(statistics.median(r["frames"] / r["wall_s"] for r in runs), 1),
            "thresholds": runs[0]["thresholds"],
            "frozen_objects": runs[0]["frozen"],
        }
        for tree, runs in results.items()
    }
    print(
        json.dumps(
            {
                "benchmark": "gc_pauses",
                "clip": clip.name,
                "frames": args.frames,
                "runs": args.runs,
                "load_avg_1m_end": round(os.getloadavg()[0], 1),
                "trees": summary,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
