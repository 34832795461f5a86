"""A daemon thread running one check every few seconds for ``serve`` (alerts, connection tests); it survives
a database that is away or a bug in one pass: it logs and looks again next time."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class PollingThread:
    """Calls ``poll()`` every ``every_s`` seconds in a daemon thread named ``name`` until ``stop()``."""

    def __init__(self, name: str, every_s: float) -> None:
        self.name, self.every_s = name, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.poll()
            except SQLAlchemyError as exc:  # the database is away: look again next time
                log.warning("%s: database not reachable: %s", self.name, str(exc).splitlines()[0])
            except Exception:  # never let a bug in one pass stop the thread for good
                log.exception("%s: check failed", self.name)
