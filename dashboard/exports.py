"""Session exports, streamed from ``monitor.reports`` (CSV, JSON, PDF, HTML)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, request, stream_with_context
from flask_babel import gettext as _

from dashboard import access
from dashboard.db import audit, get_db
from dashboard.i18n import current_locale
from monitor.reports.core import FORMATS
from monitor.store.site_settings import school_zone
from monitor.views.sessions import session_fields

bp = Blueprint("exports", __name__)


@bp.get("/sessions/<int:session_id>/export.<fmt>")
def export(session_id: int, fmt: str) -> Any:
    if fmt not in FORMATS:
        formats = ", ".join(FORMATS)
        abort(
            404,
            description=_(
                "no export format %(fmt)s; use one of %(formats)s", fmt=repr(fmt[:20]), formats=formats
            ),
        )
    db = get_db()
    cs = access.session_or_404(db, session_id)
    try:
        from monitor.reports import MEDIA_TYPES, ReportError, render
        from monitor.reports.core import content_disposition
    except ImportError:
        abort(503, description=_("reports module not installed"))
    bom = request.args.get("bom")
    if bom not in (None, "0", "1"):
        abort(400, description=_("bom must be 0 or 1"))
    try:
        chunks = render(
            db,
            session_id,
            fmt,
            models_dir=current_app.extensions["monitor_settings"].models_dir,
            locale=current_locale(),
            csv_bom=None if bom is None else bom == "1",
        )
        first = next(chunks)  # ReportError comes before the first chunk: answer it as an error, not a stream
    except StopIteration:
        first = b""
    except ReportError as exc:
        abort(404, description=str(exc))
    audit(g.user.username, "export", f"session={session_id} format={fmt}")
    body: Iterator[bytes] = itertools.chain([first], chunks)
    disposition = content_disposition(session_fields(cs), fmt, school_zone(db))
    return Response(
        stream_with_context(body),
        mimetype=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": disposition},
    )
