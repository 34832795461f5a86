"""Secret key, CSRF tokens and the login rate limit (small and in-process: no extra service)."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from flask import Flask, abort, request, session
from sqlalchemy.engine import make_url

from monitor.config import Settings
from monitor.store.db import normalise_url

log = logging.getLogger(__name__)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"


def init_app(app: Flask, settings: Settings) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(settings)
    app.extensions["login_limiter"] = LoginLimiter(
        app.config["LOGIN_FAILURES_ALLOWED"], app.config["LOGIN_FAILURE_WINDOW_S"]
    )
    app.jinja_env.globals["csrf_token"] = csrf_token


def secret_key(settings: Settings) -> str:
    """The configured key; else one kept next to the SQLite file; else a per-process key (with a warning)."""
    if settings.secret_key:
        return settings.secret_key
    url = make_url(normalise_url(settings.db_url))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database).expanduser().resolve().with_name(Path(url.database).name + ".secret")
        try:
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32))
            return path.read_text().strip()
        except FileExistsError:  # another process created it between our check and open
            return path.read_text().strip()
        except OSError as exc:
            log.warning("cannot keep a secret key in %s (%s)", path, exc)
    log.warning(
        "no secret_key configured: using a random one for this process; logins end when it restarts "
        "(set CLASSROOM_MONITOR_SECRET_KEY)"
    )
    return secrets.token_hex(32)


def csrf_token() -> str:
    """This browser session's CSRF token (created on first use)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Abort with 400 unless an unsafe request carries the session's token (form field or header)."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get(CSRF_FIELD)
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not expected or not given or not hmac.compare_digest(str(expected), str(given)):
        abort(400, description="CSRF token missing or invalid; reload the page and try again")


class LoginLimiter:
    """At most ``allowed`` failed logins per client address and per user name in ``window_s`` seconds."""

    def __init__(self, allowed: int, window_s: float) -> None:
        self.allowed = allowed
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int:
        """Seconds until another try is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = [
                q[0] + self.window_s - now for k in keys if len(q := self._recent(k, now)) >= self.allowed
            ]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def reset(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
