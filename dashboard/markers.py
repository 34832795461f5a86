"""Lesson markers over the API: list, add (live or afterwards) and delete; see dashboard/API.md.

Whoever may see a session may mark it (teachers on their cameras, admins); a marker can be deleted by its
author or an admin. A new marker is also sent to the camera's live room as the Socket.IO event ``marker``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_babel import gettext

from dashboard import access
from dashboard.db import audit, get_db, write_db
from monitor.live import camera_room
from monitor.store.markers import MarkerError, add_marker, delete_marker, list_markers, marker_dict, parse_at
from monitor.store.schema import LessonMarker

log = logging.getLogger(__name__)
bp = Blueprint("markers", __name__, url_prefix="/api")
MARKER_EVENT = "marker"


@bp.get("/sessions/<int:session_id>/markers")
def markers(session_id: int) -> Any:
    db = get_db()
    access.session_or_404(db, session_id)
    return jsonify(session_id=session_id, markers=list_markers(db, session_id))


@bp.post("/sessions/<int:session_id>/markers")
def add(session_id: int) -> Any:
    cs = access.session_or_404(get_db(), session_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(
            400,
            description=gettext(
                'send a JSON object such as {"text": "quiz"} (Content-Type: application/json)'
            ),
        )
    unknown = sorted(set(body) - {"text", "at"})
    if unknown:
        abort(
            400,
            description=gettext(
                "unknown field %(name)s; send text and optionally at", name=repr(unknown[0][:40])
            ),
        )
    try:
        at = None if body.get("at") in (None, "") else parse_at(body["at"])
        with write_db() as db:
            marker = add_marker(db, session_id, at, body.get("text"), g.user.id)
            out = marker_dict(marker, g.user.username)
    except MarkerError as exc:
        abort(400, description=str(exc))
    except LookupError:
        abort(404, description=gettext("no session %(id)s", id=session_id))
    audit(g.user.username, "marker", f"session={session_id} marker={out['id']}")
    _announce(cs.camera_id, session_id, out)
    return jsonify(out), 201


@bp.delete("/sessions/<int:session_id>/markers/<int:marker_id>")
def remove(session_id: int, marker_id: int) -> Any:
    db = get_db()
    access.session_or_404(db, session_id)
    marker = db.get(LessonMarker, marker_id) if marker_id <= access.MAX_ID else None
    if marker is None or marker.session_id != session_id:
        abort(
            404,
            description=gettext(
                "no marker %(marker)s in session %(session)s", marker=marker_id, session=session_id
            ),
        )
    if not g.user.is_admin and marker.created_by != g.user.id:
        abort(403, description=gettext("only the marker's author or an admin may delete it"))
    with write_db() as wdb:
        if not delete_marker(wdb, session_id, marker_id):
            abort(
                404,
                description=gettext(
                    "no marker %(marker)s in session %(session)s", marker=marker_id, session=session_id
                ),
            )
    audit(g.user.username, "marker delete", f"session={session_id} marker={marker_id}")
    return "", 204


def _announce(camera_id: int, session_id: int, marker: dict) -> None:
    """Tell the camera's live viewers; a failure here never undoes the stored marker."""
    socketio = current_app.extensions.get("socketio")
    if socketio is None:
        return
    payload = {"session_id": session_id, "camera_id": camera_id, "marker": marker}
    try:
        socketio.emit(MARKER_EVENT, payload, to=camera_room(camera_id))
    except Exception as exc:  # noqa: BLE001 - e.g. Redis unreachable: the marker is stored all the same
        log.warning("marker event not sent: %s", exc)
