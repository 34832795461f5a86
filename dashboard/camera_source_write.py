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
from monitor.store.camera_sources import FileSource, file_source_of, set_camera_source, source_view
from monitor.store.schema import Camera


def camera_or_404(db: Session, camera_id: int) -> Camera:
    """The camera ``camera_id`` (any camera: the admin pages), else 404."""
    cam = db.get(Camera, camera_id) if 0 < camera_id <= access.MAX_ID else None
    if cam is None:
        abort(404, description=gettext("no camera %(id)s", id=camera_id))
    return cam


def save_source(camera_id: int, source: str, hosts: str, clear_password: bool = False) -> str:
    """Store a camera's source and hosts; returns the message for the admin (``CameraSourceError``).

    A camera a serve runs from its config file is saved too, and the message says plainly that the saved
    source is not used while that file lists the camera (see :func:`file_source_warning`)."""
    with write_db() as db:
        cam = camera_or_404(db, camera_id)
        before = source_view(cam)
        set_camera_source(db, cam, source, hosts, keep_password=not clear_password)
        after, name, in_file = source_view(cam), cam.name, file_source_of(cam)
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
    if in_file is not None:
        return gettext(
            "Camera %(name)s: %(changes)s. Saved, but NOT used: %(why)s",
            name=name,
            changes="; ".join(changes),
            why=file_source_warning(in_file),
        )
    return gettext(
        "Camera %(name)s: %(changes)s. A serve with database_cameras = true runs it within 30 s.",
        name=name,
        changes="; ".join(changes),
    )


def file_source_warning(in_file: FileSource) -> str:
    """The one line an admin reads about a camera whose source a serve config file sets."""
    return gettext(
        "the serve config file on host %(host)s sets this camera's source (%(source)s), and serve uses it; "
        "a source saved here is not used while that file lists the camera. To use it, remove the camera "
        "from that file and restart serve on %(host)s.",
        host=in_file.host,
        source=in_file.source,
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
