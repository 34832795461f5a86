"""The report API proper: formats, errors, ``render`` and report file names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from monitor.store.schema import ClassSession

FORMATS: tuple[str, ...] = ("csv", "json", "pdf", "html")
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "json": "application/json",
    "pdf": "application/pdf",
    "html": "text/html",
    "zip": "application/zip",
}
"""Bare media types (all text is UTF-8): Flask/Werkzeug add ``; charset=utf-8`` to ``text/*`` themselves."""


class ReportError(Exception):
    """A report that cannot be made (unknown session or format, unwritable path); meant for the user."""


def check_format(fmt: str) -> str:
    """The format name, normalised; ``ReportError`` when it is not one of ``FORMATS``."""
    name = str(fmt).strip().lower()
    if name not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    return name


def get_session(db: Session, session_id: int) -> ClassSession:
    """The class session with this id; ``ReportError`` when there is none."""
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise ReportError(f"no session with id {session_id}")
    return cs


def render(db: Session, session_id: int, fmt: str, *, models_dir: Path | None = None) -> Iterator[bytes]:
    """Validate now, then return an iterator of the report's bytes (CSV streamed in chunks).

    Raises ``ReportError`` before returning for an unknown session or format. ``models_dir`` is where
    ``<version>/metrics.json`` is read when the database holds no accuracy for the session's model
    (default: the configured models folder). ``db`` must stay open until the iterator is exhausted.
    """
    fmt = check_format(fmt)
    get_session(db, session_id)
    if fmt == "csv":
        from monitor.reports.csv_export import iter_csv

        return iter_csv(db, session_id)
    return _render_document(db, session_id, fmt, models_dir)


def _render_document(db: Session, session_id: int, fmt: str, models_dir: Path | None) -> Iterator[bytes]:
    # A generator: the work starts at the first next(), after render() has validated its input.
    from monitor.reports.content import load_content

    content = load_content(db, session_id, models_dir=models_dir)
    if fmt == "json":
        from monitor.reports.json_export import render_json

        yield render_json(content)
    elif fmt == "html":
        from monitor.reports.html_export import render_html

        yield render_html(content)
    else:
        from monitor.reports.pdf_export import render_pdf

        yield render_pdf(content)


def _slug(text: str, max_len: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:max_len].rstrip("-")


def report_filename(session: dict, fmt: str) -> str:
    """A safe file name such as ``session-12-maths-2026-11-21.csv`` (``...-in-progress.csv`` while running).

    ``session`` is ``queries.session_dict`` output; the date is the local date of the start. ``fmt`` is
    one of ``FORMATS`` (or ``"zip"``).
    """
    fmt = fmt if fmt == "zip" else check_format(fmt)
    started = datetime.fromisoformat(session["started_at"]).astimezone()
    parts = [f"session-{int(session['id'])}", _slug(session.get("label") or ""), started.strftime("%Y-%m-%d")]
    if session.get("in_progress"):
        parts.append("in-progress")
    return "-".join(p for p in parts if p) + f".{fmt}"
