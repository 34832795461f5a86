"""How many threads one process's compute libraries use.

A worker alone on a host may use every core for one frame (YuNet's OpenMP, OpenCV's own pool). Under
``serve`` a host runs one worker per camera, and splitting each frame over threads that other workers'
frames already keep busy costs CPU: YuNet on 2 threads took 3-4 ms more CPU a frame than on 1, and 12
cameras at 5 fps on 2 cores went from p95 2.3-5.1 s to 1.7-2.6 s with one thread each
(``docs/benchmarks.md``, "Capacity per host"). So ``serve`` shares the cores out
(:func:`threads_per_worker`) through ``OMP_NUM_THREADS``, the variable OpenMP itself reads, and the worker
applies the same number to OpenCV (:func:`apply_thread_limit`).
"""

from __future__ import annotations

import os

THREADS_ENV = "OMP_NUM_THREADS"


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """The host's cores shared among ``workers`` (at least one thread each)."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(workers, 1))


def thread_env(workers: int, environ: dict[str, str] | None = None) -> dict[str, str]:
    """``OMP_NUM_THREADS`` for a worker among ``workers``; nothing when the admin already set it."""
    environ = os.environ if environ is None else environ
    if environ.get(THREADS_ENV, "").strip():
        return {}
    return {THREADS_ENV: str(threads_per_worker(workers))}


def thread_limit(environ: dict[str, str] | None = None) -> int | None:
    """The thread count ``OMP_NUM_THREADS`` asks for, or None when unset or not a whole number above 0."""
    value = (os.environ if environ is None else environ).get(THREADS_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def apply_thread_limit() -> int | None:
    """Give OpenCV the thread count ``OMP_NUM_THREADS`` sets (OpenMP reads it itself); the count, or None."""
    n = thread_limit()
    if n is not None:
        import cv2

        cv2.setNumThreads(n)
    return n
