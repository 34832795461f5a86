"""The live feed: one summary per processed frame, and the ways it reaches the dashboard.

By default the dashboard polls the database for the newest frame of each running session (no extra
service). Where a Redis URL is configured the worker also emits each summary through python-socketio's
Redis manager (the message queue Flask-SocketIO listens on), so it reaches browsers without polling.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from monitor.heads import HeadCount
from monitor.labels import EMOTIONS, FACES_TOO_SMALL

LIVE_EVENT = "frame"
log = logging.getLogger(__name__)


def camera_room(camera_id: int) -> str:
    """The Socket.IO room that carries one camera's live summaries."""
    return f"camera-{camera_id}"


def frame_summary(
    *,
    camera_id: int,
    session_id: int,
    ts: datetime,
    frame_index: int,
    tracks: Sequence[dict],
    engagement: float | None,
    mode: str,
    heads_up: float | None = None,
    warming_up: bool = False,
) -> dict:
    """Build the JSON-ready live summary of one frame.

    Each track dict has ``track_id``, ``box`` (x, y, w, h), ``attention`` and, in emotion mode, ``probs``
    (7 floats in EMOTIONS order; None or NaN: a face too small to read). The class distribution is the mean
    of the readable tracks' probabilities; in emotion mode with faces in view but none readable there is none,
    and ``expression_note`` says "faces too small to read expressions" instead.
    A track may carry its ``posture`` (up, down, away, unknown); then ``heads_up`` is the share of the
    READABLE heads that are up, ``heads`` gives its base (counts and "2 of 14 readable heads up; 12 not
    readable") and ``heads_up`` is None when no head could be read, never 0. Without postures ``heads_up``
    is taken as given. A class figure, kept in class-only mode. ``warming_up``: the first seconds of a run,
    tracks not yet confirmed and heads not yet read (the live view says so instead of figures).
    """
    emotion = mode == "emotion"
    rows = []
    dist = [0.0] * len(EMOTIONS)
    readable = 0
    for t in tracks:
        probs = t.get("probs") if emotion else None
        if probs is not None and any(p is None or p != p for p in probs):  # NaN: too small to read
            probs = None
        row = {
            "track_id": int(t["track_id"]),
            "box": [int(v) for v in t["box"]],
            "attention": round(float(t["attention"]), 3),
        }
        if t.get("posture"):
            row["posture"] = t["posture"]
        if probs is not None:
            top = max(range(len(EMOTIONS)), key=lambda i: probs[i])
            row.update(
                label=EMOTIONS[top],
                confidence=round(float(probs[top]), 4),
                probs={e: round(float(p), 4) for e, p in zip(EMOTIONS, probs, strict=True)},
            )
            dist = [d + float(p) for d, p in zip(dist, probs, strict=True)]
            readable += 1
        rows.append(row)
    n = len(rows)
    heads = None
    if any("posture" in r for r in rows):
        counts = {k: sum(r.get("posture") == k for r in rows) for k in ("up", "down", "away")}
        readable_heads = sum(counts.values())
        count = HeadCount(1, counts["up"], counts["down"], counts["away"], n - readable_heads)
        heads_up = count.heads_up
        heads = {**counts, "unknown": n - readable_heads, "readable": readable_heads, "text": count.text()}
    distribution = None
    if emotion and readable:
        distribution = {e: round(d / readable, 4) for e, d in zip(EMOTIONS, dist, strict=True)}
    return {
        "camera_id": camera_id,
        "session_id": session_id,
        "ts": ts.isoformat(timespec="milliseconds"),
        "frame_index": frame_index,
        "faces": n,
        "mode": mode,
        "engagement": None if engagement is None else round(float(engagement), 4),
        "heads_up": None if heads_up is None else round(float(heads_up), 4),
        "heads": heads,
        "warming_up": bool(warming_up),
        "distribution": distribution,
        "readable_faces": readable if emotion else None,
        "expression_note": FACES_TOO_SMALL if emotion and n and not readable else None,
        "tracks": rows,
    }


class LivePublisher:
    """Emits frame summaries to Flask-SocketIO's Redis message queue (write-only, no Flask needed)."""

    def __init__(self, redis_url: str, channel: str = "flask-socketio") -> None:
        import socketio  # python-socketio; imported here so the worker only needs it with Redis

        self._mgr = socketio.RedisManager(redis_url, channel=channel, write_only=True)

    def publish(self, summary: dict) -> None:
        try:
            self._mgr.emit(LIVE_EVENT, summary, room=camera_room(summary["camera_id"]), namespace="/")
        except Exception as exc:  # the live feed must never stop the worker
            log.warning("live feed: could not publish to Redis: %s", exc)
