"""``Supervisor``: one worker process per camera, a watchdog, standby for cameras another host serves.

Frigate's shape: every camera runs in its own process (``classroom-monitor worker``), so a crash or a
stuck decoder takes one camera down, never the school. Once a second the supervisor reads every camera's
``worker_status`` row in one query and moves each camera through the states of
``monitor.serve.process.WorkerState`` (a move its table does not allow raises); the restart policy
(``crashed``, ``due``) lives on the camera's record, ``CameraProcess``:

- ``starting``: its worker was spawned and has not beaten yet (``start_grace_s`` from the spawn to do so;
  the row its worker writes on taking the lease is no heartbeat). At most ``max_starting`` workers are
  starting at once: the others wait their turn, so a dozen workers loading together on a 2-core host do
  not starve each other past the grace;
- ``running``: its worker beats; a heartbeat older than ``stall_after_s`` gets it killed and restarted;
- ``backoff``: its worker died; restarted after 1, 2, 4 ... ``backoff_max_s`` seconds (reset after a
  minute of health), each death counted in ``worker_status.restarts`` with ``last_error``;
- ``standby``: another host holds the camera's lease (``monitor.store.sessions``); checked every second and
  taken over once that lease goes stale (its host died), without counting a crash;
- ``finished``: its worker ended by itself with status 0 (a video file that is not looped).

Beside the cameras it runs the site's retention purge (``monitor.store.retention.run_retention``) at start
and every ``retention_every_s``, in a thread of its own so a long purge never delays the watchdog; each
run is recorded in ``retention_runs`` for the health page.

Children get ``PR_SET_PDEATHSIG`` (Linux): when ``serve`` dies, so do its workers, at once, like a host
that lost power; another host then resumes their lessons. SIGTERM/SIGINT to ``serve`` stops every worker
with SIGTERM (they write what they hold and close their sessions), then the dashboard.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from monitor.compute_threads import thread_env
from monitor.serve.alerts import Notifier, camera_views
from monitor.serve.config import CameraSpec, ServeConfig
from monitor.serve.db_cameras import DatabaseCameras, worker_env
from monitor.serve.probes import ProbeResponder
from monitor.serve.process import BACKOFF_START_S, CameraProcess, IllegalTransition, WorkerState
from monitor.serve.state import (
    HOSTNAME,
    Beat,
    close_left_open,
    ensure_cameras,
    read_beats,
    record_exit,
)
from monitor.serve.timetables import import_config_timetables
from monitor.store import make_engine, session_factory
from monitor.store.config_file_cameras import record_config_cameras, saved_sources_not_used
from monitor.store.db import read_sessions
from monitor.store.retention import run_retention
from monitor.store.schema import utcnow
from monitor.store.sessions import STALE_AFTER_S

log = logging.getLogger(__name__)
TICK_S = 1.0
PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send ``sig`` to the child when this process dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would signal us
            os.kill(os.getpid(), sig)

    return preexec


def describe_exit(returncode: int, log_path: Path, since: int) -> str:
    """One line on why a worker ended: the signal, or its status and its last line of output."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    last = ""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(since, os.path.getsize(log_path) - 4096))
            lines = [ln.strip() for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("Error:")]
        last = (errors or lines or [""])[-1]
    except OSError:
        pass
    return f"exited with status {returncode}" + (f": {last}" if last else "")


