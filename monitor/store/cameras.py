"""Camera set-up in the store: read a ``CameraConfig``, apply checked changes, keep a measured front."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.cameras import CameraConfig, camera_name_key, clean_camera_name, roi_from_json, roi_json
from monitor.store.schema import Camera, ClassSession


def camera_by_name(db: Session, name: str) -> Camera | None:
    """The camera called ``name``: exactly, else the (oldest) one whose name differs only in case, width or
    spacing (``monitor.cameras.camera_name_key``), so ``C1`` and `` c1`` find camera ``c1``."""
    cam = db.scalar(select(Camera).where(Camera.name == name))
    if cam is not None:
        return cam
    key = camera_name_key(name)
    for cam_id, stored in db.execute(select(Camera.id, Camera.name).order_by(Camera.id)):
        if camera_name_key(stored) == key:
            return db.get(Camera, cam_id)
    return None


def get_or_create_camera(db: Session, name: str) -> Camera:
    """The camera ``name`` finds, else a new one under the cleaned name (``CameraConfigError``: bad name)."""
    cam = camera_by_name(db, clean_camera_name(name))
    if cam is None:
        cam = Camera(name=clean_camera_name(name))
        db.add(cam)
        db.flush()
    return cam


def config_of(cam: Camera | None) -> CameraConfig:
    """The set-up stored for ``cam`` (defaults for a camera not stored yet)."""
    if cam is None:
        return CameraConfig()
    ignore, include = roi_from_json(cam.roi)
    board = None
    if cam.board_yaw is not None and cam.board_pitch is not None:
        board = (cam.board_yaw, cam.board_pitch)
    return CameraConfig(
        class_size=cam.class_size,
        mounting=cam.mounting or "front",
        board_mode=cam.board_mode or "auto",
        board=board,
        ignore=ignore,
        include=include,
    )


def apply_changes(db: Session, name: str, changes: dict, create: bool = True) -> Camera | None:
    """Store ``changes`` (from ``monitor.cameras.validate_changes``) on camera ``name``.

    Creates the camera when ``create`` (an admin may set a room up before its worker first runs); returns
    None for an unknown camera otherwise.
    """
    cam = camera_by_name(db, name)
    if cam is None:
        if not create:
            return None
        cam = get_or_create_camera(db, name)
    current = config_of(cam)
    ignore = changes.pop("roi_ignore", current.ignore)
    include = changes.pop("roi_include", current.include)
    for key, value in changes.items():
        setattr(cam, key, value)
    cam.roi = roi_json(ignore, include)
    db.flush()
    return cam


def save_learned_board(db: Session, camera_id: int, board: tuple[float, float]) -> bool:
    """Keep a front direction measured by ``calibrate --save``, unless an admin has set one."""
    cam = db.get(Camera, camera_id)
    if cam is None or cam.board_mode != "auto":
        return False
    cam.board_yaw, cam.board_pitch = round(board[0], 2), round(board[1], 2)
    return True


def setup_session(db_factory: sessionmaker, camera_id: int, session_id: int) -> CameraConfig:
    """The camera's set-up for a new session; notes on the session which denominator its heads-up uses."""
    with db_factory.begin() as db:
        cfg = config_of(db.get(Camera, camera_id))
        cs = db.get(ClassSession, session_id)
        if cs is not None:
            cs.class_size = cfg.class_size
            cs.attention_basis = "class_size" if cfg.class_size else "in_view"
    return cfg
