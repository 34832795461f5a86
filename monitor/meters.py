"""Small running measurements for the worker's heartbeat: frames per second and capture-to-store latency."""

from __future__ import annotations

import math
import threading
from collections import deque

FPS_WINDOW = 120
"""Frames over which the heartbeat's fps is measured."""
LATENCY_WINDOW_S = 60.0
"""Latency percentiles cover the frames stored in the last minute."""


class FpsMeter:
    """Frames per second over the last ``window`` frames (monotonic seconds in)."""

    def __init__(self, window: int = FPS_WINDOW) -> None:
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, now: float) -> None:
        self._times.append(now)

    @property
    def fps(self) -> float | None:
        if len(self._times) < 2:
            return None
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else None


class LatencyWindow:
    """Latencies (seconds) of the last ``window_s`` seconds; p50/p95 in milliseconds. Thread-safe: the
    writer thread adds, the worker's loop reads."""

    def __init__(self, window_s: float = LATENCY_WINDOW_S, max_samples: int = 20_000) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)
        self._lock = threading.Lock()

    def add(self, now: float, latency_s: float) -> None:
        with self._lock:
            self._samples.append((now, latency_s))

    def percentiles_ms(self, now: float) -> tuple[float | None, float | None]:
        """(p50, p95) of the samples younger than the window; (None, None) when there are none."""
        with self._lock:
            while self._samples and now - self._samples[0][0] > self.window_s:
                self._samples.popleft()
            values = sorted(s for _, s in self._samples)
        if not values:
            return None, None
        return _pick(values, 0.50) * 1000.0, _pick(values, 0.95) * 1000.0


def _pick(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` (nearest rank)."""
    return values[min(len(values), max(1, math.ceil(q * len(values)))) - 1]
