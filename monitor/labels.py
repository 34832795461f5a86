"""The emotion label set, shared by training and inference (FER2013 order)."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013 class order: index i of a probability vector is ``EMOTIONS[i]``."""

N_EMOTIONS = len(EMOTIONS)

FACES_TOO_SMALL = "faces too small to read expressions"
"""What the live view and the reports say, instead of a class mood, when no face in view is large enough for
the expression model to read (``min_face_px``, ``monitor.classify``)."""
