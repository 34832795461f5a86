"""Writing a report to disk without ever leaving a half-written file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from monitor.reports.core import ReportError, check_format, get_session, render, report_filename
from monitor.safe_paths import UnsafePathError, check_output_path
from monitor.store.site_settings import school_zone
from monitor.views.sessions import session_fields


def session_db_url(db: Session) -> str:
    """The URL of the database ``db`` reads, so a report is never written over it."""
    return str(db.get_bind().url)


def output_path(
    path: str | Path,
    default_name: str,
    *,
    force: bool = False,
    db_url: str | None = None,
    models_dir: Path | None = None,
) -> Path:
    """The file to write: ``path`` itself, or ``default_name`` inside it when it is a folder.

    Raises ``ReportError`` before any work is done when the folder is missing or not writable, when the
    file is the database ``db_url`` (or its -wal/-shm files) or lies under ``models_dir``, or when it
    exists and ``force`` is not set.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / default_name
    parent = target.parent.resolve()
    if not parent.is_dir():
        raise ReportError(f"cannot write {target}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ReportError(f"cannot write {target}: folder {parent} is not writable")
    try:
        check_output_path(target, force=force, db_url=db_url, models_dir=models_dir, what="report")
    except UnsafePathError as exc:
        raise ReportError(str(exc)) from exc
    return target


def _publish(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move the finished ``tmp`` onto ``target``; without ``overwrite``, never replace an existing file
    (a hard link fails atomically when ``target`` appeared meanwhile)."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError as exc:
        raise ReportError(f"{target} exists already; pass --force to replace it") from exc
    except OSError:  # a file system without hard links
        if target.exists():
            raise ReportError(f"{target} exists already; pass --force to replace it") from None
        os.replace(tmp, target)
        return
    tmp.unlink()


@contextmanager
def atomic_file(target: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``target`` (create it with mode "x"); moved onto ``target`` on
    success (replacing it only with ``overwrite``), removed on any failure, so a reader never sees a
    half-written report."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
        _publish(tmp, target, overwrite)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(
    db: Session,
    session_id: int,
    fmt: str,
    path: str | Path,
    *,
    models_dir: Path | None = None,
    force: bool = False,
) -> Path:
    """Write one report to ``path`` (a file, or a folder to put the default file name in).

    An existing file is replaced only with ``force``; the database itself and model files never are.
    """
    fmt = check_format(fmt)
    name = report_filename(session_fields(get_session(db, session_id)), fmt, school_zone(db))
    target = output_path(path, name, force=force, db_url=session_db_url(db), models_dir=models_dir)
    chunks = render(db, session_id, fmt, models_dir=models_dir)
    with atomic_file(target, overwrite=force) as tmp, tmp.open("xb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return target
