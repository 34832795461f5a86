"""CPU that ``FrameSource`` spends per second of video at a ``sample_fps``: prints JSON.

Each run is a fresh process that reads the whole clip through ``FrameSource.frames()`` (a file, as fast as it
can: the cost is what a live camera at that rate would cost) and reports its process CPU time (all threads,
FFmpeg's included) divided by the clip's duration. With ``--tree`` given more than once (another checkout,
e.g. a worktree of an older commit) the trees are run alternately, ``--runs`` times each, compared by median.

    .venv/bin/python benchmarks/capture_decode.py [--clip classroom_front_720p.mp4] [--sample-fps 5]
        [--runs 5] [--tree /tmp/old-checkout --tree .]
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
import json, sys, time
from monitor.capture import FrameSource
source = FrameSource(sys.argv[1], sample_fps=float(sys.argv[2]))
fps = source.fps
cpu0, wall0 = time.process_time(), time.perf_counter()
kept = last = 0
for frame in source.frames():
    kept += 1
    last = frame.index
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "kept": kept, "video_s": (last + 1) / fps}))
"""


def run_once(tree: Path, clip: Path, sample_fps: float) -> dict:
    return run_in_tree(tree, CHILD, str(clip), str(sample_fps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tree_arguments(parser, runs=5)
    parser.add_argument("--sample-fps", type=float, default=5.0)
    args = parser.parse_args()
    clip, trees = clip_and_trees(parser, args)
    # alternated, so a busy moment on the host hits each tree alike
    results = alternate(trees, args.runs, lambda tree: run_once(tree, clip, args.sample_fps))
    summary = {}
    for tree, runs in results.items():
        per_s = [r["cpu_s"] / r["video_s"] for r in runs]
        summary[tree] = {
            "cpu_ms_per_video_s_median": round(1000 * statistics.median(per_s), 1),
            "cpu_ms_per_video_s_all": [round(1000 * v, 1) for v in per_s],
            "frames_kept": runs[0]["kept"],
            "video_s": round(runs[0]["video_s"], 2),
        }
    print(
        json.dumps(
            {
                "benchmark": "capture_decode",
                "clip": clip.name,
                "sample_fps": args.sample_fps,
                "runs": args.runs,
                "load_avg_1m_end": round(os.getloadavg()[0], 1),
                "trees": summary,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
