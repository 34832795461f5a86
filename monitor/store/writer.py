"""Batched writes of a worker's results: observations, per-second rollups and per-track summaries.

A background thread commits everything queued about every ``interval_s`` in one transaction, so frame
processing never waits on the disk. ``close()`` (called on SIGTERM and at the end of the source) writes
what is left; a SIGKILL loses at most the batch in flight. Each frame is stored in the session that was
current when it was added (``begin_session`` switches; a scheduled worker has none between lessons), and
the time from its capture to its commit feeds ``latency`` (the heartbeat's p50/p95).

While the database refuses writes (a full disk, a lock that never clears) frames wait in memory, at most
``max_pending_frames`` of them: past that the oldest are dropped, and at ``close()`` whatever still cannot be
written is given up too. Both are counted in ``frames_lost``, logged, and written with the heartbeat (a lone
heartbeat is a small update that a full SQLite file usually still takes), so ``status`` and health show them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from datetime import datetime

import numpy as np
from sqlalchemy import Engine, bindparam, func, insert, update
from sqlalchemy.exc import OperationalError

from monitor.heads import HEAD_COUNT_COLUMNS
from monitor.labels import EMOTIONS
from monitor.meters import LatencyWindow
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
from monitor.store.sessions import LeaseLost, beat

__all__ = ["FrameRecord", "LeaseLost", "ObservationWriter", "observation_rows"]

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
        if frame.probs is None or np.isnan(frame.probs[i]).any():  # attention-only, or too small to read
            row.update(dict.fromkeys(PROB_COLUMNS))
        else:
            p = frame.probs[i]
            top = int(np.argmax(p))
            row.update({c: float(v) for c, v in zip(PROB_COLUMNS, p, strict=True)})
            row.update(top_label=EMOTIONS[top], confidence=float(p[top]))
        rows.append(row)
    return rows


Queued = tuple[int, FrameRecord, float | None]
"""A frame waiting to be written: its session, the record, its capture time (monotonic) if known."""


HEARTBEAT_S = 1.0
"""An idle writer (no frames: a camera reconnecting) still renews its camera's lease this often."""

MAX_PENDING_FRAMES = 3000
"""Frames kept in memory while the database refuses writes (5 minutes at 10 fps); older ones are dropped."""

CLOSE_ATTEMPTS = 3
CLOSE_RETRY_S = 1.0
"""``close()`` tries the last batch this often, this far apart, before it gives the frames up as lost."""