class Supervisor:
    def __init__(
        self,
        config: ServeConfig,
        db_url: str,
        cli_prefix: list[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        smtp_password: str | None = None,
    ) -> None:
        self.config = config
        self.db_url = db_url
        self.cli_prefix = cli_prefix  # python -m monitor [--config FILE] [-v]
        # The children resolve their settings as we did, with our database URL (in the environment, so
        # that `ps` does not show a password).
        self.env = {**os.environ, "CLASSROOM_MONITOR_DB_URL": db_url}
        self.clock = clock
        self.engine = make_engine(db_url, writer=True)
        self.db = session_factory(self.engine)
        self.reads = read_sessions(self.engine)  # the watchdog's poll: never queued behind a worker's write
        self.cameras: dict[str, CameraProcess] = {}
        self.dashboard: subprocess.Popen | None = None
        self._dashboard_backoff = BACKOFF_START_S
        self._dashboard_next: float | None = None
        self._next_purge: float | None = None  # None: at the first tick
        self._purge_thread: threading.Thread | None = None
        self.stopping = False
        # alerts and the weekly digest, mailed from a thread of their own (monitor/serve/alerts.py)
        self.notifier = Notifier(self.db, config, lambda: camera_views(self.cameras), smtp_password)
        self.db_cameras = DatabaseCameras(config)  # the admin page's cameras (database_cameras = true)
        # "Test connection" on the admin page, answered from this host (monitor/serve/probes.py): by every
        # serve, whether its cameras come from the config file or the database
        self.probes = ProbeResponder(self.engine, file_sources={c.name: c.source for c in config.cameras})

    # --- setup --------------------------------------------------------------------------------------

    def plan(self) -> list[CameraSpec]:
        """The cameras to run: the config's, plus the database's when ``database_cameras`` is on."""
        specs = list(self.config.cameras)
        if self.config.database_cameras:
            with self.db() as db:
                specs += self.db_cameras.plan(db)
        return specs

    def prepare(self) -> None:
        specs = self.plan()
        ensure_cameras(self.db, {s.name: s.camera_changes() for s in specs})
        with self.db.begin() as db:  # the admin page says which cameras this host's file sets, and how
            record_config_cameras(db, {c.name: c.source for c in self.config.cameras}, HOSTNAME)
            for name, saved in saved_sources_not_used(db, [c.name for c in self.config.cameras]).items():
                log.warning("camera %s: the source saved on the admin page (%s) is not used", name, saved)
        import_config_timetables(self.db, self.config)  # TOML timetables the database does not hold yet
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in specs:
            log_path = self.config.log_dir / f"{_safe(spec.name)}.log"
            self.cameras[spec.name] = CameraProcess(spec, log_path, self.config.backoff_max_s)

    def _spawn(
        self, args: list[str], log_path: Path, death_signal: int, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        # Append mode: logrotate's copytruncate keeps working. The child keeps its own descriptor.
        with open(log_path, "ab") as out:
            return subprocess.Popen(
                [*self.cli_prefix, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**self.env, **(env or {})},
                preexec_fn=_die_with_parent(death_signal),
            )

    def start_dashboard(self) -> None:
        d = self.config.dashboard
        if d is None:
            return
        args = ["dashboard", "--host", str(d.get("host", "127.0.0.1")), "--port", str(d.get("port", 5000))]
        if "threads" in d:
            args += ["--threads", str(d["threads"])]
        # SIGTERM on our death: gunicorn's arbiter then stops its own worker.
        self.dashboard = self._spawn(args, self.config.log_dir / "dashboard.log", signal.SIGTERM)
        log.info(
            "dashboard started (pid %d), log %s", self.dashboard.pid, self.config.log_dir / "dashboard.log"
        )

    def worker_args(self, spec: CameraSpec) -> list[str]:
        args = ["worker", *spec.worker_flags()]
        if spec.always_on:
            # A fixed label: a worker restarted here or on another host continues the same session.
            args += ["--session", str(spec.options.get("label", spec.name))]
        else:
            args += ["--timetable-from", str(self.config.path.resolve())]
        return args

    def start_worker(self, cam: CameraProcess, now: float, standby: bool = False) -> None:
        cam.log_offset = cam.log_path.stat().st_size if cam.log_path.exists() else 0
        with open(cam.log_path, "a") as f:
            mode = ", warm standby" if standby else ""
            f.write(f"--- serve: starting worker for {cam.name} (restarts: {cam.restarts}{mode}) ---\n")
        # SIGKILL on our death: a dead host's workers must not write on (another host resumes the lesson).
        args = self.worker_args(cam.spec) + (["--standby"] if standby else [])
        env = {**thread_env(len(self.cameras)), **worker_env(cam.spec)}  # the cores shared among the workers
        cam.started(self._spawn(args, cam.log_path, signal.SIGKILL, env), now, standby)
        log.info("camera %s: worker started (pid %d%s)", cam.name, cam.proc.pid, ", warm standby" * standby)

    # --- the watchdog -------------------------------------------------------------------------------

    def tick(self) -> None:
        """One pass over every camera (called once a second)."""
        now = self.clock()
        try:
            with self.reads() as db:
                beats = read_beats(db, list(self.cameras))
        except SQLAlchemyError as exc:  # the database is away: keep the workers, look again next tick
            log.warning("cannot read worker status: %s", str(exc).splitlines()[0])
            return
        wall = utcnow()
        for cam in self.cameras.values():
            try:
                self._check(cam, beats.get(cam.name), now, wall)
            except IllegalTransition:  # a supervisor bug: loud in the log, the other cameras go on
                log.exception("camera %s: state machine refused a move", cam.name)
        self._watch_dashboard(now)
        self._schedule_retention(now)
        self._follow_database_cameras(now)

    # --- cameras set up on the admin page ---------------------------------------------------------

    def _follow_database_cameras(self, now: float) -> None:
        """Start, restart or stop the admin page's cameras as they change (``monitor.serve.db_cameras``)."""
        self.db_cameras.reap(now)
        if self.stopping or not self.db_cameras.due(now):
            return
        try:
            with self.db() as db:  # a short session: it holds the write lock (BEGIN IMMEDIATE)
                wanted = self.db_cameras.wanted(db)
        except SQLAlchemyError as exc:
            log.warning("cannot read the database's cameras: %s", str(exc).splitlines()[0])
            return
        for line in self.db_cameras.sync(wanted, self.cameras, self._add_camera, now):
            log.info("%s", line)

    def _add_camera(self, spec: CameraSpec) -> None:
        self.cameras[spec.name] = CameraProcess(
            spec, self.config.log_dir / f"{_safe(spec.name)}.log", self.config.backoff_max_s
        )

    # --- retention --------------------------------------------------------------------------------

    def _schedule_retention(self, now: float) -> None:
        """Start the retention purge when it is due (first tick, then every ``retention_every_s``)."""
        every = self.config.retention_every_s
        if not every or self.stopping or (self._next_purge is not None and now < self._next_purge):
            return
        if self._purge_thread is not None and self._purge_thread.is_alive():
            return  # the last one is still deleting: count the interval from when it ends
        self._next_purge = now + every
        self._purge_thread = threading.Thread(target=self.purge_once, name="retention", daemon=True)
        self._purge_thread.start()

    def purge_once(self) -> None:
        """One scheduled purge by the site's ``retention_days``; a failure is logged (and recorded)."""
        try:
            result = run_retention(self.engine, "serve")
        except SQLAlchemyError as exc:
            log.warning("retention purge failed: %s", str(exc).splitlines()[0])
            return
        if result.cutoff is not None:
            log.info(
                "retention: deleted %d observations from %d lessons older than %s",
                result.observations,
                result.sessions,
                result.cutoff.isoformat(timespec="seconds"),
            )

    def _watch_dashboard(self, now: float) -> None:
        """Restart a dashboard that exited (a port taken, a crash), after 1, 2, 4 ... s like a worker."""
        if self.dashboard is None or self.stopping:
            return
        if self.dashboard.poll() is not None and self._dashboard_next is None:
            log.error(
                "dashboard exited with status %s; restart in %.0f s (log %s)",
                self.dashboard.returncode,
                self._dashboard_backoff,
                self.config.log_dir / "dashboard.log",
            )
            self._dashboard_next = now + self._dashboard_backoff
            self._dashboard_backoff = min(self._dashboard_backoff * 2, self.config.backoff_max_s)
        if self._dashboard_next is not None and now >= self._dashboard_next:
            self._dashboard_next = None
            self.start_dashboard()

    def _our_pids(self) -> set[int]:
        return {c.proc.pid for c in self.cameras.values() if c.proc is not None}

    def _check(self, cam: CameraProcess, beat: Beat | None, now: float, wall) -> None:
        if cam.proc is not None:
            rc = cam.proc.poll()
            if rc is None:
                self._watch_alive(cam, beat, now, wall)
            else:
                self._on_exit(cam, rc, beat, now, wall)
            return
        if cam.state in (WorkerState.FINISHED, WorkerState.STOPPED):
            return
        if beat is not None and beat.held_by_other(self._our_pids(), wall, STALE_AFTER_S):
            if cam.state != WorkerState.STANDBY:
                log.info("camera %s: served by %s pid %s; standing by", cam.name, beat.hostname, beat.pid)
            cam.move(WorkerState.STANDBY)
            if self.config.warm_standby and cam.due(now):
                self.start_worker(cam, now, standby=True)
            return
        if cam.state == WorkerState.STANDBY or cam.due(now):
            if self._starting() >= self.config.max_starting:
                return  # staggered: the workers loading now would starve each other on a small host
            self.start_worker(cam, now)

    def _starting(self) -> int:
        """Workers spawned that have not sent their first heartbeat yet (loading, opening the source)."""
        return sum(1 for c in self.cameras.values() if c.state is WorkerState.STARTING and c.proc is not None)

    def _watch_alive(self, cam: CameraProcess, beat: Beat | None, now: float, wall) -> None:
        pid = cam.proc.pid
        if beat is not None and beat.held_by_other({pid}, wall, STALE_AFTER_S):
            # Our worker stands by, ready, while another host serves the camera; its start-up grace
            # begins when that host's lease goes stale.
            cam.move(WorkerState.STANDBY)
            cam.spawned_at = now
            return
        if cam.state == WorkerState.STANDBY:
            cam.move(WorkerState.STARTING)
        ours = beat is not None and beat.pid == pid and beat.hostname == HOSTNAME
        age = beat.age(wall) if ours else None
        fresh = ours and age is not None and age <= self.config.stall_after_s and beat.lease_owner is not None
        if fresh and (beat.beaten_since_start or cam.state is WorkerState.RUNNING):
            cam.beat(now, age)
            return
        # A worker that has only taken its lease is still opening its source and warming up: it keeps its
        # start-up grace until its first heartbeat.
        silent = cam.silent_for(now, self.config.start_grace_s, self.config.stall_after_s)
        if silent is None:
            return
        log.error("camera %s: no heartbeat for %.0f s; killing worker pid %d", cam.name, silent, pid)
        cam.proc.kill()
        cam.proc.wait()
        self._crashed(cam, pid, f"heartbeat stalled: none for {silent:.0f} s, worker killed", now)

    def _on_exit(self, cam: CameraProcess, rc: int, beat: Beat | None, now: float, wall) -> None:
        pid, cam.proc = cam.proc.pid, None
        if self.stopping:  # SIGTERM came while this tick ran; a worker that died still frees its lease
            if rc != 0:
                self._record(cam.name, pid, describe_exit(rc, cam.log_path, cam.log_offset), crashed=True)
            cam.move(WorkerState.STOPPED)
            return
        if beat is not None and beat.held_by_other({pid}, wall, STALE_AFTER_S) and beat.pid != pid:
            # Refused, or taken over: another host serves this camera. Not a crash.
            log.info(
                "camera %s: another host holds the camera (%s pid %s); standing by",
                cam.name,
                beat.hostname,
                beat.pid,
            )
            cam.refused(now)
            return
        error = describe_exit(rc, cam.log_path, cam.log_offset)
        if rc == 0:
            log.info("camera %s: worker finished (%s)", cam.name, error)
            cam.move(WorkerState.FINISHED)
            self._record(cam.name, pid, error, crashed=False)
            return
        self._crashed(cam, pid, error, now)

    def _crashed(self, cam: CameraProcess, pid: int, error: str, now: float) -> None:
        delay = cam.crashed(error, now)
        log.warning("camera %s: worker pid %d %s; restart in %.0f s", cam.name, pid, error, delay)
        self._record(cam.name, pid, error, crashed=True)

    def _record(self, name: str, pid: int, error: str, crashed: bool) -> None:
        try:
            record_exit(self.db, name, pid, error, crashed)
        except SQLAlchemyError as exc:
            log.warning("camera %s: restart not recorded: %s", name, str(exc).splitlines()[0])

    # --- running and stopping -----------------------------------------------------------------------

    def request_stop(self, *_: object) -> None:
        self.stopping = True

    def run(self) -> None:
        """Supervise until ``request_stop`` (SIGTERM/SIGINT), then stop everything cleanly."""
        if not self.cameras:
            self.prepare()
        self.start_dashboard()
        self.notifier.start()
        self.probes.start()
        try:
            while not self.stopping:
                self.tick()
                time.sleep(TICK_S)
        finally:
            self.stop()

    def stop(self) -> None:
        """SIGTERM to every worker (they flush and close their sessions), wait, then the dashboard."""
        self.stopping = True
        self.notifier.stop()  # workers stopped on purpose are no alert
        self.probes.stop(timeout_s=2.0)
        workers = [c.proc for c in self.cameras.values() if c.proc is not None]
        for proc in workers:
            _signal(proc, signal.SIGTERM)
        _wait_all(workers, self.config.stop_timeout_s)
        self.db_cameras.finish(self.config.stop_timeout_s)  # workers of cameras taken off this host
        for cam in self.cameras.values():
            if cam.proc is not None and cam.proc.returncode != 0:  # died before the stop, or would not stop
                error = describe_exit(cam.proc.returncode, cam.log_path, cam.log_offset)
                self._record(cam.name, cam.proc.pid, error, crashed=True)  # frees the dead worker's lease
            cam.proc = None
            cam.move(WorkerState.STOPPED)
        try:
            for sid in close_left_open(self.db, list(self.cameras)):
                log.info("closed session %d, left open by a worker that died before the stop", sid)
        except SQLAlchemyError as exc:
            log.warning("sessions left open not closed: %s", str(exc).splitlines()[0])
        if self.dashboard is not None:
            _signal(self.dashboard, signal.SIGTERM)
            _wait_all([self.dashboard], self.config.stop_timeout_s)
        if self._purge_thread is not None:  # it commits lesson by lesson: what it did so far stays done
            self._purge_thread.join(self.config.stop_timeout_s)
        self.engine.dispose()


def _signal(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)


def _wait_all(procs: list[subprocess.Popen], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("pid %d did not stop within %.0f s; killing it", proc.pid, timeout_s)
            proc.kill()
            proc.wait()


def _safe(name: str) -> str:
    """A camera name as a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "camera"
