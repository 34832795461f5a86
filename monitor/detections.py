"""Kept for older imports: ``Detections`` lives in ``monitor.stages`` with the other stage values."""

from monitor.stages import Detections

__all__ = ["Detections"]
