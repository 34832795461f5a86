"""``database_cameras = true``: run the cameras whose source was set on the admin page, and follow changes.

Every ``POLL_S`` seconds the supervisor asks :meth:`DatabaseCameras.sync` to compare the database with what
it runs: a camera whose source was set (and whose host list names this host, or is empty) gets a worker; a
changed source or host list restarts its worker with the new source; a cleared source, a host list that no
longer names this host, or a deleted camera stops it. No restart of ``serve`` is needed.

The openable source (credentials decrypted with this process's ``camera_key``) reaches the worker in its
environment (``CLASSROOM_MONITOR_WORKER_SOURCE``), never on its command line, where ``ps`` would show it.
Cameras of the ``[[cameras]]`` table are the config file's, never touched here; so are those another
host's serve runs from its config file (``monitor.store.config_file_cameras``): the file's source wins.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import socket
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.cameras import CameraConfigError
from monitor.serve.config import CameraSpec, ServeConfig, ServeConfigError, check_camera
from monitor.store.camera_sources import CameraSourceError, host_may_serve, mask_source, openable_source
from monitor.store.schema import Camera
from monitor.store.timetables import holds_timetable, weekly_entries

log = logging.getLogger(__name__)
POLL_S = 10.0  # a new or changed camera runs within this (plus a worker's start-up)
SOURCE_ENV = "CLASSROOM_MONITOR_WORKER_SOURCE"


@dataclass(frozen=True)
class DatabaseCameraSpec(CameraSpec):
    """A camera set up on the admin page: the ``[defaults]`` options, its source handed over privately."""

    openable: str = field(default="", repr=False, compare=False)
    fingerprint: str = ""

    @property
    def private(self) -> bool:
        """The openable source holds credentials: it must not appear on a command line."""
        return self.openable != self.source

    def worker_flags(self) -> list[str]:
        """The worker's flags; ``--source`` left out when it holds credentials (see :meth:`worker_env`)."""
        flags = super().worker_flags()
        if self.private:
            i = flags.index("--source")
            flags = flags[:i] + flags[i + 2 :]
        return flags

    def worker_env(self) -> dict[str, str]:
        """The environment the worker needs beyond serve's own: a source with credentials."""
        return {SOURCE_ENV: self.openable} if self.private else {}


def _fingerprint(cam: Camera) -> str:
    text = "\n".join(str(v) for v in (cam.configured_source, cam.source_credentials, cam.serve_hosts))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_setup(spec: CameraSpec) -> None:
    """The options' class size and mounting, checked like a config camera's (``ServeConfigError``)."""
    try:
        spec.camera_changes()
    except CameraConfigError as exc:
        raise ServeConfigError(f"database camera {spec.name!r}: {exc}") from exc


def legacy_source(source: str | None) -> bool:
    """A source a worker stored (before sources were set on the admin page) that can be opened again: a
    URL or a webcam index (a video file is stored without its folder; masked credentials cannot open)."""
    return bool(source) and ("://" in source or source.strip().isdigit()) and "***@" not in source


def wanted_cameras(
    db: Session,
    config: ServeConfig,
    hostname: str | None = None,
    warn: Callable[[str], None] = log.warning,
    strict: bool = False,
) -> dict[str, DatabaseCameraSpec]:
    """The database cameras this host should run now, by name (the config file's own cameras left out).

    A camera whose stored password this process cannot decrypt is left out with a warning through ``warn``;
    so is one whose options do not check (``ServeConfigError`` instead when ``strict``: at start)."""
    own = {c.name for c in config.cameras}
    me = hostname or socket.gethostname()
    wanted: dict[str, DatabaseCameraSpec] = {}
    for cam in db.scalars(select(Camera).order_by(Camera.name)):
        if cam.name in own:
            continue
        if cam.file_host and cam.file_host != me:  # this host's own mark is stale: the camera left our file
            warn(
                f"camera {cam.name}: its source is set in the serve config file on host {cam.file_host}; "
                "the source saved on the admin page is not used while that file lists it"
            )
            continue
        if cam.configured_source:
            if not host_may_serve(cam.serve_hosts, hostname):
                continue
            try:
                source = openable_source(cam)
            except CameraSourceError as exc:
                warn(f"camera {cam.name}: {exc}")
                continue
        elif legacy_source(cam.source):
            source = cam.source
        else:
            continue
        options: Mapping[str, Any] = {**config.defaults, "source": cam.configured_source or source}
        if not options.get("always_on") and (weekly := weekly_entries(db, cam.id)) is not None:
            options = {**options, "timetable": weekly}  # set in the browser; its worker re-reads it live
        spec = DatabaseCameraSpec(cam.name, options, openable=source, fingerprint=_fingerprint(cam))
        try:
            if not spec.always_on and holds_timetable(db, cam.id):
                _check_setup(spec)  # its timetable is the database's (set in the browser or imported)
            else:
                check_camera(spec, f"database camera {cam.name!r}", config.holidays)
        except ServeConfigError as exc:
            if strict:
                raise
            warn(str(exc))
            continue
        wanted[cam.name] = spec
    return wanted


