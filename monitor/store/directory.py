"""Who and what the site has: its users, cameras and who may see which, as the admin pages, the API and the
CLI list them. Reads only; the account changes live in ``dashboard.accounts``, the camera set-up in
``monitor.store.cameras``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.cameras import camera_name_key
from monitor.store.schema import Camera, CameraAssignment, User, username_key


def user_named(db: Session, name: str) -> User | None:
    """The account called ``name``, whatever its case (``username_key``)."""
    return db.scalars(select(User).where(User.username_key == username_key(name))).first()


def users(db: Session, *, by_key: bool = False) -> list[User]:
    """Every account, by user name (``by_key``: case-free, as the admin page lists them)."""
    return list(db.scalars(select(User).order_by(User.username_key if by_key else User.username)))


def cameras(db: Session, camera_ids: Iterable[int] | None = None) -> list[Camera]:
    """The cameras with these ids (None: all), by name."""
    stmt = select(Camera).order_by(Camera.name)
    if camera_ids is not None:
        stmt = stmt.where(Camera.id.in_(list(camera_ids)))
    return list(db.scalars(stmt))


def cameras_by_id(db: Session, camera_ids: Iterable[int]) -> dict[int, Camera]:
    """The cameras among ``camera_ids`` that exist, by id."""
    wanted = list(camera_ids)
    return {c.id: c for c in db.scalars(select(Camera).where(Camera.id.in_(wanted)))} if wanted else {}


def camera_names(db: Session) -> dict[int, str]:
    """Every camera's name by id."""
    return {cid: name for cid, name in db.execute(select(Camera.id, Camera.name))}


def camera_with_name(db: Session, name: str) -> Camera | None:
    """The camera named exactly ``name``."""
    return db.scalars(select(Camera).where(Camera.name == name)).first()


def first_camera_id(db: Session) -> int | None:
    """The id of the first camera by name (None: no camera yet)."""
    return db.scalars(select(Camera.id).order_by(Camera.name).limit(1)).first()


def camera_name_taken(db: Session, name: str, other_than: int | None = None) -> str | None:
    """The existing camera name (other than camera ``other_than``'s) that names the same camera as ``name``
    (``monitor.cameras.camera_name_key``: Room 3 and room 3 would confuse)."""
    for cid, existing in db.execute(select(Camera.id, Camera.name)):
        if cid != other_than and camera_name_key(existing) == camera_name_key(name):
            return existing
    return None


def camera_ids_for_user(db: Session, user_id: int) -> list[int]:
    """The ids of the cameras assigned to a user (a teacher sees these)."""
    return list(db.scalars(select(CameraAssignment.camera_id).where(CameraAssignment.user_id == user_id)))
