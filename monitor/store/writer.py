"""Batched writes of a worker's results: observations, per-second rollups and per-track summaries.

A background thread commits everything queued about every ``interval_s`` in one transaction, so frame
processing never waits on the disk. ``close()`` (called on SIGTERM and at the end of the source) writes
what is left; a SIGKILL loses at most the batch in flight.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from datetime import datetime

import numpy as np
from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import OperationalError

from monitor.labels import EMOTIONS
from monitor.stages import FrameRecord  # re-exported: older code imports it from here
from monitor.store.schema import (
    PROB_COLUMNS,
    Camera,
    ClassSession,
    Observation,
    SessionRollup,
    TrackSummary,
    WorkerStatus,
    utcnow,
)

log = logging.getLogger(__name__)


def observation_rows(frame: FrameRecord, session_id: int) -> list[dict]:
    """One ``observations`` row per tracked person of ``frame``."""
    rows = []
    for i in range(len(frame.track_ids)):
        x, y, w, h = (int(v) for v in frame.boxes[i])
        row = {
            "session_id": session_id,
            "ts": frame.ts,
            "frame_index": frame.frame_index,
            "track_id": int(frame.track_ids[i]),
            "x": x,
            "y": y,
            "w": w,
            "h": h,
            "attention": float(frame.attention[i]),
            "posture": None if frame.postures is None else frame.postures[i],
            "top_label": None,
            "confidence": None,
        }
        if frame.probs is None:
            row.update(dict.fromkeys(PROB_COLUMNS))
        else:
            p = frame.probs[i]
            top = int(np.argmax(p))
            row.update({c: float(v) for c, v in zip(PROB_COLUMNS, p, strict=True)})
            row.update(top_label=EMOTIONS[top], confidence=float(p[top]))
        rows.append(row)
    return rows


HEARTBEAT_S = 1.0
"""An idle writer (no frames: a camera reconnecting) still renews its camera's lease this often."""


class LeaseLost(Exception):
    """The camera's lease belongs to another worker now."""


class ObservationWriter:
    """Queue frames from the capture loop; a thread writes them in batched transactions."""

    def __init__(
        self,
        engine: Engine,
        session_id: int,
        camera_id: int,
        interval_s: float = 0.5,
        lease_token: str | None = None,
    ) -> None:
        self.engine = engine
        self.session_id = session_id
        self.camera_id = camera_id
        self.interval_s = interval_s
        self.frames_written = 0
        self.rows_written = 0
        self.batches = 0
        self.errors = 0
        self._tracks_seen: set[int] = set()
        self.lease_token = lease_token
        self.lease_lost = False  # another worker took the camera: nothing more is written
        self._last_beat = 0.0
        self._queue: queue.SimpleQueue[FrameRecord] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._pending: list[FrameRecord] = []
        self._worker_status: dict | None = None
        self._camera_status: tuple[str, str] | None = None
        self._lock = threading.Lock()  # one flush at a time
        self._thread = threading.Thread(target=self._run, name="observation-writer", daemon=True)
        self._thread.start()

    def add(self, frame: FrameRecord) -> None:
        self._queue.put(frame)

    def set_worker_status(self, **fields) -> None:
        """Heartbeat fields for ``worker_status``, written with the next batch."""
        self._worker_status = fields

    def set_camera_status(self, status: str, detail: str) -> None:
        """Camera state (online, reconnecting, offline), written with the next batch."""
        self._camera_status = (status, detail)

    def close(self) -> None:
        """Write everything queued, then stop the thread."""
        self._stop.set()
        self._thread.join()
        self.flush()

    def flush(self) -> None:
        """Write what is queued now, in one transaction; on failure keep it for the next try."""
        with self._lock:
            while True:
                try:
                    self._pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            worker_status, camera_status = self._worker_status, self._camera_status
            idle = not self._pending and worker_status is None and camera_status is None
            # An idle writer still beats once a second (a camera reconnecting is a live worker).
            if self.lease_lost or (idle and time.monotonic() - self._last_beat < HEARTBEAT_S):
                return
            batch = self._pending
            try:
                self._write(batch, worker_status, camera_status)
                self._last_beat = time.monotonic()
            except LeaseLost:
                self.lease_lost = True
                log.error(
                    "camera %d: another worker took this camera over; %d frames dropped",
                    self.camera_id,
                    len(batch),
                )
                self._pending = []
                return
            except OperationalError as exc:
                self.errors += 1
                log.warning("batch of %d frames not written yet, will retry: %s", len(batch), exc.orig)
                return
            self._pending = []
            if self._worker_status is worker_status:
                self._worker_status = None
            if self._camera_status is camera_status:
                self._camera_status = None
            if not batch:
                return
            self.batches += 1
            self.frames_written += len(batch)
            self.rows_written += sum(len(f.track_ids) for f in batch)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

    def _write(
        self, batch: list[FrameRecord], worker_status: dict | None, camera_status: tuple[str, str] | None
    ) -> None:
        rows = [r for f in batch for r in observation_rows(f, self.session_id)]
        rollups = _rollups(batch)
        tracks = _track_deltas(batch)
        new_tracks = set(tracks) - self._tracks_seen
        with self.engine.begin() as conn:
            now = utcnow()
            if self.lease_token is not None:
                # The heartbeat renews the camera's lease; no lease, no writes (one writer per camera).
                beat = conn.execute(
                    update(WorkerStatus)
                    .where(WorkerStatus.camera_id == self.camera_id)
                    .where(WorkerStatus.lease_owner == self.lease_token)
                    .values(**(worker_status or {}), last_heartbeat=now)
                )
                if beat.rowcount != 1:
                    raise LeaseLost
            if rows:
                conn.execute(insert(Observation), rows)
            for bucket, delta in rollups.items():
                _upsert_add(
                    conn, SessionRollup, {"session_id": self.session_id, "bucket_start": bucket}, delta
                )
            for track_id, (first, last, delta) in tracks.items():
                key = {"session_id": self.session_id, "track_id": track_id}
                if not _add_to(conn, TrackSummary, key, delta, last_seen=last):
                    conn.execute(
                        insert(TrackSummary), [{**key, "first_seen": first, "last_seen": last, **delta}]
                    )
            if worker_status is not None and self.lease_token is None:
                conn.execute(
                    update(WorkerStatus)
                    .where(WorkerStatus.camera_id == self.camera_id)
                    .values(**worker_status, last_heartbeat=now)
                )
            cam_values: dict = {"last_heartbeat": now}
            if camera_status is not None:
                cam_values.update(status=camera_status[0], status_detail=camera_status[1])
            conn.execute(update(Camera).where(Camera.id == self.camera_id).values(**cam_values))
            if not batch:
                return
            conn.execute(
                update(ClassSession)
                .where(ClassSession.id == self.session_id)
                .values(
                    frames=ClassSession.frames + len(batch),
                    faces=ClassSession.faces + len(rows),
                    tracks=ClassSession.tracks + len(new_tracks),
                )
            )
        self._tracks_seen |= new_tracks


