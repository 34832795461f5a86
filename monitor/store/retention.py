"""Retention: delete what is older than N days (observations, per-second rollups, track summaries).

Sessions themselves (label, times, counts) are kept, so the list of past lessons stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete

from monitor.store.schema import Observation, SessionRollup, TrackSummary, utcnow


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime | None
    observations: int = 0
    rollups: int = 0
    track_summaries: int = 0

    def as_dict(self) -> dict:
        return {
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(timespec="seconds"),
            "observations": self.observations,
            "rollups": self.rollups,
            "track_summaries": self.track_summaries,
        }


def purge_older_than(engine: Engine, days: int, now: datetime | None = None) -> PurgeResult:
    """Delete rows older than ``days`` days before ``now`` in one transaction; ``days=0`` keeps all.

    Pass a writer engine (``make_engine(url, writer=True)``) so SQLite takes the write lock up front.
    """
    if days < 0:
        raise ValueError("days must be 0 (keep everything) or more")
    if days == 0:
        return PurgeResult(cutoff=None)
    cutoff = (now or utcnow()) - timedelta(days=days)
    with engine.begin() as conn:
        obs = conn.execute(delete(Observation).where(Observation.ts < cutoff)).rowcount
        rollups = conn.execute(delete(SessionRollup).where(SessionRollup.bucket_start < cutoff)).rowcount
        tracks = conn.execute(delete(TrackSummary).where(TrackSummary.last_seen < cutoff)).rowcount
    return PurgeResult(cutoff=cutoff, observations=obs, rollups=rollups, track_summaries=tracks)
