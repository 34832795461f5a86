"""Shared checks of the report tests."""

from __future__ import annotations

import re

EMOTION_WORDS = re.compile(
    r"\b(emotions?|emotional|expressions?|mood|moods|angry|disgust|fear|happy|sad|surprise|neutral|"
    r"p_angry|p_disgust|p_fear|p_happy|p_sad|p_surprise|p_neutral|top_label)\b",
    re.IGNORECASE,
)


def emotion_words(text: str) -> list[str]:
    """Every emotion-related word in ``text`` (attention-only reports must have none)."""
    return EMOTION_WORDS.findall(text)
