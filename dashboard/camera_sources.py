"""The admin page's camera sources: set a camera's source and serving hosts, and test the connection.

Storage and the credential rules live in ``monitor.store.camera_sources``: a URL's ``user:password@`` is
stored apart, encrypted with the process setting ``camera_key``, and never comes back to a page: the form
shows the URL without it and "password set". A ``serve`` with ``database_cameras = true`` picks a change up
within seconds (``monitor.serve.db_cameras``). "Test connection" opens the stored source from the dashboard's
own host (``monitor.source_probe``) and says which host answered.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, request, url_for
from flask_babel import gettext

from dashboard import access
from dashboard.auth import admin_required
from dashboard.db import audit, get_db, write_db
from monitor.config import Settings
from monitor.store.camera_sources import (
    CameraSourceError,
    host_may_serve,
    key_configured,
    mask_text,
    openable_source,
    set_camera_source,
    source_view,
    use_settings,
)
from monitor.store.schema import Camera

bp = Blueprint("camera_sources", __name__)
_probes = threading.BoundedSemaphore(2)  # each test is a child process that may wait 10 s
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ProbeResult:
    """What a connection test found, and on which host it ran."""

    ok: bool
    host: str
    seconds: float
    width: int = 0
    height: int = 0
    fps: float = 0.0
    error: str = ""


def probe_source(source: str, timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Open ``source`` on this host in a child (``monitor.source_probe``); answers within ``timeout_s``."""
    host = socket.gethostname()
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "monitor.source_probe"],
            input=source,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "-8"},
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(False, host, time.monotonic() - started, error=f"no answer within {timeout_s:g} s")
    seconds = time.monotonic() - started
    try:
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        last = (proc.stderr.strip().splitlines() or [f"the test ended with status {proc.returncode}"])[-1]
        return ProbeResult(False, host, seconds, error=mask_text(last, source)[:300])
    if "error" in found:
        return ProbeResult(False, host, seconds, error=mask_text(found["error"], source)[:300])
    return ProbeResult(True, host, seconds, found["width"], found["height"], found["fps"])


@bp.app_template_global()
def camera_source_of(camera_id: int) -> dict:
    """The source form's values for a camera: never its credentials."""
    cam = get_db().get(Camera, camera_id)
    return {**(source_view(cam) if cam else {}), "key_configured": key_configured()}


def _camera(db, camera_id: int) -> Camera:
    cam = db.get(Camera, camera_id) if 0 < camera_id <= access.MAX_ID else None
    if cam is None:
        abort(404, description=gettext("no camera %(id)s", id=camera_id))
    return cam


def save_source(camera_id: int, source: str, hosts: str, clear_password: bool = False) -> str:
    """Store a camera's source and hosts; returns the message for the admin (``CameraSourceError``)."""
    with write_db() as db:
        cam = _camera(db, camera_id)
        before = source_view(cam)
        set_camera_source(db, cam, source, hosts, keep_password=not clear_password)
        after, name = source_view(cam), cam.name
    changes = []
    if (before["source"], before["password_set"]) != (after["source"], after["password_set"]):
        shown = after["source"] or gettext("none")
        if after["password_set"]:
            shown += " " + gettext("(password set)")
        changes.append(gettext("source %(source)s", source=shown))
    if before["hosts"] != after["hosts"]:
        changes.append(gettext("hosts %(hosts)s", hosts=", ".join(after["hosts"]) or gettext("any")))
    if not changes:
        return gettext("Camera %(name)s: nothing changed.", name=name)
    detail = {"camera": name, "source": after["source"], "password_set": after["password_set"]}
    audit(g.user.username, "camera", json.dumps({**detail, "hosts": after["hosts"]}, sort_keys=True))
    return gettext(
        "Camera %(name)s: %(changes)s. A serve with database_cameras = true runs it within 30 s.",
        name=name,
        changes="; ".join(changes),
    )


@bp.post("/admin/cameras/<int:camera_id>/source")
@admin_required
def source_post(camera_id: int) -> Any:
    f = request.form
    try:
        message = save_source(
            camera_id, f.get("source", ""), f.get("hosts", ""), bool(f.get("clear_password"))
        )
    except CameraSourceError as exc:
        flash(gettext("Source not saved: %(why)s.", why=exc), "error")
    else:
        flash(message, "info")
    return redirect(url_for("admin.cameras") + f"#camera-{camera_id}")


@bp.post("/admin/cameras/<int:camera_id>/test")
@admin_required
def test_post(camera_id: int) -> Any:
    """Open the camera's stored source from this host and flash what it gives (within 10 s)."""
    cam = _camera(get_db(), camera_id)
    back = redirect(url_for("admin.cameras") + f"#camera-{camera_id}")
    try:
        source = openable_source(cam)
    except CameraSourceError as exc:
        flash(gettext("Test of %(name)s: %(why)s.", name=cam.name, why=exc), "error")
        return back
    if source is None:
        flash(gettext("Test of %(name)s: no source set yet.", name=cam.name), "error")
        return back
    if not _probes.acquire(blocking=False):
        flash(gettext("Two connection tests are running already; try again in a few seconds."), "error")
        return back
    try:
        result = probe_source(source)
    finally:
        _probes.release()
    if result.ok:
        rate = f"{result.fps:g}"
        fps = gettext("%(fps)s fps", fps=rate) if result.fps > 0 else gettext("fps not reported")
        line = gettext(
            "Test of %(name)s from %(host)s (the dashboard's host): reachable, %(w)sx%(h)s, %(fps)s.",
            name=cam.name,
            host=result.host,
            w=result.width,
            h=result.height,
            fps=fps,
        )
    else:
        line = gettext(
            "Test of %(name)s from %(host)s (the dashboard's host): not reachable: %(why)s.",
            name=cam.name,
            host=result.host,
            why=result.error,
        )
    if not host_may_serve(cam.serve_hosts, socket.gethostname()):
        line += " " + gettext(
            "Its worker runs on %(hosts)s, which may see the camera differently.",
            hosts=", ".join(source_view(cam)["hosts"]),
        )
    flash(line, "info" if result.ok else "error")
    return back


def check_source(source: str, hosts: str) -> None:
    """Refuse a source or host list before a camera is added with it (``CameraSourceError``)."""
    probe = Camera()
    set_camera_source(None, probe, source, hosts, keep_password=False)


def source_for_new_camera(name: str, source: str, hosts: str) -> str:
    """After "Add a camera": store the source and hosts typed with it; returns the words to add."""
    if not (source or "").strip() and not (hosts or "").strip():
        return ""
    from monitor.cameras import clean_camera_name
    from monitor.store.cameras import camera_by_name

    with write_db() as db:
        cam = camera_by_name(db, clean_camera_name(name))
        camera_id = None if cam is None else cam.id
    return "" if camera_id is None else " " + save_source(camera_id, source, hosts)


def init_app(app: Flask, settings: Settings) -> None:
    """Register the routes; take ``camera_key`` from the dashboard's process settings."""
    use_settings(settings)
    app.register_blueprint(bp)
