"""Output paths that cannot destroy data: every command that writes a file or folder asks here first.

A typo such as ``export 1 --out victim.db`` must never replace the database (or its ``-wal``/``-shm``
files, which hold committed rows not yet checkpointed) nor a model file. Those are refused even with
``--force``; an ordinary existing file is replaced only with ``--force``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from monitor.store.db import sqlite_file

SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal", ".secret")
"""The database file and the files SQLite (and the dashboard's secret key) keep beside it."""


class UnsafePathError(Exception):
    """An output path that would destroy data; the message is meant for the user."""


def database_files(db_url: str | Path | None) -> list[Path]:
    """The SQLite file of ``db_url`` and its companion files (resolved); empty for a server database."""
    if not db_url:
        return []
    file = sqlite_file(db_url)
    if file is None:
        return []
    base = file.resolve()
    return [base.with_name(base.name + suffix) for suffix in SQLITE_COMPANIONS]


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: equal resolved paths, or one inode (hard links)."""
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _protected(target: Path, db_url: str | Path | None, models_dir: Path | None, *, what: str) -> str | None:
    """Why writing ``target`` would destroy data (None: it would not)."""
    for db_file in database_files(db_url):
        if _same_file(target, db_file):
            return f"{target} is the database (or one of its files); refusing to write the {what} over it"
    if models_dir is not None:
        root = Path(models_dir).expanduser().resolve()
        if _inside(target, root):
            return f"{target} is inside the models folder {root}; refusing to write the {what} there"
    return None


def check_output_path(
    path: str | Path,
    *,
    force: bool = False,
    settings: object | None = None,
    db_url: str | Path | None = None,
    models_dir: Path | None = None,
    what: str = "output",
) -> Path:
    """Return ``path`` resolved, or raise :class:`UnsafePathError` when writing a file there would
    replace the database (or its ``-wal``/``-shm``/``-journal``/``.secret`` files), anything under the
    models folder (never allowed), a folder, or an existing file (allowed only with ``force``).

    ``settings`` (a :class:`monitor.config.Settings`) supplies ``db_url`` and ``models_dir`` unless given.
    """
    db_url = db_url if db_url is not None else getattr(settings, "db_url", None)
    models_dir = models_dir if models_dir is not None else getattr(settings, "models_dir", None)
    target = Path(path).expanduser().resolve()
    reason = _protected(target, db_url, models_dir, what=what)
    if reason:
        raise UnsafePathError(reason)
    if target.is_dir():
        raise UnsafePathError(f"{path} is a folder; give a file name")
    if target.exists() and not force:
        raise UnsafePathError(f"{path} exists already; pass --force to replace it")
    return target


def check_output_dir(
    path: str | Path,
    *,
    settings: object | None = None,
    db_url: str | Path | None = None,
    models_dir: Path | None = None,
    protected_dirs: Iterable[Path] = (),
    what: str = "output",
) -> Path:
    """Return the folder ``path`` resolved, or raise :class:`UnsafePathError` when writing files into it
    could replace the database, when it is the models folder itself (or holds it), or when it is one of
    ``protected_dirs`` (the model directory workers use now) or inside one. A model folder under the models
    folder is fine: that is where training puts new versions.
    """
    db_url = db_url if db_url is not None else getattr(settings, "db_url", None)
    models_dir = models_dir if models_dir is not None else getattr(settings, "models_dir", None)
    target = Path(path).expanduser().resolve()
    for db_file in database_files(db_url):
        if _same_file(target, db_file):
            return _refuse_dir(target, "the database (or one of its files)", what)
    if models_dir is not None:
        root = Path(models_dir).expanduser().resolve()
        if _inside(root, target):
            return _refuse_dir(target, f"the models folder {root} (or holds it)", what)
    for d in protected_dirs:
        active = Path(d).expanduser().resolve()
        if _inside(target, active):
            return _refuse_dir(target, f"the model directory in use ({active})", what)
    if target.exists() and not target.is_dir():
        raise UnsafePathError(f"{path} is a file, not a folder; give a new folder for the {what}")
    return target


def _refuse_dir(target: Path, why: str, what: str) -> Path:
    raise UnsafePathError(f"{target} is {why}; refusing to write the {what} there")


def models_in_use(settings: object) -> list[Path]:
    """Model directories workers use now: the active version recorded in the database (when it can be
    read) and the one ``models/DEFAULT`` names (what workers fall back to)."""
    from monitor.registry import DEFAULT_FILE, active_version

    dirs: list[Path] = []
    db_url = getattr(settings, "db_url", None)
    if database_files(db_url) and not database_files(db_url)[0].is_file():
        db_url = None  # never create an empty database just to look
    if db_url:
        from monitor.store import DatabaseError, make_engine, session_factory

        try:
            engine = make_engine(db_url)
            try:
                with session_factory(engine)() as db:
                    active = active_version(db)
            finally:
                engine.dispose()
            if active is not None:
                dirs.append(active[1])
        except (DatabaseError, SQLAlchemyError):  # no tables yet: nothing is active there
            pass
    models_dir = getattr(settings, "models_dir", None)
    if models_dir is not None:
        try:
            name = (Path(models_dir) / DEFAULT_FILE).read_text().strip()
        except OSError:
            name = ""
        if name:
            dirs.append(Path(models_dir) / name)
    return dirs
