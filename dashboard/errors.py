"""Error answers: JSON for the API and the export routes, a small HTML page elsewhere; never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


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


def init_app(app: Flask) -> None:
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
    return render_template("error.html", code=code, name=exc.name, message=exc.description), code


def handle_unexpected(exc: Exception) -> Any:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http(InternalServerError("something went wrong on the server; it has been logged"))
