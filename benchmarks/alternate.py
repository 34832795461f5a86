"""Running one child script in several checkouts, alternated, for old-against-new benchmarks on a busy host.

``capture_decode.py`` and ``gc_pauses.py`` time the same child code in each ``--tree`` in turn, so a busy
moment on the shared machine hits every tree alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIDEOS = REPO.parent / "shared" / "datasets" / "videos"


def add_tree_arguments(parser: argparse.ArgumentParser, runs: int) -> None:
    """``--clip`` (a clip in ../shared or a path), ``--runs`` and ``--tree`` (repeatable)."""
    parser.add_argument("--clip", default="classroom_front_720p.mp4", help="a clip in ../shared or a path")
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to run (default: this one)")


def clip_and_trees(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[Path, list[Path]]:
    """The clip to read and the checkouts to compare; a missing clip is a usage error."""
    clip = Path(args.clip) if Path(args.clip).is_file() else VIDEOS / args.clip
    if not clip.is_file():
        parser.error(f"clip not found: {args.clip}")
    return clip, [tree.resolve() for tree in args.tree or [REPO]]


def run_in_tree(tree: Path, child: str, *argv: str) -> dict:
    """Run ``child`` (Python source) with ``tree`` first on the path; its last stdout line is JSON."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OPENCV_LOG_LEVEL": "ERROR"}
    env = {k: v for k, v in env.items() if not k.startswith("CLASSROOM_MONITOR_")}
    out = subprocess.run(
        [sys.executable, "-c", child, *argv], capture_output=True, text=True, cwd=tree, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternate(trees: list[Path], runs: int, one_run) -> dict[str, list[dict]]:
    """``one_run(tree)`` for each tree in turn, ``runs`` times over: {tree: [result, ...]}."""
    results: dict[str, list[dict]] = {str(tree): [] for tree in trees}
    for _ in range(runs):
        for tree in trees:
            results[str(tree)].append(one_run(tree))
    return results
