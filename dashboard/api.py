"""The JSON API the pages use (documented in dashboard/API.md). Every route needs a login."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, request
from flask_babel import gettext

from dashboard import access
from dashboard.auth import admin_required
from dashboard.db import audit, get_db, write_db
from dashboard.params import bucket_arg, date_arg, int_arg
from dashboard.security import csrf_token
from dashboard.settings_write import save_settings
from monitor.store import directory
from monitor.store.schema import Camera, CameraAssignment, User
from monitor.store.site_settings import all_settings
from monitor.views import lesson
from monitor.views import sessions as sessions_view
from monitor.views.cameras import cameras_with_mood

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
def me() -> Any:
    audience = access.audience(get_db())
    return jsonify(
        username=g.user.username,
        is_admin=g.user.is_admin,
        csrf_token=csrf_token(),
        privacy={"emotions": audience.emotions, "tracks": audience.tracks},
    )


@bp.get("/cameras")
def cameras() -> Any:
    db = get_db()
    return jsonify(cameras=cameras_with_mood(db, access.audience(db)))


@bp.get("/cameras/<int:camera_id>")
def camera(camera_id: int) -> Any:
    db = get_db()
    access.camera_or_404(db, camera_id)
    return jsonify(cameras_with_mood(db, access.audience(db), [camera_id])[0])


@bp.get("/cameras/<int:camera_id>/live")
def camera_live(camera_id: int) -> Any:
    db = get_db()
    access.camera_or_404(db, camera_id)
    return jsonify(camera_id=camera_id, **lesson.live_snapshot(db, camera_id, access.audience(db)))


@bp.get("/sessions")
def sessions() -> Any:
    db = get_db()
    who = access.audience(db)
    camera_id = int_arg("camera_id", low=1, high=access.MAX_ID)
    start, end = date_arg("from", who.zone), date_arg("to", who.zone, end=True)  # school days, as on /trends
    if start and end and end <= start:
        abort(400, description=gettext("'to' must be after 'from'"))
    limit = int_arg("limit", low=1, high=5000, default=500)
    found = sessions_view.session_list(db, who, camera_id=camera_id, start=start, end=end, limit=limit)
    return jsonify(sessions=found)


@bp.get("/sessions/<int:session_id>")
def session(session_id: int) -> Any:
    db = get_db()
    cs = access.session_or_404(db, session_id)
    return jsonify(
        **sessions_view.session_fields(cs),
        camera_name=cs.camera.name,
        summary=lesson.session_summary(db, cs, access.audience(db)),
    )


@bp.get("/sessions/<int:session_id>/timeline")
def timeline(session_id: int) -> Any:
    db = get_db()
    cs = access.session_or_404(db, session_id)
    bucket_s, buckets = lesson.timeline(db, cs, access.audience(db), bucket_arg())
    return jsonify(session_id=session_id, bucket_s=bucket_s, buckets=buckets)


def _tracks_allowed(db) -> None:
    if not lesson.tracks_shown(access.audience(db)):
        abort(404, description=gettext("per-track data is turned off on this site (class-only views)"))


@bp.get("/sessions/<int:session_id>/tracks")
def tracks(session_id: int) -> Any:
    db = get_db()
    cs = access.session_or_404(db, session_id)
    _tracks_allowed(db)
    return jsonify(session_id=session_id, tracks=lesson.track_rows(db, cs, access.audience(db)))


@bp.get("/sessions/<int:session_id>/tracks/<int:track_id>/timeline")
def track_timeline(session_id: int, track_id: int) -> Any:
    db = get_db()
    cs = access.session_or_404(db, session_id)
    _tracks_allowed(db)
    if track_id > access.MAX_ID or not lesson.has_track(db, cs, track_id):
        abort(
            404,
            description=gettext(
                "no track %(track)s in session %(session)s", track=track_id, session=session_id
            ),
        )
    bucket_s, buckets = lesson.track_timeline(db, cs, track_id, access.audience(db), bucket_arg())
    return jsonify(session_id=session_id, track_id=track_id, bucket_s=bucket_s, buckets=buckets)


# ---- administration -------------------------------------------------------------------------------------


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description=gettext("send a JSON object (Content-Type: application/json)"))
    return body


@bp.route("/settings", methods=["GET", "PUT"])
@admin_required
def settings() -> Any:
    if request.method == "GET":
        return jsonify(all_settings(get_db()))
    return jsonify(save_settings(_json_body()))


@bp.get("/users")
@admin_required
def users() -> Any:
    db = get_db()
    out = []
    for u in directory.users(db):
        out.append(
            {
                "id": u.id,
                "username": u.username,
                "is_admin": u.is_admin,
                "camera_ids": sorted(directory.camera_ids_for_user(db, u.id)),
            }
        )
    return jsonify(users=out)


def set_assignment(user_id: int, camera_id: int, assigned: bool) -> bool:
    """Give or take a camera from a user; returns whether anything changed. 404 for unknown ids."""
    with write_db() as db:
        user = db.get(User, user_id) if user_id <= access.MAX_ID else None
        cam = db.get(Camera, camera_id) if camera_id <= access.MAX_ID else None
        if user is None or cam is None:
            abort(404, description=gettext("no such user or camera"))
        row = db.get(CameraAssignment, (user_id, camera_id))
        if assigned and row is None:
            db.add(CameraAssignment(user_id=user_id, camera_id=camera_id))
        elif not assigned and row is not None:
            db.delete(row)
        else:
            return False
        names = (user.username, cam.name)
    audit(g.user.username, "assign" if assigned else "unassign", f"user={names[0]} camera={names[1]}")
    return True


@bp.route("/users/<int:user_id>/cameras/<int:camera_id>", methods=["PUT", "DELETE"])
@admin_required
def assignment(user_id: int, camera_id: int) -> Any:
    assigned = request.method == "PUT"
    changed = set_assignment(user_id, camera_id, assigned)
    return jsonify(user_id=user_id, camera_id=camera_id, assigned=assigned, changed=changed)
