"""Which mode a worker runs in: the stricter of its own setting and the site's, followed while it runs.

An admin's attention-only setting cannot be overridden by a worker flag, and reaches a running worker within
``SITE_POLL_S``. The policy also carries the site's privacy rules for what the worker publishes live.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import sessionmaker

from monitor.store.site_settings import SITE_POLL_S, all_settings, effective_mode, school_zone
from monitor.views.audience import Audience


class ModePolicy:
    """The worker's current mode and audience (the site's privacy rules); ``poll()`` says when the site
    asks for another mode."""

    def __init__(self, db_factory: sessionmaker, requested: str, poll_s: float = SITE_POLL_S) -> None:
        self._db = db_factory
        self.requested = requested
        self.poll_s = poll_s
        self._next_poll = 0.0
        wanted = self._read()
        self.mode = wanted
        self.history = [wanted]

    def _read(self) -> str:
        with self._db() as db:
            site = all_settings(db)
            self.audience = Audience.from_settings(site, school_zone(db))  # what it may publish live
        return effective_mode(self.requested, site["mode"])

    def poll(self, now: float | None = None) -> str | None:
        """Re-read the site's settings when due; the mode to switch to, or None to stay as we are."""
        now = time.monotonic() if now is None else now
        if now < self._next_poll:
            return None
        self._next_poll = now + self.poll_s
        wanted = self._read()
        return None if wanted == self.mode else wanted

    def switched(self, mode: str) -> None:
        """The worker now runs in ``mode`` (it could load what the mode needs)."""
        self.mode = mode
        self.history.append(mode)

    def text(self) -> str:
        return " -> ".join(self.history)
