"""Serve the dashboard with gunicorn: one process, many threads, WebSockets through simple-websocket.

This is how Flask-SocketIO's documentation deploys its threading mode (``gunicorn -w 1 --threads 100``).
There is one worker process because the Socket.IO rooms and the live poller live in its memory; more
workers would need sticky sessions and Redis. Each open live view holds one thread, so live connections
get at most :func:`dashboard.live.live_slots` of the ``threads`` and the rest stay free for pages: a flood of
sockets cannot starve logins (:class:`dashboard.live.LiveGate` refuses sockets without a login, more than
``live_connections_per_user`` per account, and past that bound). The app is built inside the worker,
after the fork.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from monitor.config import Settings

DEFAULT_THREADS = 100


class DashboardServer(BaseApplication):
    """gunicorn's arbiter with the dashboard app and its settings, configured in code (no config file)."""

    def __init__(self, settings: Settings, host: str, port: int, threads: int, access_log: bool) -> None:
        self.settings = settings
        self.threads = threads
        self.options: dict[str, Any] = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": 1,
            "worker_class": "gthread",
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

        app = create_app(self.settings)
        app.extensions["live_gate"].max_total = live_slots(self.threads)
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
