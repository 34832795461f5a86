"""Error answers: JSON for the API and the export routes, a small HTML page elsewhere; never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, InternalServerError

from dashboard.i18n import N_

log = logging.getLogger(__name__)
HTTP_NAMES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Request Entity Too Large"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
)
"""The error page's titles, for the catalogue (Werkzeug names them in English)."""


def wants_json() -> bool:
    return request.path.startswith("/api/") or "/export." in request.path


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply for the parser (``[[[[...`` 20,000 deep) is
    malformed JSON (a ValueError, so a 400) instead of a RecursionError (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class CloseUnreadBodies:
    """WSGI: an answer that leaves a request body unread closes the connection, and says so.

    The app reads at most ``MAX_CONTENT_LENGTH`` bytes and refuses more with a 413. gunicorn then announced
    ``Connection: keep-alive``, tried to drain the rest (64 kB at most) and dropped the socket, so a client
    that believed the header lost its next request. Now a 413, and any answer to a request that declares a
    body over the limit or comes chunked (a 401 before a big upload is read), says ``Connection: close`` and
    the connection closes. gunicorn ignores an application's hop-by-hop headers, so it is told through its
    own response object (the ``start_response`` it passes is that object's bound method); Werkzeug's server
    honours the header."""

    def __init__(self, app: WSGIApp, max_body: int | None) -> None:
        self.app = app
        self.max_body = max_body

    def _body_left_unread(self, environ: dict) -> bool:
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return True
        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return True
        return self.max_body is not None and declared > self.max_body

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        too_big = self._body_left_unread(environ)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if too_big or status.startswith("413"):
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
                force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
                if callable(force_close):  # gunicorn: its switch for "Connection: close" and closing
                    force_close()
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def init_app(app: Flask) -> None:
    limit = app.config.get("MAX_CONTENT_LENGTH")
    app.wsgi_app = CloseUnreadBodies(app.wsgi_app, limit)  # type: ignore[method-assign]
    provider = BoundedJSONProvider(app)
    for attr in ("ensure_ascii", "sort_keys", "compact", "mimetype"):
        setattr(provider, attr, getattr(app.json, attr))
    app.json = provider
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)


def handle_http(exc: HTTPException) -> Any:
    code = exc.code or 500
    if wants_json():
        resp = jsonify(error=exc.name, message=exc.description, status=code)
        resp.status_code = code
        for key in ("Retry-After", "Allow"):
            if exc.get_headers() and (value := dict(exc.get_headers()).get(key)):
                resp.headers[key] = value
        return resp
    return render_template("error.html", code=code, name=gettext(exc.name), message=exc.description), code


def handle_unexpected(exc: Exception) -> Any:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http(InternalServerError(gettext("something went wrong on the server; it has been logged")))
