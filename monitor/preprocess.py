"""The one face-crop preprocessing function used by both training and the worker.

Training and inference must see identical inputs, so this is the only place that turns a face crop into
the CNN's input: grey, 48x48, float32 scaled to [0, 1], shape ``(N, 48, 48, 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

FACE_SIZE = 48
"""Side of the square grey input the emotion CNN takes."""


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return a single-channel uint8 view of a BGR, BGRA or grey image."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def preprocess_faces(crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Turn face crops (any size, grey or BGR, uint8) into a ``(N, 48, 48, 1)`` float32 batch in [0, 1].

    A ``(N, 48, 48)`` uint8 array (a FER2013 batch) is accepted as is and only rescaled.
    """
    if isinstance(crops, np.ndarray) and crops.ndim == 3 and crops.shape[1:] == (FACE_SIZE, FACE_SIZE):
        batch = crops
    else:
        batch = np.empty((len(crops), FACE_SIZE, FACE_SIZE), dtype=np.uint8)
        for i, crop in enumerate(crops):
            gray = to_gray(crop)
            # INTER_AREA is the right filter for shrinking; faces are almost always larger than 48 px.
            interp = cv2.INTER_AREA if min(gray.shape[:2]) >= FACE_SIZE else cv2.INTER_LINEAR
            batch[i] = cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interp)
    return (batch.astype(np.float32) * (1.0 / 255.0))[..., None]


def crop_face(frame: np.ndarray, box: Sequence[float], margin: float = 0.0) -> np.ndarray:
    """Cut ``box`` = (x, y, w, h) out of ``frame``, grown by ``margin`` of its size, clipped to the frame."""
    x, y, w, h = box
    mx, my = w * margin, h * margin
    x0 = max(int(round(x - mx)), 0)
    y0 = max(int(round(y - my)), 0)
    x1 = min(int(round(x + w + mx)), frame.shape[1])
    y1 = min(int(round(y + h + my)), frame.shape[0])
    return frame[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)]
