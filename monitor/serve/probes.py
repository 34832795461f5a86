"""The admin page's "Test connection", answered by ``serve`` from the host that serves the camera (issue 24).

Every ``serve`` runs one, whether its cameras come from its config file or from the database
(``database_cameras``): a school whose cameras are listed in TOML gets its answer from its capture host too,
not from the dashboard's host as if no serve were running.

A thread of its own (a probe may wait seconds on a dead camera; the watchdog must not) looks twice a second
for requests in ``source_probes`` (``monitor.store.source_probes``). It takes a request when this host may
serve the camera (its ``serve_hosts`` name this host, or none), opens the source the way the dashboard would
(``monitor.source_probe``'s child, decrypting the password with this process's ``camera_key``) and writes
what it found: reachable, resolution, fps or the masked error, and this host's name. Never a frame.

When another host's worker holds the camera's lease, that host gets :data:`SERVING_HOST_FIRST_S` to take
the request first, so the answer comes from where the camera is actually read.

A camera a serve runs from its config file (``[[cameras]] source = ...``) is tested with the source in use:
only the serve whose file lists it takes the request, and it opens the FILE's source, not one saved on the
admin page (which is not used while the file lists the camera). The answer names the source tested, masked.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping

from sqlalchemy.engine import Engine

from monitor.serve.polling import PollingThread
from monitor.source_probe import run_in_child
from monitor.store.camera_sources import CameraSourceError, camera_source_url, host_may_serve
from monitor.store.db import read_sessions, session_factory
from monitor.store.source_probes import OpenRequest, answer, claim, open_requests

log = logging.getLogger(__name__)
POLL_S = 0.5
SERVING_HOST_FIRST_S = 1.0
PROBE_TIMEOUT_S = 6.0
"""The child's limit here: the dashboard waits 10 s in all and takes over a request nobody took in 2.5 s."""


class ProbeResponder(PollingThread):
    """Answers probe requests for the cameras this host may serve, one at a time, in a daemon thread."""

    def __init__(
        self,
        engine: Engine,
        hostname: Callable[[], str] = socket.gethostname,
        file_sources: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__("source-probes", POLL_S)
        self.file_sources = dict(file_sources or {})  # this serve's config file: camera name -> source
        self.reads = read_sessions(engine)  # the twice-a-second look never queues for SQLite's write lock
        self.db = session_factory(engine)
        self.hostname = hostname

    def poll(self) -> None:
        self.answer_one()

    def answer_one(self) -> int | None:
        """Take and answer the oldest request that is this host's; returns its id (None: nothing to do)."""
        me = self.hostname()
        with self.reads() as db:
            mine = [r for r in open_requests(db) if self._is_mine(r, me)]
        if not mine:
            return None
        with self.db.begin() as db:
            taken = next((r for r in mine if claim(db, r.id, me)), None)
        if taken is None:
            return None
        from_file = taken.name in self.file_sources
        source: str | None = self.file_sources.get(taken.name)
        try:
            if source is None:
                with self.reads() as db:
                    source = camera_source_url(db, taken.camera_id)
            found = run_in_child(source, PROBE_TIMEOUT_S) if source else {"error": "no source set"}
        except CameraSourceError as exc:
            found = {"error": str(exc)}
        with self.db.begin() as db:
            answer(db, taken.id, me, found, tested=source, from_file=from_file)
        log.info("connection test %d of camera %d answered from %s", taken.id, taken.camera_id, me)
        return taken.id

    def _is_mine(self, request: OpenRequest, me: str) -> bool:
        """Whether this host answers ``request``: the serve whose config file runs the camera, and only it;
        else a host the camera's ``serve_hosts`` allow (the one whose worker holds it first)."""
        if request.name in self.file_sources:
            return True
        if request.file_host is not None:
            return False  # another serve's config file sets its source: that serve tests what it runs
        return host_may_serve(request.serve_hosts, me) and (
            request.serving_host in (None, me) or request.age_s >= SERVING_HOST_FIRST_S
        )
