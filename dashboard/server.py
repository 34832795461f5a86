"""Serve the dashboard with gunicorn: one process, many threads, WebSockets through simple-websocket.

This is how Flask-SocketIO's documentation deploys its threading mode (``gunicorn -w 1 --threads 100``).
There is one worker process because the Socket.IO rooms and the live poller live in its memory; more
workers would need sticky sessions and Redis. Each open live view holds one thread, so live connections
get at most :func:`dashboard.live.live_slots` of the ``threads`` and the rest stay free for pages: a flood of
sockets cannot starve logins (:class:`dashboard.live.LiveGate` refuses sockets without a login, more than
``live_connections_per_user`` per account, and past that bound). Nor can connections that send nothing,
or their headers a byte at a time: :class:`HeadersFirstWorker` gives a connection a thread only once its
request's headers are in. The app is built inside the worker, after the fork.
"""

from __future__ import annotations

import contextlib
import errno
import time
from functools import partial
from selectors import EVENT_READ
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

from monitor.config import Settings

DEFAULT_THREADS = 100
HEADERS_DEADLINE_S = 10.0
"""From a request's first byte (or a new connection's accept) to the end of its headers; then it is closed."""
MAX_HEADER_BYTES = 64 * 1024
"""Headers read this far without their end go to a thread anyway: gunicorn's parser answers them."""


class HeadConn(TConn):
    """A connection that carries the request bytes read before it got a thread."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.head = bytearray()

    def init(self) -> None:
        super().init()
        if self.head:
            self.parser.unreader.unread(bytes(self.head))
            self.head = bytearray()


class HeadersFirstWorker(ThreadWorker):
    """gunicorn's threaded worker, but a connection waits in the event loop, not in a thread, until the
    headers of its request are in.

    The stock worker hands each new connection to a thread that waits up to 5 s for a first byte, then
    blocks reading headers with no time limit: 100 connections that send nothing, or half a request
    line, take every thread and the login page stops answering. Here the event loop reads a request's
    first bytes itself (new connections and kept-alive ones alike), passes the connection on once the
    blank line that ends the headers has arrived, and closes it when that takes over
    ``HEADERS_DEADLINE_S``. Connections still count against gunicorn's ``worker_connections``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heading: dict[HeadConn, float] = {}  # connection -> when its headers are due

    def accept(self, listener: Any) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_headers(HeadConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection sends its next request: read its headers in the loop too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        if isinstance(conn, HeadConn):
            self._await_headers(conn)
            self._on_head_readable(conn, client)
        else:
            self.enqueue_req(conn)

    def _await_headers(self, conn: HeadConn) -> None:
        conn.sock.setblocking(False)
        self.heading[conn] = time.monotonic() + HEADERS_DEADLINE_S
        self.poller.register(conn.sock, EVENT_READ, partial(self._on_head_readable, conn))

    def _on_head_readable(self, conn: HeadConn, _client: Any) -> None:
        if conn not in self.heading:
            return
        try:
            data = conn.sock.recv(MAX_HEADER_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before its request was complete
            self._drop(conn)
            return
        conn.head += data
        if b"\r\n\r\n" in conn.head or b"\n\n" in conn.head or len(conn.head) >= MAX_HEADER_BYTES:
            self.poller.unregister(conn.sock)
            del self.heading[conn]
            conn.data_ready = True
            self.enqueue_req(conn)

    def _drop(self, conn: HeadConn) -> None:
        self.heading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):  # not registered (any more)
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close the connections whose headers did not arrive in time (and gunicorn's own pending ones)."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, due in self.heading.items() if due <= now]:
            self._drop(conn)


def worker_class() -> type[ThreadWorker] | str:
    """:class:`HeadersFirstWorker` where this gunicorn's threaded worker has the hooks it builds on."""
    if all(hasattr(ThreadWorker, hook) for hook in ("enqueue_req", "murder_pending")):
        return HeadersFirstWorker
    return "gthread"  # an older gunicorn without those hooks: its stock threaded worker


class DashboardServer(BaseApplication):
    """gunicorn's arbiter with the dashboard app and its settings, configured in code (no config file)."""

    def __init__(self, settings: Settings, host: str, port: int, threads: int, access_log: bool) -> None:
        self.settings = settings
        self.threads = threads
        self.options: dict[str, Any] = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": 1,
            "worker_class": worker_class(),
            "threads": threads,
            "graceful_timeout": 5,
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "loglevel": settings.log_level.lower(),
            "proc_name": "classroom-monitor-dashboard",
            # Forwarded headers are trusted only through the proxy_hops setting (ProxyFix in create_app),
            # the same rule as under --dev.
            "forwarded_allow_ips": "",
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from dashboard import create_app
        from dashboard.live import live_slots
        from monitor import gc_tuning

        app = create_app(self.settings)
        app.extensions["live_gate"].max_total = live_slots(self.threads)
        gc_tuning.settle()  # the app is built: no request pays for walking it in a full collection
        return app


def serve(settings: Settings, host: str, port: int, threads: int = DEFAULT_THREADS, access_log: bool = False):
    """Run until SIGINT/SIGTERM (gunicorn's arbiter exits the process)."""
    # Import the app's modules here, before the fork, so the worker is ready moments after the port opens;
    # the app itself (engines, background tasks) is still built in the worker.
    import dashboard.api
    import dashboard.exports
    import dashboard.live
    import dashboard.pages  # noqa: F401

    DashboardServer(settings, host, port, threads, access_log).run()
