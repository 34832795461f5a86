"""CPU that ``FrameSource`` spends per second of video at a ``sample_fps``: prints JSON.

Each run is a fresh process that reads the whole clip through ``FrameSource.frames()`` (a file, as fast as it
can: the cost is what a live camera at that rate would cost) and reports its process CPU time (all threads,
FFmpeg's included) divided by the clip's duration. With ``--tree`` given more than once (another checkout,
e.g. a worktree of an older commit) the trees are run alternately, ``--runs`` times each, compared by median.

``--pyav`` adds PyAV (``av``, the ``dev`` extra) decoding the same clip at the same ``sample_fps``, with
FFmpeg's ``skip_frame`` at DEFAULT, NONREF (skip frames no other frame refers to) and NONKEY (keyframes
only). Each variant reports the frames it kept and the largest gap between two of them, so a mode that
cannot deliver ``sample_fps`` shows.
``--substream FPS`` adds the clip re-encoded as a camera's FPS substream (``benchmarks/substream.py``, in a
temporary folder) and, for a fair comparison, as a main stream at the clip's own rate, both ``--passes``
times over (a longer video: opening the file is not counted ``passes`` times over), read the same ways.

    .venv/bin/python benchmarks/capture_decode.py [--clip classroom_front_720p.mp4] [--sample-fps 5]
        [--runs 5] [--tree /tmp/old-checkout --tree .] [--pyav] [--substream 5 [--passes 6]]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
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
gap = prev = 0.0
for frame in source.frames():
    kept += 1
    last = frame.index
    gap, prev = max(gap, frame.index / fps - prev), frame.index / fps
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "kept": kept, "video_s": (last + 1) / fps, "max_gap_s": gap}))
"""

PYAV_CHILD = """
import json, sys, time
import av
clip, sample_fps, skip = sys.argv[1], float(sys.argv[2]), sys.argv[3]
cpu0, wall0 = time.process_time(), time.perf_counter()
with av.open(clip) as container:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    stream.codec_context.skip_frame = skip
    step = 1 / float(stream.average_rate)
    kept = 0
    due = end = prev = gap = 0.0
    for frame in container.decode(stream):
        t = float(frame.time)
        end = t + step
        if t + step / 2 < due:
            continue
        frame.to_ndarray(format="bgr24")  # what a worker would be handed
        kept += 1
        gap, prev = max(gap, t - prev), t
        due = t + 1 / sample_fps
    if stream.duration:  # NONKEY decodes only keyframes: the clip still lasts as long as it does
        end = max(end, float(stream.duration * stream.time_base))
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "kept": kept, "video_s": end, "max_gap_s": gap}))
"""
SKIP_MODES = ("DEFAULT", "NONREF", "NONKEY")


def run_once(tree: Path, clip: Path, sample_fps: float) -> dict:
    return run_in_tree(tree, CHILD, str(clip), str(sample_fps))


def variants(trees: list[Path], clips: dict[str, Path], sample_fps: float, pyav: bool) -> dict:
    """{label: run-once function}: FrameSource (OpenCV) in each tree on each clip, PyAV's modes if asked."""
    out = {}
    for clip_label, clip in clips.items():
        for tree in trees:
            label = f"{clip_label} opencv" + (f" {tree}" if len(trees) > 1 else "")
            out[label] = lambda tree=tree, clip=clip: run_once(tree, clip, sample_fps)
        for mode in SKIP_MODES if pyav else ():
            out[f"{clip_label} pyav {mode}"] = lambda clip=clip, mode=mode: run_in_tree(
                trees[0], PYAV_CHILD, str(clip), str(sample_fps), mode
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tree_arguments(parser, runs=5)
    parser.add_argument("--sample-fps", type=float, default=5.0)
    parser.add_argument(
        "--pyav", action="store_true", help="also PyAV with skip_frame DEFAULT, NONREF, NONKEY"
    )
    parser.add_argument("--substream", type=float, metavar="FPS", help="also the clip re-encoded at FPS")
    parser.add_argument("--passes", type=int, default=6, help="--substream: the clip this many times over")
    args = parser.parse_args()
    clip, trees = clip_and_trees(parser, args)
    if args.substream is not None and not 0 < args.substream <= 60:
        parser.error("--substream: frames per second, above 0 and at most 60")
    with tempfile.TemporaryDirectory(prefix="substream-") as tmp:
        clips = {"clip": clip}
        if args.substream:
            from benchmarks.substream import reencode, source_fps

            main_fps = source_fps(clip)
            clips[f"main {main_fps:g} fps x{args.passes}"] = reencode(clip, main_fps, Path(tmp), args.passes)
            sub = reencode(clip, args.substream, Path(tmp), args.passes)
            clips[f"substream {args.substream:g} fps x{args.passes}"] = sub
        runners = variants(trees, clips, args.sample_fps, args.pyav)
        # alternated, so a busy moment on the host hits each variant alike
        results = alternate(list(runners), args.runs, lambda label: runners[label]())
    summary = {}
    for label, runs in results.items():
        per_s = [r["cpu_s"] / r["video_s"] for r in runs]
        summary[label] = {
            "cpu_ms_per_video_s_median": round(1000 * statistics.median(per_s), 1),
            "cpu_ms_per_video_s_all": [round(1000 * v, 1) for v in per_s],
            "frames_kept": runs[0]["kept"],
            "max_gap_s": round(runs[0]["max_gap_s"], 3),
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
                "variants": summary,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
