"""Session exports, streamed from ``monitor.reports`` (CSV, JSON, PDF, HTML)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, stream_with_context

from dashboard import access
from dashboard.db import audit, get_db
from monitor.store import queries

bp = Blueprint("exports", __name__)
FORMATS = ("csv", "json", "pdf", "html")


@bp.get("/sessions/<int:session_id>/export.<fmt>")
def export(session_id: int, fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404, description=f"no export format {fmt[:20]!r}; use one of {', '.join(FORMATS)}")
    db = get_db()
    cs = access.session_or_404(db, session_id)
    try:
        from monitor.reports import MEDIA_TYPES, ReportError, render, report_filename
    except ImportError:
        abort(503, description="reports module not installed")
    try:
        chunks = render(db, session_id, fmt, models_dir=current_app.extensions["monitor_settings"].models_dir)
        first = next(chunks)  # ReportError comes before the first chunk: answer it as an error, not a stream
    except StopIteration:
        first = b""
    except ReportError as exc:
        abort(404, description=str(exc))
    audit(g.user.username, "export", f"session={session_id} format={fmt}")
    body: Iterator[bytes] = itertools.chain([first], chunks)
    filename = report_filename(queries.session_dict(cs), fmt)
    return Response(
        stream_with_context(body),
        mimetype=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
