"""The site's privacy settings applied to everything that leaves the store: pages, API, live feed, exports.

Attention-only mode: no emotion leaves the server (timelines, tracks, the live feed and every export carry
none), and neither does the engagement index of a lesson recorded with emotions, which blends in an
expression term (``monitor.engagement``): ``for_lesson`` says so per lesson.
Class-only mode: no per-track rows anywhere (track routes answer 404, the live feed and the exports
carry none). The worker's live publish applies the same per-lesson filter as the dashboard's poller
(``monitor.views.lesson.live_frame``), and infers no emotion at all in attention-only mode.

Private to ``monitor.views``: everything outside reads through an ``Audience`` and the views
(``tests/monitor/test_imports.py`` holds it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

TRACK_EMOTION_KEYS = ("emotions", "dominant")
"""The keys of a per-track summary row that carry emotions."""


@dataclass(frozen=True)
class Privacy:
    emotions: bool
    tracks: bool
    engagement: bool = True

    @classmethod
    def from_settings(cls, site: dict[str, Any]) -> Privacy:
        return cls(emotions=site["mode"] != "attention", tracks=not site["class_only"])

    def shows_emotions(self, recorded_mode: str) -> bool:
        """THE rule for a lesson's emotions: shown only if it ran in emotion mode (``ClassSession.mode``)
        and the site allows emotions now. Every page, feed and export asks this, and nothing else."""
        return self.emotions and recorded_mode == "emotion"

    def shown_mode(self, recorded_mode: str) -> str:
        """``"emotion"`` when a lesson's emotions may be shown (``shows_emotions``), else ``"attention"``."""
        return "emotion" if self.shows_emotions(recorded_mode) else "attention"

    def for_lesson(self, recorded_mode: str) -> Privacy:
        """These rules for one lesson: its engagement index is withheld in attention-only mode when the
        lesson was recorded with emotions (``ClassSession.mode``), since expressions went into it."""
        return replace(self, engagement=self.emotions or recorded_mode != "emotion")

    def timeline_bucket(self, bucket: dict) -> dict:
        out = bucket if self.emotions else {**bucket, "emotions": None}
        return out if self.engagement else {**out, "engagement": None}

    def track_row(self, row: dict, recorded_mode: str) -> dict:
        """A per-track summary row of a lesson recorded in ``recorded_mode``: its emotion keys None unless
        the lesson's emotions may be shown (``shows_emotions``)."""
        return row if self.shows_emotions(recorded_mode) else {**row, **dict.fromkeys(TRACK_EMOTION_KEYS)}

    def track_bucket(self, bucket: dict) -> dict:
        """One bucket of a track's timeline for the API: its emotions None when emotions are off."""
        return bucket if self.emotions else {**bucket, "emotions": None}

    def live_frame(self, payload: dict) -> dict:
        out = dict(payload)
        if not self.emotions:
            out["distribution"] = None
            out["readable_faces"] = out["expression_note"] = None
            out["mode"] = "attention"
            out["tracks"] = [
                {k: v for k, v in t.items() if k not in ("label", "confidence", "probs")}
                for t in payload["tracks"]
            ]
        if not self.tracks:
            out["tracks"] = []
        if not self.engagement:
            out["engagement"] = None
        return out
