"""Camera set-up with a picture: the browser twin of ``classroom-monitor calibrate --snapshot``.

The admin asks for one frame (a POST: an explicit request). A child process (``python -m
monitor.setup_snapshot``: the web process never loads OpenCV or the models) reads it from the camera's source
and runs the detector, the ROI and the posture model on it; its JSON comes back through a pipe and is answered
inline, the JPEG in a data URL, with ``Cache-Control: no-store``: the picture lives in the page's memory only,
never on disk or in the database. The page draws the boxes and lets the admin draw ignore areas, count-only
areas and the front of the room; saving goes through ``dashboard.camera_setup.edit_camera`` like the camera
form.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from dashboard import access
from dashboard.auth import admin_required
from dashboard.camera_setup import CameraConfigError, board_text, calibration_status, edit_camera
from dashboard.db import audit, get_db
from monitor.cameras import rects_text
from monitor.config import ENV_PREFIX, Settings
from monitor.store.cameras import config_of
from monitor.store.schema import Camera

bp = Blueprint("setup_picture", __name__)
SAVED_FIELDS = ("board", "ignore", "include")
SNAPSHOT_TIMEOUT_S = 30.0
"""The child's start (about 1 s), its 10 s for the source's frames and the detector, with room to spare."""
_one_at_a_time = threading.Lock()  # each snapshot runs the detector: one per web process at a time


class SnapshotFailed(Exception):
    """The child gave no picture; the message is its one line for the admin."""


def run_snapshot(settings: Settings, camera_id: int) -> dict:
    """The snapshot JSON of ``python -m monitor.setup_snapshot``, read from its standard output. The database
    URL and the camera-source key go through the child's environment, never its command line (``ps``)."""
    cmd = [sys.executable, "-m", "monitor.setup_snapshot", "--camera-id", str(camera_id)]
    cmd += ["--detector", settings.detector, "--read-timeout", f"{min(settings.read_timeout_s, 5.0):g}"]
    private_env = {f"{ENV_PREFIX}DB": settings.db_url}
    if key := getattr(settings, "camera_key", None):
        private_env[f"{ENV_PREFIX}CAMERA_KEY"] = key
    env = {**os.environ, **private_env, "OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "-8"}
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=SNAPSHOT_TIMEOUT_S, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SnapshotFailed(gettext("no answer within %(s)d s", s=round(SNAPSHOT_TIMEOUT_S))) from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SnapshotFailed(lines[-1] if lines else f"exit status {proc.returncode}")
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise SnapshotFailed("the snapshot process gave no picture") from exc


def _camera_or_404(camera_id: int) -> Camera:
    cam = get_db().get(Camera, camera_id) if 0 < camera_id <= access.MAX_ID else None
    if cam is None:
        abort(404, description=gettext("no camera %(id)s", id=camera_id))
    return cam


@bp.get("/admin/cameras/<int:camera_id>/picture")
@admin_required
def picture_page(camera_id: int) -> Any:
    cam = _camera_or_404(camera_id)
    cfg = config_of(cam)
    return render_template(
        "camera_picture.html",
        camera={
            "id": cam.id,
            "name": cam.name,
            "mounting": cfg.mounting,
            "board": board_text(cfg),
            "calibration": calibration_status(cfg),
            "ignore": rects_text(cfg.ignore),
            "include": rects_text(cfg.include),
        },
    )


@bp.post("/admin/cameras/<int:camera_id>/picture")
@admin_required
def picture_save(camera_id: int) -> Any:
    _camera_or_404(camera_id)
    form = {k: request.form[k] for k in SAVED_FIELDS if k in request.form}
    try:
        message = edit_camera(camera_id, form)
    except CameraConfigError as exc:
        flash(gettext("Camera not saved: %(why)s.", why=exc), "error")
    else:
        flash(message + " " + gettext("Workers read the set-up when they start."), "info")
    return redirect(url_for("setup_picture.picture_page", camera_id=camera_id))


@bp.post("/api/cameras/<int:camera_id>/snapshot")
@admin_required
def snapshot(camera_id: int) -> Any:
    """One frame from the camera's source with the boxes the detector finds and the posture of each."""
    cam = _camera_or_404(camera_id)
    settings = current_app.extensions["monitor_settings"]
    if not _one_at_a_time.acquire(blocking=False):
        abort(429, description=gettext("another snapshot is being taken; try again in a few seconds"))
    try:
        shot = run_snapshot(settings, cam.id)
    except SnapshotFailed as exc:
        abort(409, description=gettext("no picture from camera %(name)s: %(why)s", name=cam.name, why=exc))
    finally:
        _one_at_a_time.release()
    audit(g.user.username, "camera_snapshot", json.dumps({"camera": cam.name}, ensure_ascii=False))
    resp = jsonify(shot)
    resp.headers["Cache-Control"] = "no-store"
    return resp