def _sums(frame_probs: np.ndarray | None, attention: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = {"attention_sum": float(attention.sum())}
    if frame_probs is None:
        out.update(dict.fromkeys(PROB_COLUMNS))
    else:
        out.update({c: float(v) for c, v in zip(PROB_COLUMNS, frame_probs.sum(axis=0), strict=True)})
    return out


def _merge(into: dict, delta: dict) -> None:
    for k, v in delta.items():
        into[k] = v if into.get(k) is None else (into[k] if v is None else into[k] + v)


def _rollups(batch: list[FrameRecord]) -> dict[datetime, dict]:
    out: dict[datetime, dict] = defaultdict(dict)
    for f in batch:
        bucket = f.ts.replace(microsecond=0)
        delta = {"frames": 1, "faces": len(f.track_ids), "engagement_sum": f.engagement}
        delta.update(heads_up_sum=f.heads_up, heads_down_sum=f.heads_down, turned_away_sum=f.turned_away)
        delta.update(_sums(f.probs, f.attention))
        _merge(out[bucket], delta)
    return out


def _track_deltas(batch: list[FrameRecord]) -> dict[int, tuple[datetime, datetime, dict]]:
    out: dict[int, tuple[datetime, datetime, dict]] = {}
    for f in batch:
        for i, tid in enumerate(int(t) for t in f.track_ids):
            probs = None if f.probs is None else f.probs[i : i + 1]
            delta = {"observations": 1, **_sums(probs, f.attention[i : i + 1])}
            if tid in out:
                first, _, acc = out[tid]
                _merge(acc, delta)
                out[tid] = (first, f.ts, acc)
            else:
                out[tid] = (f.ts, f.ts, delta)
    return out


def _add_to(conn, table, key: dict, delta: dict, **assign) -> bool:
    """``UPDATE table SET col = col + delta`` for the row at ``key``; False when there is no such row."""
    values = {k: (getattr(table, k) + v) if v is not None else getattr(table, k) for k, v in delta.items()}
    stmt = update(table).values(**values, **assign)
    for k, v in key.items():
        stmt = stmt.where(getattr(table, k) == v)
    return conn.execute(stmt).rowcount > 0


def _upsert_add(conn, table, key: dict, delta: dict) -> None:
    # Portable upsert: this worker is the only writer of its session, so UPDATE-then-INSERT cannot race.
    if not _add_to(conn, table, key, delta):
        conn.execute(insert(table), [{**key, **delta}])
