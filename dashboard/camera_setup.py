"""An admin's change to a camera's classroom set-up (class size, mounting), checked like the CLI's."""

from __future__ import annotations

import json

from flask import abort, g

from dashboard import access
from dashboard.db import audit, write_db
from monitor.cameras import CameraConfigError, validate_changes
from monitor.store.cameras import apply_changes
from monitor.store.schema import Camera


def save_camera_setup(camera_id: str, class_size: str, mounting: str) -> str:
    """Store the class size and mounting of a camera; returns the message for the admin.

    Raises ``CameraConfigError`` (one line) for values the CLI would refuse too; 404 for an unknown camera.
    """
    if not camera_id.isdigit() or int(camera_id) > access.MAX_ID:
        abort(400, description="choose a camera")
    changes = validate_changes(class_size=class_size, mounting=mounting)
    with write_db() as db:
        cam = db.get(Camera, int(camera_id))
        if cam is None:
            abort(404, description="no such camera")
        name = cam.name
        apply_changes(db, name, dict(changes), create=False)
    audit(g.user.username, "camera", json.dumps({"camera": name, **changes}, sort_keys=True))
    size = changes["class_size"] or "not set (people in view)"
    return f"Camera {name}: class size {size}, {changes['mounting']} wall."


__all__ = ["CameraConfigError", "save_camera_setup"]