class ObservationWriter:
    """Queue frames from the capture loop; a thread writes them in batched transactions."""

    def __init__(
        self,
        engine: Engine,
        session_id: int | None,
        camera_id: int,
        interval_s: float = 0.5,
        lease_token: str | None = None,
        loop_stall_s: float = 15.0,
        max_pending_frames: int = MAX_PENDING_FRAMES,
    ) -> None:
        self.engine = engine
        self.session_id = session_id
        self.camera_id = camera_id
        self.interval_s = interval_s
        self.frames_written = 0
        self.rows_written = 0
        self.batches = 0
        self.errors = 0
        self.max_pending_frames = max(1, max_pending_frames)
        self.frames_lost = 0  # processed, never stored: the database refused them for too long
        self.peak_pending = 0  # the most frames that ever waited in memory for a write
        self.store_error: str | None = None  # why, while writes fail or once frames were lost
        self._failing = False  # the last write was refused: the backlog is bounded only while this holds
        self._tracks_seen: set[tuple[int, int]] = set()  # (session, track)
        self.latency = LatencyWindow()
        self.lease_token = lease_token
        self.lease_lost = False  # another worker took the camera: nothing more is written
        self._last_beat = 0.0
        # The loop hands over heartbeat figures every second; without them for ``loop_stall_s`` the worker
        # is stuck, and the writer stops beating for it so that a supervisor sees the stall and restarts it.
        self.loop_stall_s = loop_stall_s
        self._status_at = time.monotonic()
        self._queue: queue.SimpleQueue[Queued] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._pending: list[Queued] = []
        self._worker_status: dict | None = None
        self._camera_status: tuple[str, str] | None = None
        self._lock = threading.Lock()  # one flush at a time
        self._thread = threading.Thread(target=self._run, name="observation-writer", daemon=True)
        self._thread.start()

    def begin_session(self, session_id: int | None) -> None:
        """Frames added from now on belong to ``session_id`` (None: no session, nothing may be added)."""
        self.session_id = session_id

    def add(self, frame: FrameRecord, captured: float | None = None) -> None:
        """Queue ``frame`` for the current session; ``captured``: its capture time (``time.monotonic()``)."""
        if self.session_id is None:
            raise RuntimeError("no session is open: nothing may be stored")
        self._queue.put((self.session_id, frame, captured))

    def set_worker_status(self, **fields) -> None:
        """Heartbeat fields for ``worker_status``, written with the next batch."""
        self._worker_status = fields
        self._status_at = time.monotonic()

    def set_camera_status(self, status: str, detail: str) -> None:
        """Camera state (online, reconnecting, offline), written with the next batch."""
        self._camera_status = (status, detail)

    @property
    def pending(self) -> int:
        """Frames waiting in memory for a write that has not succeeded yet."""
        return len(self._pending) + self._queue.qsize()

    def close(self) -> None:
        """Write everything queued, then stop the thread; what the database still refuses after a few tries
        is counted in ``frames_lost``."""
        self._stop.set()
        self._thread.join()
        for attempt in range(CLOSE_ATTEMPTS):
            if attempt:
                time.sleep(CLOSE_RETRY_S)
            self.flush()
            if not self._pending or self.lease_lost:
                return
        with self._lock:
            lost, self._pending = len(self._pending), []
            self.frames_lost += lost
        log.error(
            "camera %d: %d frames could not be stored and are lost (%d in all): %s",
            self.camera_id,
            lost,
            self.frames_lost,
            self.store_error,
        )
        self._beat_only(self._worker_status)

    def _drop_oldest(self) -> None:
        """Keep at most ``max_pending_frames`` waiting: the oldest go, counted in ``frames_lost``."""
        excess = len(self._pending) - self.max_pending_frames
        if excess <= 0:
            self.peak_pending = max(self.peak_pending, len(self._pending))
            return
        del self._pending[:excess]
        self.frames_lost += excess
        self.peak_pending = self.max_pending_frames
        log.error(
            "camera %d: the database refuses writes (%s); dropped the %d oldest unstored frames, "
            "%d lost so far",
            self.camera_id,
            self.store_error,
            excess,
            self.frames_lost,
        )

    def _loss_fields(self) -> dict:
        return {"frames_lost": self.frames_lost, "store_error": self.store_error}

    def _beat_only(self, worker_status: dict | None) -> None:
        """A heartbeat alone (lease, status, frames lost) when the batch cannot be written: a small update
        that a full disk usually still takes, so the worker stays visible and keeps its camera."""
        if self.lease_lost:
            return
        fields = {**(worker_status or {}), **self._loss_fields()}
        try:
            with self.engine.begin() as conn:
                now = utcnow()
                if self.lease_token is not None:
                    beat(conn, self.camera_id, self.lease_token, now, fields)
                else:
                    conn.execute(
                        update(WorkerStatus)
                        .where(WorkerStatus.camera_id == self.camera_id)
                        .values(**fields, last_heartbeat=now)
                    )
        except LeaseLost:
            self.lease_lost = True
        except OperationalError as exc:
            log.debug("heartbeat not written either: %s", exc.orig)

    def flush(self) -> None:
        """Write what is queued now, in one transaction; on failure keep it for the next try."""
        with self._lock:
            while True:
                try:
                    self._pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._failing:  # a healthy writer stores whatever one interval brought, however many
                self._drop_oldest()
            worker_status, camera_status = self._worker_status, self._camera_status
            idle = not self._pending and worker_status is None and camera_status is None
            # An idle writer still beats once a second (a camera reconnecting is a live worker), but not for
            # a loop that has stopped handing over its figures: a hung loop must not look alive.
            now = time.monotonic()
            stalled = now - self._status_at > self.loop_stall_s
            if self.lease_lost or (idle and (stalled or now - self._last_beat < HEARTBEAT_S)):
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
                self.frames_lost += len(batch)
                return
            except OperationalError as exc:
                self.errors += 1
                self._failing = True
                self.store_error = f"cannot store frames: {exc.orig}"
                log.warning(
                    "batch of %d frames not written yet, will retry (at most %d are kept): %s",
                    len(batch),
                    self.max_pending_frames,
                    exc.orig,
                )
                self._beat_only(worker_status)
                return
            self._pending = []
            self._failing = False
            if self.frames_lost == 0:
                self.store_error = None  # a passing failure, nothing lost: nothing left to report
            done = time.monotonic()
            for _, _, captured in batch:
                if captured is not None:
                    self.latency.add(done, done - captured)
            if self._worker_status is worker_status:
                self._worker_status = None
            if self._camera_status is camera_status:
                self._camera_status = None
            if not batch:
                return
            self.batches += 1
            self.frames_written += len(batch)
            self.rows_written += sum(len(f.track_ids) for _, f, _ in batch)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

    def _write(
        self, batch: list[Queued], worker_status: dict | None, camera_status: tuple[str, str] | None
    ) -> None:
        rows = [r for sid, f, _ in batch for r in observation_rows(f, sid)]
        rollups = _rollups(batch)
        tracks = _track_deltas(batch)
        new_tracks = set(tracks) - self._tracks_seen
        status_fields = {**(worker_status or {}), **self._loss_fields()}
        with self.engine.begin() as conn:
            now = utcnow()
            if self.lease_token is not None:
                # The heartbeat renews the camera's lease; no lease, no writes (one writer per camera).
                beat(conn, self.camera_id, self.lease_token, now, status_fields)
            if rows:
                conn.execute(insert(Observation), rows)
            for (sid, bucket), delta in rollups.items():
                _upsert_add(conn, SessionRollup, {"session_id": sid, "bucket_start": bucket}, delta)
            known = [
                _track_add_params(k, last, delta)
                for k, (_, last, delta) in tracks.items()
                if k not in new_tracks
            ]
            if known:  # the tracks of earlier batches: one statement for all (one each cost 0.75 ms)
                conn.execute(_TRACK_ADD, known)
            for sid, track_id in new_tracks:
                first, last, delta = tracks[(sid, track_id)]
                key = {"session_id": sid, "track_id": track_id}
                if not _add_to(conn, TrackSummary, key, delta, last_seen=last):
                    conn.execute(
                        insert(TrackSummary), [{**key, "first_seen": first, "last_seen": last, **delta}]
                    )
            if worker_status is not None and self.lease_token is None:
                conn.execute(
                    update(WorkerStatus)
                    .where(WorkerStatus.camera_id == self.camera_id)
                    .values(**status_fields, last_heartbeat=now)
                )
            cam_values: dict = {"last_heartbeat": now}
            if camera_status is not None:
                cam_values.update(status=camera_status[0], status_detail=camera_status[1])
            conn.execute(update(Camera).where(Camera.id == self.camera_id).values(**cam_values))
            for sid, (frames, faces) in _session_counts(batch).items():
                conn.execute(
                    update(ClassSession)
                    .where(ClassSession.id == sid)
                    .values(
                        frames=ClassSession.frames + frames,
                        faces=ClassSession.faces + faces,
                        tracks=ClassSession.tracks + sum(1 for s, _ in new_tracks if s == sid),
                    )
                )
        self._tracks_seen |= new_tracks


