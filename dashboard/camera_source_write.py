"""Writing a camera's source and serving hosts, shared by the camera-source routes
(``dashboard.camera_sources``) and "Add a camera" (``dashboard.admin``). Not a route module.

Storage and the credential rules are ``monitor.store.camera_sources``'s.
"""

from __future__ import annotations

import json

from flask import abort, g
from flask_babel import gettext
from sqlalchemy.orm import Session

from dashboard import access
from dashboard.db import audit, write_db
from monitor.store.camera_sources import set_camera_source, source_view
from monitor.store.schema import Camera


def camera_or_404(db: Session, camera_id: int) -> Camera:
    """The camera ``camera_id`` (any camera: the admin pages), else 404."""
    cam = db.get(Camera, camera_id) if 0 < camera_id <= access.MAX_ID else None
    if cam is None:
        abort(404, description=gettext("no camera %(id)s", id=camera_id))
    return cam


def save_source(camera_id: int, source: str, hosts: str, clear_password: bool = False) -> str:
    """Store a camera's source and hosts; returns the message for the admin (``CameraSourceError``)."""
    with write_db() as db:
        cam = camera_or_404(db, camera_id)
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
