"""How many cameras a host's cores hold: the capacity table of ``docs/benchmarks.md`` as arithmetic.

Measured under ``serve`` on the 720p classroom clip at default worker settings (emotion mode, YuNet every
5th frame): a camera costs :func:`decode_cores` for receiving and decoding its stream whatever it samples
(less for a 5-15 fps substream: the camera's ``stream_fps``), plus ``CORE_SECONDS_PER_FRAME`` for each frame
it processes. ``HEADROOM`` of the cores is planned for, so that capture → stored p95 stays under 2 s;
beyond it frames are dropped and latency grows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.serve.config import CameraSpec

# Receiving and decoding a 720p stream, whatever is sampled from it (benchmarks/capture_decode.py): 0.07 core
# for a 30 fps main stream, 0.032 for a 5 fps substream; a straight line between the two.
DECODE_CORES_BASE = 0.0244
DECODE_CORES_PER_FPS = 0.00152
STREAM_FPS = 30.0  # what a camera sends when its config does not say (stream_fps): a main stream
# One processed 720p frame, every stage, under serve (one compute thread per worker, one-statement track
# updates in the writer): 12 cameras at 5 fps from 5 fps substreams held 5.0 fps on 1.70-1.77 cores of a
# quiet 2-core host, p95 0.58-0.82 s; 4 at 15 fps, 1.47 cores (26 ms a frame before, 36 before that).
CORE_SECONDS_PER_FRAME = 0.023
HEADROOM = 0.9  # plan for 90% of the cores: 12 cameras at 5 fps used 87% with p95 under 1 s
UNSET_FPS = 15.0  # a camera without sample_fps processes all its stream gives: a substream's usual top


def decode_cores(stream_fps: float = STREAM_FPS) -> float:
    """Cores one camera's stream costs to receive and decode at ``stream_fps`` frames a second."""
    return DECODE_CORES_BASE + DECODE_CORES_PER_FPS * stream_fps


def camera_cores(fps: float, stream_fps: float = STREAM_FPS) -> float:
    """Cores one camera processing ``fps`` frames a second of a ``stream_fps`` stream needs."""
    return decode_cores(stream_fps) + CORE_SECONDS_PER_FRAME * min(fps, stream_fps)


def cameras_per_host(fps: float, cores: int, stream_fps: float = STREAM_FPS) -> int:
    """Cameras at ``fps`` (from ``stream_fps`` streams) that ``cores`` hold within the headroom."""
    return int(HEADROOM * cores / camera_cores(fps, stream_fps))


@dataclass(frozen=True)
class Capacity:
    cameras: int
    cores_needed: float
    cores: int
    unset: int  # cameras without sample_fps, counted at UNSET_FPS

    @property
    def over(self) -> bool:
        return self.cores_needed > HEADROOM * self.cores


def camera_fps(spec: CameraSpec) -> float:
    """The frames a second a camera is asked to process (``UNSET_FPS`` when sample_fps is unset or 0)."""
    fps = spec.options.get("sample_fps")
    return float(fps) if fps else UNSET_FPS


def stream_fps(spec: CameraSpec) -> float:
    """The frames a second the camera sends (its ``stream_fps``; else ``STREAM_FPS``, a main stream)."""
    return float(spec.options.get("stream_fps") or STREAM_FPS)


def capacity(cameras: Iterable[CameraSpec], cores: int | None = None) -> Capacity:
    """What ``cameras`` ask of a host with ``cores`` cores (default: this host's ``os.cpu_count()``)."""
    specs = list(cameras)
    cores = cores or os.cpu_count() or 1
    needed = sum(camera_cores(camera_fps(s), stream_fps(s)) for s in specs)
    unset = sum(not s.options.get("sample_fps") for s in specs)
    return Capacity(len(specs), needed, cores, unset)


def capacity_warning(cameras: Iterable[CameraSpec], cores: int | None = None) -> str | None:
    """One line when the cameras ask for more than the host's cores hold by the table; else None."""
    cap = capacity(cameras, cores)
    if not cap.over:
        return None
    unset = f" ({cap.unset} without sample_fps counted at {UNSET_FPS:g} fps)" if cap.unset else ""
    return (
        f"warning: {cap.cameras} camera(s) need about {cap.cores_needed:.1f} cores at these frame rates"
        f"{unset}, more than this host's {cap.cores} cores hold ({HEADROOM * cap.cores:.1f} of them planned; "
        f"docs/benchmarks.md: {cameras_per_host(5, cap.cores)} cameras at 5 fps, "
        f"{cameras_per_host(15, cap.cores)} at 15 fps from 30 fps streams; "
        f"{cameras_per_host(5, cap.cores, 5)} at 5 fps from 5 fps substreams): frames will be dropped; lower "
        "sample_fps, point cameras at their substream (and say so with stream_fps), or move cameras to "
        "another host"
    )
