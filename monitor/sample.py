"""The built-in sample source: a SYNTHETIC classroom generated at run time, for demos without a camera.

No footage ships with the project. Frames are composed from the astronaut portrait that scikit-image ships
(public domain, NASA): several copies at different places and sizes on a plain background, swaying and now
and then turning away, so that detection, tracking, attention and the dashboard have something to show.
The frame is stamped "SYNTHETIC SAMPLE".
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import cv2
import numpy as np

from monitor.stages import Frame

WIDTH, HEIGHT = 960, 540
# (centre x, centre y, face height in px, phase) of each synthetic "student"
SEATS = [
    (160, 170, 110, 0.0),
    (400, 160, 100, 1.3),
    (640, 175, 105, 2.1),
    (860, 165, 90, 3.4),
    (270, 390, 120, 4.2),
    (540, 400, 125, 5.0),
    (790, 395, 115, 0.7),
]


def _portrait() -> np.ndarray:
    from skimage import data

    rgb = data.astronaut()  # 512x512, face roughly in the upper middle
    face = rgb[20:300, 120:340]
    return cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2BGR)


def grid_seats(cols: int, rows: int, width: int, height: int, face: int) -> list[tuple[int, int, int, float]]:
    """Seats on a regular grid (for benchmarks with many faces)."""
    return [
        (int((c + 0.5) * width / cols), int((r + 0.5) * height / rows), face, 0.9 * (r * cols + c))
        for r in range(rows)
        for c in range(cols)
    ]


class SyntheticClassroom:
    def __init__(
        self, width: int = WIDTH, height: int = HEIGHT, seats: list[tuple[int, int, int, float]] | None = None
    ) -> None:
        self.width, self.height = width, height
        self.seats = seats or SEATS
        self.portrait = _portrait()
        self.background = np.full((height, width, 3), (92, 110, 128), np.uint8)
        cv2.rectangle(self.background, (0, height - 90), (width, height), (60, 75, 95), -1)

    def render(self, t: float) -> np.ndarray:
        frame = self.background.copy()
        ph, pw = self.portrait.shape[:2]
        for i, (cx, cy, size, phase) in enumerate(self.seats):
            # Every ~20 s each student looks away for a few seconds (squeezed = turned head).
            turn = max(0.0, math.sin(t / 3.2 + phase * 1.7)) ** 8
            scale = size / ph * 1.6
            w = max(int(pw * scale * (1.0 - 0.6 * turn)), 8)
            h = int(ph * scale)
            img = cv2.resize(self.portrait, (w, h), interpolation=cv2.INTER_AREA)
            if i % 2:
                img = img[:, ::-1]
            img = cv2.convertScaleAbs(img, alpha=0.85 + 0.1 * (i % 3), beta=0)
            x = int(cx + 12 * math.sin(t * 0.9 + phase) - w / 2)
            y = int(cy + 6 * math.sin(t * 1.3 + phase) - h / 2)
            x0, y0 = max(x, 0), max(y, 0)
            x1, y1 = min(x + w, self.width), min(y + h, self.height)
            frame[y0:y1, x0:x1] = img[y0 - y : y1 - y, x0 - x : x1 - x]
        cv2.putText(frame, "SYNTHETIC SAMPLE", (12, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        return frame

    def frames(self, stop: threading.Event, fps: float) -> Iterator[Frame]:
        start = time.monotonic()
        index = 0
        while not stop.is_set():
            t = index / fps
            delay = start + t - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            yield Frame(self.render(t), index, datetime.now(UTC))
            index += 1
