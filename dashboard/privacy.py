"""The site's privacy settings applied to everything the dashboard shows.

Attention-only mode: no emotion leaves the server (timelines, tracks and the live feed carry ``null``).
Class-only mode: no per-track rows anywhere (track routes answer 404, the live feed carries none).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from monitor.store.site_settings import all_settings


@dataclass(frozen=True)
class Privacy:
    emotions: bool
    tracks: bool

    @classmethod
    def load(cls, db: Session) -> Privacy:
        s = all_settings(db)
        return cls(emotions=s["mode"] != "attention", tracks=not s["class_only"])

    def timeline_bucket(self, bucket: dict) -> dict:
        return bucket if self.emotions else {**bucket, "emotions": None}

    def track_row(self, row: dict) -> dict:
        return row if self.emotions else {**row, "emotions": None, "dominant": None}

    def live_frame(self, payload: dict) -> dict:
        out = dict(payload)
        if not self.emotions:
            out["distribution"] = None
            out["mode"] = "attention"
            out["tracks"] = [
                {k: v for k, v in t.items() if k not in ("label", "confidence", "probs")}
                for t in payload["tracks"]
            ]
        if not self.tracks:
            out["tracks"] = []
        return out
