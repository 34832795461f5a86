"""The heartbeat's figures: fps over recent frames, latency percentiles over the last minute."""

from __future__ import annotations

import pytest

from monitor.meters import FpsMeter, LatencyWindow


def test_fps_counts_intervals_over_the_window() -> None:
    meter = FpsMeter(window=5)
    assert meter.fps is None
    for i in range(20):
        meter.tick(100.0 + i * 0.1)
    assert meter.fps == pytest.approx(10.0)


def test_latency_percentiles_cover_only_the_last_window() -> None:
    window = LatencyWindow(window_s=60.0)
    assert window.percentiles_ms(0.0) == (None, None)
    for i in range(100):  # 1 ms .. 100 ms
        window.add(10.0, (i + 1) / 1000)
    assert window.percentiles_ms(10.0) == pytest.approx((50.0, 95.0))
    window.add(50.0, 2.0)
    assert window.percentiles_ms(71.0) == pytest.approx((2000.0, 2000.0))  # the old samples aged out
