"""Writing a report to disk without ever leaving a half-written file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from monitor.reports.core import ReportError, check_format, get_session, render, report_filename
from monitor.store.queries import session_dict


def output_path(path: str | Path, default_name: str) -> Path:
    """The file to write: ``path`` itself, or ``default_name`` inside it when it is a folder.

    Raises ``ReportError`` when the folder is missing or not writable, before any work is done.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / default_name
    parent = target.parent.resolve()
    if not parent.is_dir():
        raise ReportError(f"cannot write {target}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ReportError(f"cannot write {target}: folder {parent} is not writable")
    return target


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``target`` (create it with mode "x"); renamed onto ``target`` on
    success, removed on any failure, so a reader never sees a half-written report."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(
    db: Session, session_id: int, fmt: str, path: str | Path, *, models_dir: Path | None = None
) -> Path:
    """Write one report to ``path`` (a file, or a folder to put the default file name in)."""
    fmt = check_format(fmt)
    target = output_path(path, report_filename(session_dict(get_session(db, session_id)), fmt))
    chunks = render(db, session_id, fmt, models_dir=models_dir)
    with atomic_file(target) as tmp, tmp.open("xb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return target
