"""The live feed: Flask-SocketIO (threading mode) pushes each camera's newest frame summary to its room.

Without Redis, a background task polls the database about every 0.3 s for the newest frame of each
running session and emits it; with ``redis_url`` set, workers emit through Redis (``monitor.live``) and
Flask-SocketIO relays from the message queue. Browsers join a camera's room with a ``watch`` event, after
the same access check as the pages. Connections without a logged-in session are refused. Access is checked
again every few seconds (:class:`WatchGuard`), so a teacher unassigned from a camera, or a deleted account,
stops receiving its frames without waiting for the browser to reconnect.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, request, session
from flask_socketio import SocketIO, emit, join_room, leave_room, rooms
from sqlalchemy import select

from dashboard.access import MAX_ID, can_see_camera
from dashboard.db import Database, get_db
from dashboard.summaries import frame_payload
from dashboard.usersessions import current_token, token_hash
from monitor.config import Settings
from monitor.live import LIVE_EVENT, camera_room
from monitor.privacy import Privacy
from monitor.store.queries import latest_frame
from monitor.store.schema import Camera, ClassSession, User, UserSession, utcnow

log = logging.getLogger(__name__)

REVOKED_EVENT = "access_revoked"
WATCH_ERROR_EVENT = "watch_error"


def init_app(app: Flask, settings: Settings) -> SocketIO:
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=settings.redis_url or None,
    )
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
            privacy = Privacy.load(db)
            running = db.scalars(select(ClassSession).where(ClassSession.ended_at.is_(None))).all()
            live_ids = {cs.id for cs in running}
            for sid in list(self._last_frame):
                if sid not in live_ids:
                    del self._last_frame[sid]
            for cs in running:
                rows = latest_frame(db, cs.id, self._last_frame.get(cs.id, -1))
                if not rows:
                    continue
                self._last_frame[cs.id] = rows[0].frame_index
                payload = frame_payload(db, cs, rows, privacy)
                self.socketio.emit(LIVE_EVENT, payload, to=camera_room(cs.camera_id))
                sent.append(payload)
        return sent
