"""One supervised camera: its ``WorkerState``, the moves allowed between states, and its restart policy.

Frigate's ``MonitoredProcess`` shape: the record knows when it crashed, how long to back off and when a
restart is due; the supervisor only decides *what happened* (a death, a stall, a lease held elsewhere)
and asks the record to move. A move the table below does not allow raises ``IllegalTransition``, so a
supervisor bug shows as an error in the log instead of a camera stuck in a state nobody leaves.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from monitor.serve.config import CameraSpec

BACKOFF_START_S = 1.0
HEALTHY_AFTER_S = 60.0  # a worker that beat this long resets its camera's backoff


class WorkerState(StrEnum):
    """Where one camera's worker stands, as the supervisor sees it (not ``worker_status.state``)."""

    BACKOFF = "backoff"  # no worker: it died (or never started); restarted once ``due``
    STARTING = "starting"  # spawned, has not beaten yet (``start_grace_s`` to do so); taking the lease
    # is not a beat: opening the source and the first frames come after it
    RUNNING = "running"  # beats; a heartbeat older than ``stall_after_s`` gets it killed
    STANDBY = "standby"  # another host holds the camera's lease; taken over once it goes stale
    FINISHED = "finished"  # ended by itself with status 0 (a video file that is not looped)
    STOPPED = "stopped"  # serve stopped it; final


S = WorkerState
TRANSITIONS: dict[WorkerState, frozenset[WorkerState]] = {
    S.BACKOFF: frozenset({S.STARTING, S.STANDBY, S.STOPPED}),
    S.STARTING: frozenset({S.RUNNING, S.STANDBY, S.BACKOFF, S.FINISHED, S.STOPPED}),
    S.RUNNING: frozenset({S.STANDBY, S.BACKOFF, S.FINISHED, S.STOPPED}),
    S.STANDBY: frozenset({S.STANDBY, S.STARTING, S.BACKOFF, S.FINISHED, S.STOPPED}),
    S.FINISHED: frozenset({S.STOPPED}),
    S.STOPPED: frozenset({S.STOPPED}),
}
"""The moves allowed from each state. STANDBY -> STANDBY: still held elsewhere, or a warm standby spawned;
STOPPED -> STOPPED: ``stop()`` after a worker that died during the stop."""
del S


class IllegalTransition(RuntimeError):
    """A move ``TRANSITIONS`` does not allow: a supervisor bug."""


@dataclass
class CameraProcess:
    """One camera under supervision: its worker process, its state and its restart policy."""

    spec: CameraSpec
    log_path: Path
    backoff_max_s: float = 60.0
    _state: WorkerState = WorkerState.BACKOFF  # until the first start
    proc: subprocess.Popen | None = None
    spawned_at: float = 0.0
    log_offset: int = 0
    last_beat_at: float = 0.0
    healthy_since: float | None = None
    backoff_s: float = BACKOFF_START_S
    next_start: float = 0.0
    restarts: int = 0
    last_error: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state(self) -> WorkerState:
        return self._state

    def move(self, to: WorkerState) -> None:
        """Move to ``to``; raises ``IllegalTransition`` when the table does not allow it."""
        if to not in TRANSITIONS[self._state]:
            raise IllegalTransition(f"camera {self.name}: {self._state} -> {to} is not allowed")
        self._state = to

    # --- the restart policy ------------------------------------------------------------------------

    def due(self, now: float) -> bool:
        """A (re)start may happen now: the backoff after the last death has run out."""
        return now >= self.next_start

    def _back_off(self, now: float) -> float:
        """Schedule the next start after the current backoff, double it; returns the delay."""
        delay = self.backoff_s
        self.next_start = now + delay
        self.backoff_s = min(self.backoff_s * 2, self.backoff_max_s)
        return delay

    def crashed(self, error: str, now: float) -> float:
        """The worker died or was killed: count it, keep ``error``, back off. Returns the delay."""
        self.move(WorkerState.BACKOFF)
        self.proc = None
        self.restarts += 1
        self.last_error = error
        return self._back_off(now)

    def refused(self, now: float) -> None:
        """The worker ended because another host holds the camera: stand by, not a crash, but a standby
        worker that keeps failing (its camera unreachable from here) waits longer each time."""
        self.move(WorkerState.STANDBY)
        self._back_off(now)

    def started(self, proc: subprocess.Popen, now: float, standby: bool) -> None:
        """A worker was spawned (a warm standby one when ``standby``)."""
        self.move(WorkerState.STANDBY if standby else WorkerState.STARTING)
        self.proc, self.spawned_at, self.healthy_since = proc, now, None

    def beat(self, now: float, age: float) -> None:
        """Our worker beat ``age`` seconds ago: it runs; a minute of health resets the backoff."""
        self.last_beat_at = now - age
        if self._state != WorkerState.RUNNING:
            self.move(WorkerState.RUNNING)
            self.healthy_since = now
        elif now - (self.healthy_since or now) >= HEALTHY_AFTER_S:
            self.backoff_s = BACKOFF_START_S

    def silent_for(self, now: float, start_grace_s: float, stall_after_s: float) -> float | None:
        """Seconds without a heartbeat once past the start-up grace (from the spawn, while STARTING) or
        the stall limit (while RUNNING), else None."""
        if self._state == WorkerState.STARTING and now - self.spawned_at < start_grace_s:
            return None
        since = max(self.spawned_at, self.last_beat_at)
        if self._state == WorkerState.RUNNING and now - since < stall_after_s:
            return None
        return now - since
