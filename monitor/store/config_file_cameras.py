"""Cameras a ``serve`` runs from its config file (``[[cameras]] source = ...``), as that serve recorded them.

Such a camera runs the config file's source: a source saved on the admin page is not used while the file
lists it (``monitor.serve.db_cameras`` leaves it to the file's serve on every host). So that the admin page
can say so (``monitor.store.camera_sources.file_source_of``), each serve records at its start, on the camera
rows, which cameras its file lists: the source masked (never a password), its host name and when
(:func:`record_config_cameras`). A camera that left the file loses the mark when that host's serve starts
again, so the record follows the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor.source_mask import mask_source
from monitor.store.schema import Camera, utcnow


def record_config_cameras(db: Session, sources: Mapping[str, str], host: str) -> list[str]:
    """Mark the cameras of ``sources`` (name -> the file's source) as run from ``host``'s config file, and
    unmark those this host's file listed before and lists no more. The cameras must exist (serve creates
    them first). Returns the names unmarked."""
    now = utcnow()
    host = host[:200]
    for cam in db.scalars(select(Camera).where(Camera.name.in_(list(sources)))):
        cam.file_source = mask_source(sources[cam.name])[:1000]
        cam.file_host, cam.file_recorded_at = host, now
    gone = []
    for cam in db.scalars(select(Camera).where(Camera.file_host == host)):
        if cam.name not in sources:
            cam.file_source = cam.file_host = cam.file_recorded_at = None
            gone.append(cam.name)
    return gone


def saved_sources_not_used(db: Session, names: Iterable[str]) -> dict[str, str]:
    """The cameras of ``names`` (a config file's) that also have a source saved on the admin page: name ->
    that saved source (stored without its credentials), which is not used while the file lists the camera."""
    rows = db.execute(
        select(Camera.name, Camera.configured_source).where(
            Camera.name.in_(list(names)), Camera.configured_source.is_not(None)
        )
    )
    return {name: mask_source(source) for name, source in rows}


def saved_sources_not_used_at(db_url: str | None, names: Iterable[str]) -> dict[str, str]:
    """:func:`saved_sources_not_used` for ``serve --check``: empty when there is no database (yet)."""
    from monitor.store import DatabaseError, make_engine, session_factory

    if not db_url:
        return {}
    try:
        engine = make_engine(db_url, read_only=True)
        try:
            with session_factory(engine)() as db:
                return saved_sources_not_used(db, names)
        finally:
            engine.dispose()
    except (SQLAlchemyError, DatabaseError):
        return {}
