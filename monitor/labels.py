"""The emotion label set, shared by training and inference (FER2013 order)."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER2013 class order: index i of a probability vector is ``EMOTIONS[i]``."""

N_EMOTIONS = len(EMOTIONS)
