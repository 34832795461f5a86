"""The pipeline's typed values, in one place: ``Frame`` → ``Detections`` → ``FrameRecord``.

Capture yields ``Frame``s, the detector and the tracker pass ``Detections`` along, and the pipeline hands a
``FrameRecord`` per frame to whoever stores or publishes it. The store imports these values; this module
imports nothing of the project, so the pipeline never depends on the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

Index = int | slice | list[int] | np.ndarray


@dataclass
class Frame:
    """One image from a source with its position in the source and its UTC timestamp."""

    image: np.ndarray
    index: int  # position in the source (frames read, including skipped ones)
    ts: datetime  # UTC


@dataclass
class Detections:
    """Faces in one frame as parallel arrays, one row per face (after supervision's ``Detections``).

    ``boxes`` is float ``(n, 4)`` x, y, w, h in pixels and ``scores`` ``(n,)``. ``keypoints`` is ``(n, k, 2)``
    (BlazeFace: right eye, left eye, nose tip, mouth, right ear, left ear) or None when the detector gives
    none (Haar). ``track_ids`` ``(n,)`` is None until a tracker fills it; -1 marks a detection that belongs
    to no confirmed track. Indexing with an int, a slice, a list of ints or a boolean mask selects the same
    rows of every field.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray | None = None
    track_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32)
        if self.boxes.size == 0:
            self.boxes = self.boxes.reshape(0, 4)
        if self.boxes.ndim != 2 or self.boxes.shape[1] != 4:
            raise ValueError(f"Detections.boxes must be (n, 4) x, y, w, h; got shape {self.boxes.shape}")
        n = len(self.boxes)
        self.scores = np.asarray(self.scores, np.float32).reshape(-1)
        if self.scores.shape != (n,):
            raise ValueError(f"Detections.scores must have {n} values (one per box); got {self.scores.shape}")
        if self.keypoints is not None:
            self.keypoints = np.asarray(self.keypoints, np.float32)
            if self.keypoints.ndim != 3 or len(self.keypoints) != n or self.keypoints.shape[2] != 2:
                raise ValueError(
                    f"Detections.keypoints must be ({n}, k, 2) or None; got {self.keypoints.shape}"
                )
        if self.track_ids is not None:
            self.track_ids = np.asarray(self.track_ids, np.int64).reshape(-1)
            if self.track_ids.shape != (n,):
                raise ValueError(
                    f"Detections.track_ids must have {n} values or be None; got {self.track_ids.shape}"
                )

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.empty((0, 4), np.float32), np.empty(0, np.float32))

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: Index) -> Detections:
        """The rows at ``index`` of every field (an int keeps one row, as a ``Detections`` of length 1)."""
        if isinstance(index, int | np.integer):
            index = [int(index)]
        if isinstance(index, np.ndarray) and index.dtype == bool and index.shape != (len(self),):
            raise IndexError(f"boolean mask of shape {index.shape} for {len(self)} detections")
        return Detections(
            self.boxes[index],
            self.scores[index],
            None if self.keypoints is None else self.keypoints[index],
            None if self.track_ids is None else self.track_ids[index],
        )


@dataclass
class FrameRecord:
    """Everything stored about one processed frame (arrays have one row per tracked person)."""

    ts: datetime
    frame_index: int
    track_ids: np.ndarray  # (n,) int
    boxes: np.ndarray  # (n, 4) int x, y, w, h
    attention: np.ndarray  # (n,) float in [0, 1]
    probs: np.ndarray | None  # (n, 7) float, None in attention-only mode
    engagement: float
    # Posture (monitor/engagement.py, monitor/posture.py): each person's up, down, away or unknown
    # and the class's shares this frame (heads-up ratio and the rest; see HeadsUp)
    postures: list[str] | None = None
    heads_up: float = 0.0  # shares of the READABLE heads (unknown ones left out; 0 when none is readable)
    heads_down: float = 0.0
    turned_away: float = 0.0
    # the base of those shares: heads read up, down, away, and heads whose posture could not be read
    heads_up_count: int = 0
    heads_down_count: int = 0
    turned_away_count: int = 0
    heads_unknown: int = 0
    warming_up: bool = False  # the first seconds: tracks being confirmed, heads not all read yet