class DatabaseCameras:
    """The supervisor's follower of the admin page's cameras (see the module's docstring).

    A camera to stop gets SIGTERM and is *retired*: the tick goes on while its worker stores what it holds and
    closes its lesson (:meth:`reap` kills it after ``stop_timeout_s``). A changed camera starts again once its
    old worker is gone, so the two never contend for the camera's lease."""

    def __init__(self, config: ServeConfig, poll_s: float = POLL_S) -> None:
        self.config = config
        self.poll_s = poll_s
        self.next_poll: float | None = None  # None: at the first tick
        self.retiring: dict[str, tuple[subprocess.Popen, float]] = {}  # name -> (worker, kill after)
        self._warned: set[str] = set()

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s", message)

    def plan(self, db: Session) -> list[DatabaseCameraSpec]:
        """The cameras to run at start. One whose options do not check (no timetable, say) is left out with
        a warning, as later: a camera added on the admin page must not keep the whole school from starting;
        once fixed in the browser, it runs within ``poll_s``."""
        if not self.config.database_cameras:
            return []
        return list(wanted_cameras(db, self.config, warn=self._warn_once).values())

    def due(self, now: float) -> bool:
        """Time to look at the database again (every ``poll_s``; at once after a retired worker ended)."""
        if not self.config.database_cameras:
            return False
        if self.next_poll is not None and now < self.next_poll:
            return False
        self.next_poll = now + self.poll_s
        return True

    def wanted(self, db: Session) -> dict[str, DatabaseCameraSpec]:
        """The database cameras this host should run now (read in a short session of the caller's)."""
        return wanted_cameras(db, self.config, warn=self._warn_once)

    def sync(
        self,
        wanted: dict[str, DatabaseCameraSpec],
        running: dict[str, Any],
        add: Callable[[CameraSpec], None],
        now: float,
    ) -> list[str]:
        """Bring ``running`` (the supervisor's cameras by name) in line with ``wanted``: ``add`` a spec to
        run; a camera to stop or restart leaves ``running`` and its worker retires. One line per change."""
        changes = []
        for name, cam in list(running.items()):
            if not isinstance(cam.spec, DatabaseCameraSpec):
                continue  # the config file's camera
            spec = wanted.get(name)
            if spec is not None and spec.fingerprint == cam.spec.fingerprint:
                continue
            del running[name]
            if cam.proc is not None and cam.proc.poll() is None:
                cam.proc.send_signal(signal.SIGTERM)
                self.retiring[name] = (cam.proc, now + self.config.stop_timeout_s)
            if spec is None:
                changes.append(f"camera {name}: no longer set up for this host; worker stopped")
            else:
                changes.append(f"camera {name}: source or hosts changed; restarting its worker")
        for name, spec in wanted.items():
            if name not in running and name not in self.retiring:
                add(spec)
                changes.append(
                    f"camera {name}: set up on the admin page ({mask_source(spec.source)}); started"
                )
        return changes

    def reap(self, now: float) -> None:
        """Forget retired workers that ended (and look at the database again at once); kill the late ones."""
        for name, (proc, kill_after) in list(self.retiring.items()):
            if proc.poll() is None and now >= kill_after:
                log.error("camera %s: worker pid %d did not stop in time; killing it", name, proc.pid)
                proc.kill()
                proc.wait()
            if proc.poll() is not None:
                del self.retiring[name]
                self.next_poll = None

    def finish(self, timeout_s: float) -> None:
        """At serve's stop: wait for the retiring workers (killed after ``timeout_s``)."""
        for proc, _ in self.retiring.values():
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.retiring.clear()


def worker_env(spec: CameraSpec) -> dict[str, str]:
    """What ``spec``'s worker needs in its environment beyond serve's own (a source with credentials)."""
    return spec.worker_env() if isinstance(spec, DatabaseCameraSpec) else {}
