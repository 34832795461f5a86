"""Face detectors by name. ``make_detector(name)`` builds one; ``DETECTORS`` lists the names.

Measured side by side on real classroom footage by ``benchmarks/detectors.py`` (table in the README,
"Detection on a real classroom camera"). Every detector returns ``Detections`` with boxes in frame pixels;
the model-based ones also give keypoints ``(n, 6, 2)`` in BlazeFace's layout (right eye, left eye, nose tip,
mouth centre, right ear, left ear), where YuNet and CenterFace, which have no ear points, give NaN ears.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.detectors.base import DetectorError, FaceDetector
from monitor.detectors.blazeface import BlazeFaceDetector, ssd_anchors
from monitor.detectors.centerface import CenterFaceDetector
from monitor.detectors.haar import HaarFaceDetector
from monitor.detectors.yunet import YuNetDetector

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "BlazeFaceDetector",
    "CenterFaceDetector",
    "DetectorError",
    "FaceDetector",
    "HaarFaceDetector",
    "YuNetDetector",
    "make_detector",
    "ssd_anchors",
]

_FACTORIES: dict[str, Callable[[], FaceDetector]] = {
    "yunet": lambda: YuNetDetector("yunet", work_width=960),
    "yunet-fast": lambda: YuNetDetector("yunet-fast", work_width=640),
    "blazeface-tiled": lambda: BlazeFaceDetector("blazeface-tiled", "full", tile=192, whole=True),
    "blazeface-short-tiled": lambda: BlazeFaceDetector(
        "blazeface-short-tiled", "short", tile=128, whole=True
    ),
    "centerface": lambda: CenterFaceDetector("centerface", upscale=1.0),
    "blazeface": lambda: BlazeFaceDetector("blazeface", "full", tile=640),
    "blazeface-short": lambda: BlazeFaceDetector("blazeface-short", "short", tile=640),
    "haar": HaarFaceDetector,
}
DETECTORS = tuple(_FACTORIES)
DEFAULT_DETECTOR = "yunet"


def make_detector(name: str = DEFAULT_DETECTOR) -> FaceDetector:
    """Build a detector by name (one of ``DETECTORS``); ``DetectorError`` for an unknown name."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise DetectorError(f"unknown detector {name!r}; choose one of: {', '.join(DETECTORS)}")
    return factory()
