"""An admin's changes to cameras (add, rename, class size, mounting, front of the room, ROI), checked like the
CLI's values (``monitor.cameras.validate_changes``). Bad values raise ``CameraConfigError`` with one line."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import abort, g
from flask_babel import gettext

from dashboard import access
from dashboard.db import audit, write_db
from monitor.cameras import (
    CameraConfig,
    CameraConfigError,
    clean_camera_name,
    rects_text,
    validate_changes,
)
from monitor.locales import N_
from monitor.store.cameras import apply_changes, config_of
from monitor.store.directory import camera_name_taken
from monitor.store.schema import Camera


def check_camera_name(name: str) -> str:
    """The name as stored (``monitor.cameras.clean_camera_name``, the rule workers follow too)."""
    return clean_camera_name(name)


def _name_taken(db, name: str, other_than: int | None = None) -> str | None:
    """The existing camera name that names the same camera as ``name`` (Room 3 / room 3 would confuse)."""
    return camera_name_taken(db, name, other_than)


def board_text(cfg: CameraConfig) -> str:
    """The front-of-room setting as typed: ``auto`` or ``yaw,pitch`` (set by an admin)."""
    if cfg.board_mode == "fixed" and cfg.board is not None:
        return f"{cfg.board[0]:g},{cfg.board[1]:g}"
    return "auto"


FRONT_NOT_SET = N_("not set (posture does not use it; it only orients the calibrate drawing)")
FRONT_POSE = N_("yaw %(yaw)s°, pitch %(pitch)s°")
FRONT_SET = N_("set by an admin: %(pose)s")
FRONT_MEASURED = N_("measured from the students' faces: %(pose)s")


def _english(text: str, **values: str) -> str:
    return text % values


def calibration_status(cfg: CameraConfig, translate: Callable[..., str] = gettext) -> str:
    """Where the front of the room stands: set by an admin, measured from faces (``calibrate --save``, or a
    lesson before posture-v1), or not set. Nothing learns it any more: posture does not use it."""
    if cfg.board is None:
        return translate(FRONT_NOT_SET)
    pose = translate(FRONT_POSE, yaw=f"{cfg.board[0]:.1f}", pitch=f"{cfg.board[1]:.1f}")
    return translate(FRONT_SET if cfg.board_mode == "fixed" else FRONT_MEASURED, pose=pose)


def _describe_changes(before: CameraConfig, after: CameraConfig) -> list[str]:
    def size(n: int | None) -> str:
        return str(n) if n else "not set"

    out = []
    if before.class_size != after.class_size:
        out.append(f"class size {size(after.class_size)} (was {size(before.class_size)})")
    if before.mounting != after.mounting:
        out.append(f"{after.mounting} wall (was {before.mounting})")
    if (before.board_mode, before.board) != (after.board_mode, after.board):
        out.append(f"front of the room {calibration_status(after, _english)}")
    for label, old, new in (
        ("ignored areas", before.ignore, after.ignore),
        ("counted areas", before.include, after.include),
    ):
        if old != new:
            out.append(f"{label} {rects_text(new) or 'none'} (was {rects_text(old) or 'none'})")
    return out


def add_camera(name: str, class_size: str = "", mounting: str = "front") -> str:
    """Register a camera before its worker first runs; returns the message for the admin."""
    name = check_camera_name(name)
    changes = validate_changes(class_size=class_size, mounting=mounting or "front")
    with write_db() as db:
        if taken := _name_taken(db, name):
            raise CameraConfigError(f"a camera named {taken!r} exists already (names ignore case)")
        apply_changes(db, name, dict(changes), create=True)
    audit(g.user.username, "camera_add", json.dumps({"camera": name, **changes}, sort_keys=True))
    size = f"class size {changes['class_size']}" if changes["class_size"] else "no class size"
    return (
        f"Added camera {name!r} ({size}, {changes['mounting']} wall). "
        f"Start its worker with --camera {name!r}."
    )


def edit_camera(camera_id: int, form: dict[str, str]) -> str:
    """Apply the camera form (name, class_size, mounting, board, ignore, include; a missing field stays as
    it is); returns one line naming exactly what changed. Nothing is stored when any field is refused."""
    with write_db() as db:
        cam = db.get(Camera, camera_id) if 0 < camera_id <= access.MAX_ID else None
        if cam is None:
            abort(404, description=gettext("no camera %(id)s", id=camera_id))
        old_name, before = cam.name, config_of(cam)
        new_name = check_camera_name(form["name"]) if form.get("name") is not None else old_name
        board = form.get("board")
        if board is not None and board.strip().lower() == board_text(before):
            board = None  # unchanged: keep a measured front instead of forgetting it
        changes = validate_changes(
            class_size=form.get("class_size"),
            mounting=form.get("mounting"),
            board=board,
            ignore=form.get("ignore"),
            include=form.get("include"),
        )
        if new_name != old_name:
            if taken := _name_taken(db, new_name, other_than=cam.id):
                raise CameraConfigError(f"a camera named {taken!r} exists already (names ignore case)")
            cam.name = new_name
            db.flush()
        apply_changes(db, new_name, dict(changes), create=False)
        what = _describe_changes(before, config_of(cam))
    if new_name != old_name:
        what.insert(0, f"renamed to {new_name!r}; start its worker with --camera {new_name!r} from now on")
    if not what:
        return f"Camera {old_name!r}: nothing changed."
    detail = {"camera": old_name, "changes": what}
    audit(g.user.username, "camera", json.dumps(detail, sort_keys=True, ensure_ascii=False))
    return f"Camera {old_name!r}: " + "; ".join(what) + "."


__all__ = [
    "CameraConfigError",
    "add_camera",
    "board_text",
    "calibration_status",
    "check_camera_name",
    "edit_camera",
]
