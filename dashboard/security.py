"""Secret key, CSRF tokens, security headers and the login throttle (in-process: no extra service)."""

from __future__ import annotations

import hmac
import logging
import math
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, abort, request, session
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer

from monitor.config import Settings
from monitor.store.db import sqlite_file

log = logging.getLogger(__name__)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"


# No inline script or style anywhere: the pages load /static files only. Socket.IO's WebSocket is
# same-origin, which 'self' covers in CSP Level 3 browsers; ws:/wss: of this host are listed for older ones.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self' {ws}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def init_app(app: Flask, settings: Settings) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(settings)
    app.extensions["login_throttle"] = LoginThrottle(
        free=app.config["LOGIN_FAILURES_ALLOWED"],
        window_s=app.config["LOGIN_FAILURE_WINDOW_S"],
        max_delay_s=app.config["LOGIN_MAX_DELAY_S"],
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.after_request(security_headers)


def cookie_secure(app: Flask) -> bool:
    """Whether cookies get the ``Secure`` flag: setting ``cookie_secure`` auto (over HTTPS) | always | never.

    Behind a TLS-terminating proxy, set ``proxy_hops`` so that ``X-Forwarded-Proto: https`` counts as HTTPS.
    """
    mode = app.config.get("COOKIE_SECURE_MODE", "auto")
    return mode == "always" or (mode == "auto" and request.is_secure)


def security_headers(resp: Response) -> Response:
    """The headers every response carries (pages, API, exports and static files alike)."""
    host = request.host
    ws = f"ws://{host} wss://{host}" if _HOST.fullmatch(host) else ""
    resp.headers.setdefault("Content-Security-Policy", CSP.format(ws=ws))
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static" and "Cache-Control" not in resp.headers:
        resp.headers["Cache-Control"] = "no-store"  # shared school computers: no lessons left in the cache
    return resp


def secret_key(settings: Settings) -> str:
    """The configured key; else one kept next to the SQLite file; else a per-process key (with a warning)."""
    if settings.secret_key:
        return settings.secret_key
    database = sqlite_file(settings.db_url)
    if database is not None:
        path = database.resolve().with_name(database.name + ".secret")
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
        abort(400, description=gettext("CSRF token missing or invalid; reload the page and try again"))


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class LoginThrottle:
    """Slows password guessing without locking out the account's owner or the colleagues beside them.

    After OWASP's Authentication Cheat Sheet ("account lockout": progressive delays, not hard locks, and
    device cookies so that an attacker cannot lock the owner out). A school is one NAT address, so the
    client address alone says little. The rule, per login attempt:

    * A browser that logged in to the account before carries a signed device cookie for it
      (:func:`device_cookie`). Its failures count only against that device key; an attacker elsewhere,
      even behind the same address, never slows the owner on their usual browser.
    * Any other attempt counts against the (account, address) pair, against the account over all
      addresses (``4 x free``) and against the address over all accounts (``20 x free``). So a colleague
      behind the same address, with a pair of their own, is not slowed by someone guessing another account.
    * Each counter allows ``free`` failures; then every further attempt waits 1 s, 2 s, 4 s ... after the
      previous failure, up to ``max_delay_s``. Attempts made while a delay runs get 429 with Retry-After
      and their password is not checked. A successful login clears the pair and device keys; a counter
      with no failure for ``window_s`` is forgotten.
    """

    def __init__(self, free: int = 10, window_s: float = 3600.0, max_delay_s: float = 900.0) -> None:
        self.free = free
        self.window_s = window_s
        self.max_delay_s = max_delay_s
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def keys(self, account: str, address: str, device: str | None) -> dict[str, int]:
        """The counters an attempt is checked against, each with its number of free failures."""
        if device:
            return {f"device:{device}": self.free}
        return {
            f"pair:{account}|{address}": self.free,
            f"account:{account}": 4 * self.free,
            f"address:{address}": 20 * self.free,
        }

    def retry_after(self, keys: dict[str, int], now: float | None = None) -> int:
        """Whole seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key, free in keys.items():
                f = self._failures.get(key)
                if f is None or f.count < free:
                    continue
                delay = min(2.0 ** (f.count - free), self.max_delay_s)
                wait = max(wait, f.last + delay - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: dict[str, int], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) > 100_000:
                self._forget_old(now)
            for key in keys:
                f = self._failures.get(key)
                if f is None or now - f.last > self.window_s:
                    f = self._failures[key] = _Failures()
                f.count += 1
                f.last = now

    def succeeded(self, keys: dict[str, int]) -> None:
        """Forget the pair and device counters (the wider account and address ceilings keep counting)."""
        with self._lock:
            for key in keys:
                if key.startswith(("pair:", "device:")):
                    self._failures.pop(key, None)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, f in self._failures.items() if now - f.last > self.window_s]:
            del self._failures[key]


DEVICE_COOKIE = "cm_device"
DEVICE_COOKIE_MAX_AGE_S = 180 * 24 * 3600


def _device_serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="classroom-monitor-device")


def device_cookie(app: Flask, account: str) -> str:
    """A signed cookie value naming this browser as one that has logged in to ``account``."""
    return _device_serializer(app).dumps({"a": account, "n": secrets.token_urlsafe(12)})


def device_of(app: Flask, account: str) -> str | None:
    """This request's device id when it carries a valid device cookie for ``account``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _device_serializer(app).loads(raw, max_age=DEVICE_COOKIE_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != account or not isinstance(data.get("n"), str):
        return None
    return data["n"]
