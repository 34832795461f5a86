"""The live feed: Flask-SocketIO (threading mode) pushes each camera's newest frame summary to its room.

Without Redis, a background task polls the database about every 0.3 s for the newest frame of each
running session and emits it; with ``redis_url`` set, workers emit through Redis (``monitor.live``) and
Flask-SocketIO relays from the message queue. Browsers join a camera's room with a ``watch`` event, after
the same access check as the pages. Connections without a logged-in session are refused. Access is checked
again every few seconds (:class:`WatchGuard`), so a teacher unassigned from a camera, or a deleted account,
stops receiving its frames without waiting for the browser to reconnect.

:class:`LiveGate` stands in front of the Socket.IO transport: the login is checked before the Engine.IO
handshake (a refused socket never holds a server thread), each account may hold only a few connections,
and all of them together only the server threads that :func:`live_slots` leaves free of page requests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, current_app, request, session
from flask_socketio import SocketIO, emit, join_room, leave_room, rooms
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import ClosingIterator

from dashboard.access import MAX_ID, can_see_camera
from dashboard.db import Database, get_db
from dashboard.usersessions import current_token, token_hash
from monitor.config import Settings
from monitor.config import check_settings as check_process_settings
from monitor.live import LIVE_EVENT, camera_room
from monitor.store.schema import Camera, User, UserSession, utcnow
from monitor.views.audience import Audience
from monitor.views.lesson import frame_payload
from monitor.views.sessions import newest_frame, running_lessons

log = logging.getLogger(__name__)

REVOKED_EVENT = "access_revoked"
WATCH_ERROR_EVENT = "watch_error"


SOCKETIO_PATH = "socket.io"
DEFAULT_MAX_LIVE = 80
"""Live connections open at once without a server that says how many threads it has (dev server, tests):
what :func:`live_slots` leaves of gunicorn's default 100 threads."""