def _session_counts(batch: list[Queued]) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for sid, f, _ in batch:
        frames, faces = out.get(sid, (0, 0))
        out[sid] = (frames + 1, faces + len(f.track_ids))
    return out


def _sums(frame_probs: np.ndarray | None, attention: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = {"attention_sum": float(attention.sum())}
    # Faces too small to read have NaN rows: left out; with no readable face there is no expression sum.
    readable = None if frame_probs is None else frame_probs[~np.isnan(frame_probs).any(axis=1)]
    if readable is None or len(readable) == 0:
        out.update(dict.fromkeys(PROB_COLUMNS))
    else:
        out.update({c: float(v) for c, v in zip(PROB_COLUMNS, readable.sum(axis=0), strict=True)})
    return out


def _merge(into: dict, delta: dict) -> None:
    for k, v in delta.items():
        into[k] = v if into.get(k) is None else (into[k] if v is None else into[k] + v)


def _rollups(batch: list[Queued]) -> dict[tuple[int, datetime], dict]:
    out: dict[tuple[int, datetime], dict] = defaultdict(dict)
    for sid, f, _ in batch:
        bucket = (sid, f.ts.replace(microsecond=0))
        delta = {"frames": 1, "faces": len(f.track_ids), "engagement_sum": f.engagement}
        delta.update(heads_up_sum=f.heads_up, heads_down_sum=f.heads_down, turned_away_sum=f.turned_away)
        delta.update(_head_counts(f))
        delta.update(_sums(f.probs, f.attention))
        _merge(out[bucket], delta)
    return out


def _head_counts(f: FrameRecord) -> dict[str, int]:
    """The frame's heads read up, down, away, and not readable, counted from its postures (none without)."""
    postures = f.postures or []
    up, down, away = (sum(p == k for p in postures) for k in ("up", "down", "away"))
    return dict(zip(HEAD_COUNT_COLUMNS, (up, down, away, len(postures) - up - down - away), strict=True))


def _track_deltas(batch: list[Queued]) -> dict[tuple[int, int], tuple[datetime, datetime, dict]]:
    out: dict[tuple[int, int], tuple[datetime, datetime, dict]] = {}
    for sid, f, _ in batch:
        for i, tid in enumerate((sid, int(t)) for t in f.track_ids):
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
    """``UPDATE table SET col = col + delta`` for the row at ``key``; False when there is no such row.

    A NULL column (no expression sum yet: no face readable so far) takes the delta, as ``_merge`` does."""
    values = {
        k: (func.coalesce(getattr(table, k), 0) + v) if v is not None else getattr(table, k)
        for k, v in delta.items()
    }
    stmt = update(table).values(**values, **assign)
    for k, v in key.items():
        stmt = stmt.where(getattr(table, k) == v)
    return conn.execute(stmt).rowcount > 0


_TRACK_SUMS = ("observations", "attention_sum", *PROB_COLUMNS)
_TRACK_ADD = (
    update(TrackSummary)
    .where(TrackSummary.session_id == bindparam("k_session"), TrackSummary.track_id == bindparam("k_track"))
    .values(
        last_seen=bindparam("v_last_seen"),
        # col + delta; a NULL delta keeps col, a NULL col (nothing readable yet) takes the delta: as _add_to.
        **{
            c: func.coalesce(
                getattr(TrackSummary, c) + bindparam(f"d_{c}"), getattr(TrackSummary, c), bindparam(f"d_{c}")
            )
            for c in _TRACK_SUMS
        },
    )
)
"""Add one batch's sums to a track summary that exists, for many tracks at once (executemany)."""


def _track_add_params(key: tuple[int, int], last_seen: datetime, delta: dict) -> dict:
    return {
        "k_session": key[0],
        "k_track": key[1],
        "v_last_seen": last_seen,
        **{f"d_{c}": delta.get(c) for c in _TRACK_SUMS},
    }


def _upsert_add(conn, table, key: dict, delta: dict) -> None:
    # Portable upsert: this worker is the only writer of its session, so UPDATE-then-INSERT cannot race.
    if not _add_to(conn, table, key, delta):
        conn.execute(insert(table), [{**key, **delta}])
