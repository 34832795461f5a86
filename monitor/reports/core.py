"""The report API proper: formats, errors, ``render`` and report file names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import quote

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


def render(
    db: Session,
    session_id: int,
    fmt: str,
    *,
    models_dir: Path | None = None,
    locale: str | None = None,
    csv_bom: bool | None = None,
) -> Iterator[bytes]:
    """Validate now, then return an iterator of the report's bytes (CSV streamed in chunks).

    ``locale`` is the requester's language (None: the site default); the CSV starts with a UTF-8
    byte-order mark when ``csv_bom`` is set (None: when the locale is Chinese, for Excel on Windows).

    Raises ``ReportError`` before returning for an unknown session or format. ``models_dir`` is where
    ``<version>/metrics.json`` is read when the database holds no accuracy for the session's model
    (default: the configured models folder). ``db`` must stay open until the iterator is exhausted.
    """
    fmt = check_format(fmt)
    get_session(db, session_id)
    if fmt == "csv":
        from monitor.reports.csv_export import iter_csv

        return _with_bom(iter_csv(db, session_id), _csv_bom(db, locale, csv_bom))
    return _render_document(db, session_id, fmt, models_dir, locale)


def _csv_bom(db: Session, locale: str | None, asked: bool | None) -> bool:
    if asked is not None:
        return asked
    if locale is None:
        from monitor.store.site_settings import get_setting

        locale = get_setting(db, "locale")
    return locale == "zh_Hans_CN"


def _with_bom(chunks: Iterator[bytes], bom: bool) -> Iterator[bytes]:
    if bom:
        yield "\ufeff".encode()
    yield from chunks


def _render_document(
    db: Session, session_id: int, fmt: str, models_dir: Path | None, locale: str | None
) -> Iterator[bytes]:
    # A generator: the work starts at the first next(), after render() has validated its input.
    from monitor.reports.content import load_content

    content = load_content(db, session_id, models_dir=models_dir, locale=locale)
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


def report_filename(session: dict, fmt: str, zone: tzinfo | None = None, *, unicode: bool = False) -> str:
    """A safe file name such as ``session-12-maths-2026-11-21.csv`` (``...-in-progress.csv`` while running).

    ``session`` is ``queries.session_dict`` output; the date is the start's date in ``zone`` (the school's;
    None: this machine's). ``fmt`` is one of ``FORMATS`` (or ``"zip"``). ASCII only, unless ``unicode``:
    then the label keeps its own letters (``session-12-数学-初二(3)班-2026-11-21.pdf``), for the
    ``filename*`` of a download (:func:`content_disposition`).
    """
    fmt = fmt if fmt == "zip" else check_format(fmt)
    started = datetime.fromisoformat(session["started_at"]).astimezone(zone)
    label = session.get("label") or ""
    name = _unicode_slug(label) if unicode else _slug(label)
    parts = [f"session-{int(session['id'])}", name, started.strftime("%Y-%m-%d")]
    if session.get("in_progress"):
        parts.append("in-progress")
    return "-".join(p for p in parts if p) + f".{fmt}"


def _unicode_slug(text: str, max_len: int = 40) -> str:
    """``text`` with what a file name cannot hold (separators, quotes, control characters, spaces) as -."""
    return re.sub(r'[\\/:*?"<>|\s\x00-\x1f\x7f;,%]+', "-", text).strip("-.")[:max_len].rstrip("-")


def content_disposition(session: dict, fmt: str, zone: tzinfo | None = None) -> str:
    """``attachment`` with an ASCII ``filename`` and, where the label is not ASCII, the same name with the
    label kept as RFC 6266 ``filename*=UTF-8''…`` (browsers prefer it)."""
    ascii_name = report_filename(session, fmt, zone)
    full = report_filename(session, fmt, zone, unicode=True)
    header = f'attachment; filename="{ascii_name}"'
    if not (session.get("label") or "").isascii():
        header += f"; filename*=UTF-8''{quote(full, safe='')}"
    return header
