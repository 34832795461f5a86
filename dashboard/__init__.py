"""The teachers' web dashboard: a Flask app factory in the style of Flask's tutorial.

``create_app`` wires one small module per concern: the database (``db``), accounts, logins, CSRF and
security headers (``auth``, ``usersessions``, ``security``), the JSON API (``api``), the HTML pages
(``pages``), exports (``exports``) and the live Socket.IO feed (``live``). The web process never imports
the CNN or OpenCV.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from monitor.config import Settings

MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the dashboard app.

    ``settings`` is a :class:`monitor.config.Settings`, or a dict whose lower-case keys are Settings fields
    (``db_url``, ``redis_url``, ``secret_key``...) and whose upper-case keys are Flask config values.
    """
    settings, flask_config = _split_settings(settings)
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
        LIVE_POLL_INTERVAL_S=0.3,
        ACCESS_RECHECK_S=2.0,
        # See dashboard.security.LoginThrottle: free failures per counter, then delays doubling up to the max.
        LOGIN_FAILURES_ALLOWED=10,
        LOGIN_FAILURE_WINDOW_S=3600,
        LOGIN_MAX_DELAY_S=900,
    )
    app.config.update(flask_config)
    app.extensions["monitor_settings"] = settings
    if settings.proxy_hops:
        # Behind a reverse proxy: trust its X-Forwarded-For/Proto/Host (client address, HTTPS, host name).
        n = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from dashboard import (
        admin,
        api,
        auth,
        db,
        errors,
        exports,
        i18n,
        live,
        markers,
        pages,
        security,
        trends,
        usersessions,
    )

    db.init_app(app, settings.db_url)
    i18n.init_app(app)
    security.init_app(app, settings)
    usersessions.init_app(app, settings)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(trends.bp)
    app.register_blueprint(markers.bp)
    from dashboard import timetable  # the timetable page (issue 24)

    app.register_blueprint(timetable.bp)
    from dashboard import setup_picture  # camera set-up with a picture (issue 24)

    app.register_blueprint(setup_picture.bp)
    from dashboard import bulk_export  # a class's or camera's lessons in one zip (issue 24)

    bulk_export.init_app(app)
    from dashboard import camera_sources  # a camera's source, hosts and connection test (issue 24)

    camera_sources.init_app(app, settings)
    from dashboard import mail  # mail settings, a test message, each user's own address (issue 24)

    app.register_blueprint(mail.bp)
    live.init_app(app, settings)
    return app


def _split_settings(given: Settings | Mapping[str, Any] | None) -> tuple[Settings, dict[str, Any]]:
    if given is None:
        from monitor.config import load_settings

        return load_settings(), {}
    if isinstance(given, Settings):
        return given, {}
    names = {f.name for f in dataclasses.fields(Settings)}
    fields = {k: v for k, v in given.items() if k in names}
    unknown = [k for k in given if k not in names and not k.isupper()]
    if unknown:
        raise ValueError(f"unknown dashboard settings: {', '.join(sorted(unknown))}")
    return Settings(**fields), {k: v for k, v in given.items() if k.isupper()}
