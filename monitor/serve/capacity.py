"""How many cameras a host's cores hold: the capacity table of ``docs/benchmarks.md`` as arithmetic.

Measured under ``serve`` on the 720p classroom clip at default worker settings (emotion mode, YuNet every
5th frame): a camera costs about ``DECODE_CORES`` of a core for receiving and decoding its stream whatever
it samples, plus ``CORE_SECONDS_PER_FRAME`` for each frame it processes. ``HEADROOM`` of the cores is
planned for, so that capture → stored p95 stays near 2 s; beyond it frames are dropped and latency grows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.serve.config import CameraSpec

DECODE_CORES = 0.07  # a 30 fps 720p stream's decode (benchmarks/capture_decode.py: 71 ms CPU a second)
# One processed 720p frame, every stage, with the detector's region passes: 12 cameras at 5 fps (5 fps
# substreams, 0.032 core each to decode) held 5.0 fps with 1.94 cores on a quiet 2-core host (36 ms before).
CORE_SECONDS_PER_FRAME = 0.026
HEADROOM = 0.8  # plan for 80% of the cores
UNSET_FPS = 15.0  # a camera without sample_fps processes all its stream gives: a substream's usual top


def camera_cores(fps: float) -> float:
    """Cores one camera processing ``fps`` frames a second needs."""
    return DECODE_CORES + CORE_SECONDS_PER_FRAME * fps


def cameras_per_host(fps: float, cores: int) -> int:
    """Cameras at ``fps`` that ``cores`` hold within the headroom."""
    return int(HEADROOM * cores / camera_cores(fps))


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


def capacity(cameras: Iterable[CameraSpec], cores: int | None = None) -> Capacity:
    """What ``cameras`` ask of a host with ``cores`` cores (default: this host's ``os.cpu_count()``)."""
    specs = list(cameras)
    cores = cores or os.cpu_count() or 1
    needed = sum(camera_cores(camera_fps(s)) for s in specs)
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
        f"{cameras_per_host(15, cap.cores)} at 15 fps): frames will be dropped; lower sample_fps or move "
        "cameras to another host"
    )