def live_slots(threads: int) -> int:
    """How many of the server's ``threads`` live connections may hold; the rest stay free for pages.

    Under gunicorn each open WebSocket (and each pending long-poll) holds one worker thread. A fifth of the
    threads, and at least four, are kept for plain HTTP, so logins and pages answer however many sockets
    are open; with very few threads, one socket is still allowed.
    """
    return max(1, threads - max(4, threads // 5))


def check_live_settings(settings: Settings) -> None:
    """Raise ValueError (one line) for live-feed settings that cannot be used (rules: ``PROCESS_KEYS``)."""
    check_process_settings(settings, ("live_connections_per_user",))


def init_app(app: Flask, settings: Settings) -> SocketIO:
    check_live_settings(settings)
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=settings.redis_url or None,
        path=SOCKETIO_PATH,
    )
    # Flask-SocketIO put its middleware in app.wsgi_app; the gate goes in front of it.
    gate = LiveGate(app.wsgi_app, app, settings.live_connections_per_user, DEFAULT_MAX_LIVE)
    app.wsgi_app = gate  # type: ignore[method-assign]
    gate.follow(socketio.server.eio)
    app.extensions["live_gate"] = gate
    poller = None
    if not settings.redis_url:
        poller = LivePoller(socketio, app.extensions["monitor_db"], app.config["LIVE_POLL_INTERVAL_S"])
    app.extensions["live_poller"] = poller
    app.extensions["watch_guard"] = WatchGuard(
        socketio,
        app.extensions["monitor_db"],
        app.config["ACCESS_RECHECK_S"],
        idle=timedelta(hours=settings.session_idle_hours),
    )
    app.extensions["socketio"] = socketio
    _register_handlers(socketio)
    return socketio


def socketio_of(app: Flask) -> SocketIO:
    return app.extensions["socketio"]


def _current_user() -> User | None:
    user_id = session.get("user_id")
    return get_db().get(User, user_id) if isinstance(user_id, int) else None


def _register_handlers(socketio: SocketIO) -> None:
    @socketio.on("connect")
    def on_connect(auth: Any = None) -> None:
        if _current_user() is None:
            raise ConnectionRefusedError("log in first")

    @socketio.on("watch")
    def on_watch(data: Any = None, *_extra: Any) -> dict:
        """Join one camera's room (leaving any other); answers ``{"ok": bool, ...}`` as the ack. A refusal
        also comes as a ``watch_error`` event, so a client that sent no payload or no ack still hears why."""
        answer = _watch(data)
        if not answer["ok"]:
            emit(WATCH_ERROR_EVENT, answer)
        return answer

    def _watch(data: Any) -> dict:
        user = _current_user()
        if user is None:
            return {"ok": False, "error": "log in first"}
        camera_id = data.get("camera_id") if isinstance(data, dict) else None
        if isinstance(camera_id, bool) or not isinstance(camera_id, int) or not 0 < camera_id <= MAX_ID:
            return {"ok": False, "error": "camera_id must be a positive whole number"}
        db = get_db()
        if db.get(Camera, camera_id) is None or not can_see_camera(db, camera_id, user):
            return {"ok": False, "error": f"no camera {camera_id}"}
        for room in rooms():
            if room.startswith("camera-") and room != camera_room(camera_id):
                leave_room(room)
        join_room(camera_room(camera_id))
        guard: WatchGuard = current_app.extensions["watch_guard"]
        guard.watch(request.sid, user.id, camera_id, current_token())
        poller: LivePoller | None = current_app.extensions["live_poller"]
        if poller is not None:
            poller.start()
        return {"ok": True, "camera_id": camera_id}

    @socketio.on("unwatch")
    def on_unwatch(_data: Any = None) -> dict:
        for room in rooms():
            if room.startswith("camera-"):
                leave_room(room)
        current_app.extensions["watch_guard"].forget(request.sid)
        return {"ok": True}

    @socketio.on("disconnect")
    def on_disconnect(*_args: Any) -> None:
        current_app.extensions["watch_guard"].forget(request.sid)


class WatchGuard:
    """Re-checks, every ``interval_s``, that each socket of this process may still see the camera it watches.

    Access is checked when a socket joins a camera's room, but while the socket stays open an admin may
    unassign the teacher (on the settings page, or with ``classroom-monitor user assign --remove`` from
    another process), and the login itself may end (logout, password change, account disabled, idle
    timeout). A socket that lost access leaves the room and receives ``access_revoked``.
    """

    def __init__(
        self, socketio: SocketIO, database: Database, interval_s: float = 2.0, idle: timedelta | None = None
    ) -> None:
        self.socketio = socketio
        self.database = database
        self.interval_s = interval_s
        self.idle = idle
        self._watching: dict[str, tuple[int, int, str | None]] = {}  # sid -> (user id, camera id, login)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = False

    def watch(self, sid: str, user_id: int, camera_id: int, token: str | None = None) -> None:
        with self._lock:
            self._watching[sid] = (user_id, camera_id, None if token is None else token_hash(token))
            start, self._started = not self._started, True
        if start:
            self.socketio.start_background_task(self._run)

    def forget(self, sid: str) -> None:
        with self._lock:
            self._watching.pop(sid, None)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check_once()
            except Exception:  # a failed check must not end the guard; the next one may succeed
                log.exception("live access check failed")

    def check_once(self) -> list[str]:
        """Remove (and return) the sockets whose user may no longer see the camera they watch."""
        with self._lock:
            watching = dict(self._watching)
        if not watching:
            return []
        revoked = []
        with self.database.reader() as db:
            for sid, (user_id, camera_id, login) in watching.items():
                user = db.get(User, user_id)
                if (
                    user is None
                    or not self._login_alive(db, login, user)
                    or not can_see_camera(db, camera_id, user)
                ):
                    revoked.append((sid, camera_id))
        for sid, camera_id in revoked:
            self.socketio.server.leave_room(sid, camera_room(camera_id), namespace="/")
            self.socketio.emit(REVOKED_EVENT, {"camera_id": camera_id}, to=sid)
            self.forget(sid)
            log.info("live: socket %s no longer may see camera %s; removed from its room", sid, camera_id)
        return [sid for sid, _ in revoked]

    def _login_alive(self, db, login: str | None, user: User) -> bool:
        if login is None or not user.is_active:
            return False
        row = db.get(UserSession, login)
        if row is None or row.user_id != user.id:
            return False
        return self.idle is None or utcnow() - row.last_seen <= self.idle


class LivePoller:
    """Background task: emit the newest stored frame of every running session to its camera's room."""

    def __init__(self, socketio: SocketIO, database: Database, interval_s: float = 0.3) -> None:
        self.socketio = socketio
        self.database = database
        self.interval_s = interval_s
        self._last_frame: dict[int, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        with self._lock:
            if not self._started:
                self._started = True
                self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a bad poll must not end the live feed; the next one may succeed
                log.exception("live poll failed")
            self._stop.wait(self.interval_s)

    def poll_once(self) -> list[dict]:
        """Emit (and return) the summaries of frames stored since the last poll."""
        sent = []
        with self.database.reader() as db:
            audience = Audience.load(db)  # the site's rules of this poll, for every lesson in it
            running = running_lessons(db)
            live_ids = {cs.id for cs in running}
            for sid in list(self._last_frame):
                if sid not in live_ids:
                    del self._last_frame[sid]
            for cs in running:
                rows = newest_frame(db, cs.id, self._last_frame.get(cs.id, -1))
                if not rows:
                    continue
                self._last_frame[cs.id] = rows[0].frame_index
                payload = frame_payload(db, cs, rows, audience)
                self.socketio.emit(LIVE_EVENT, payload, to=camera_room(cs.camera_id))
                sent.append(payload)
        return sent


class LiveGate:
    """WSGI middleware in front of the Socket.IO transport (every request under ``/socket.io/``).

    Flask-SocketIO's ``connect`` handler only runs after the Engine.IO handshake, and by then a WebSocket
    holds a server thread for as long as its client keeps it open: anyone could take every thread. So each
    request is checked here first, before Engine.IO sees it, and answered without an upgrade when:

    - a new connection (no ``sid``) carries no valid login (the pages' signed cookie and its
      ``user_sessions`` row): 401; a later request of a connection (its ``sid``, which Engine.IO only
      hands out after this check) counts for the account that opened it, and an unknown ``sid`` gets 400;
    - the account already holds ``per_user`` requests open (a WebSocket, a pending long-poll): 429;
    - ``max_total`` are held by everyone together (the threads not kept for pages): 503 with Retry-After.

    A request counts from its start to the end of its response, which for a WebSocket is its whole life.
    """

    USER_KEY = "classroom_monitor.live_user"
    """Where the gate leaves a new connection's user id in the WSGI environ, for :meth:`follow`."""

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        flask_app: Flask,
        per_user: int,
        max_total: int,
        path: str = SOCKETIO_PATH,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.per_user = per_user
        self.max_total = max_total
        self.prefix = f"/{path.strip('/')}/"
        self._held: dict[int, int] = {}  # user id -> requests open
        self._owners: dict[str, int] = {}  # Engine.IO sid -> the user who opened it
        self._lock = threading.Lock()

    def follow(self, eio: Any) -> None:
        """Learn each Engine.IO session's owner from the handshake this gate let through (python-engineio's
        ``connect`` and ``disconnect`` events, chained before Socket.IO's own handlers)."""
        on_connect, on_disconnect = eio.handlers["connect"], eio.handlers["disconnect"]

        def connected(eio_sid: str, environ: dict[str, Any]) -> Any:
            user_id = environ.get(self.USER_KEY)
            if user_id is None:  # did not come through this gate: refused like an anonymous one
                return "log in first"
            with self._lock:
                self._owners[eio_sid] = user_id
            return on_connect(eio_sid, environ)

        def disconnected(eio_sid: str, reason: Any = None) -> Any:
            with self._lock:
                self._owners.pop(eio_sid, None)
            return on_disconnect(eio_sid, reason)

        eio.on("connect", connected)
        eio.on("disconnect", disconnected)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.wsgi_app(environ, start_response)
        sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
        if sid is None:
            try:
                user_id = self._logged_in_user(environ)
            except SQLAlchemyError as exc:
                log.warning("live: cannot check a login: %s", exc)
                return _refuse(start_response, 503, "cannot check the login just now", retry_after=5)
            if user_id is None:
                return _refuse(start_response, 401, "log in first")
            environ[self.USER_KEY] = user_id
        else:
            with self._lock:
                user_id = self._owners.get(sid)
            if user_id is None:
                return _refuse(start_response, 400, "no such live connection; reconnect")
        with self._lock:
            mine, total = self._held.get(user_id, 0), sum(self._held.values())
            if mine >= self.per_user:
                refusal = (429, f"this account already has {mine} live connections open")
            elif total >= self.max_total:
                refusal = (503, "too many live connections open; try again shortly")
            else:
                refusal = None
                self._held[user_id] = mine + 1
        if refusal is not None:
            log.debug("live: refused a connection of user %s: %s", user_id, refusal[1])
            return _refuse(start_response, *refusal, retry_after=5)
        release = self._releaser(user_id)
        try:
            return ClosingIterator(self.wsgi_app(environ, start_response), release)
        except BaseException:
            release()
            raise

    def _releaser(self, user_id: int) -> Callable[[], None]:
        done = threading.Event()

        def release() -> None:
            with self._lock:
                if done.is_set():
                    return
                done.set()
                left = self._held.get(user_id, 1) - 1
                if left > 0:
                    self._held[user_id] = left
                else:
                    self._held.pop(user_id, None)

        return release

    def _logged_in_user(self, environ: dict[str, Any]) -> int | None:
        """The user id of the request's login, checked as the pages check it (see dashboard.usersessions)."""
        with self.flask_app.request_context(dict(environ)):
            user_id = session.get("user_id")
        return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None


def _refuse(start_response: Callable, code: int, message: str, retry_after: int | None = None) -> list[bytes]:
    """A JSON error shaped like the API's (``error``, ``message``, ``status``), before any upgrade."""
    name = HTTP_STATUS_CODES[code]
    body = json.dumps({"error": name, "message": message, "status": code}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    start_response(f"{code} {name}", headers)
    return [body]
