"""The filters the sessions list and the trends share (a class label or several, a date range read as days
in the school's time zone, paging), and the sessions page's data. Not a route module: ``dashboard.pages``
(``/sessions``) and ``dashboard.trends`` (``/trends``, ``/api/trends``) both read their requests through it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import gettext
from sqlalchemy.orm import Session

from dashboard import access
from dashboard.db import write_db
from dashboard.params import date_arg, int_arg
from monitor import timefmt
from monitor.views import trends as views

PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_LABEL = 200


# ---- parameters --------------------------------------------------------------------------------------


def _clean_label(raw: str) -> str:
    label = " ".join(raw.split())
    if not label:
        abort(400, description=gettext("label must not be empty"))
    if len(label) > MAX_LABEL:
        abort(400, description=gettext("label must be at most %(n)s characters", n=MAX_LABEL))
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in label):
        abort(400, description=gettext("label must not contain control characters"))
    return label


def label_arg() -> str | None:
    raw = request.args.get("label")
    return None if raw is None else _clean_label(raw)


def labels_arg() -> list[str]:
    """Every ``label`` given (the classes to overlay), cleaned, each once, in the order given; more than
    ``MAX_CLASSES`` answers 400."""
    labels = list(dict.fromkeys(_clean_label(raw) for raw in request.args.getlist("label")))
    if len(labels) > views.MAX_CLASSES:
        abort(
            400,
            description=gettext(
                "compare at most %(n)s classes at once, not %(given)s", n=views.MAX_CLASSES, given=len(labels)
            ),
        )
    return labels


def date_range(zone) -> tuple[Any, Any]:
    start, end = date_arg("from", zone), date_arg("to", zone, end=True)
    if start and end and end <= start:
        abort(400, description=gettext("'to' must not be before 'from'"))
    return start, end


save = views.keeper(write_db)
"""Keeps the figures of ended lessons that a page computed."""


# ---- the sessions list -------------------------------------------------------------------------------


def sessions_page(db: Session) -> dict[str, Any]:
    """Everything sessions.html needs: filters, one page of lessons with their figures, paging."""
    who = access.audience(db)
    camera_id = int_arg("camera_id", low=1, high=access.MAX_ID)
    label = label_arg() if request.args.get("label") else None
    start, end = date_range(who.zone)
    page = int_arg("page", low=1, high=MAX_PAGE, default=1)
    rows, more = views.session_rows(
        db,
        who,
        camera_id=camera_id,
        label=label,
        start=start,
        end=end,
        page=page,
        page_size=PAGE_SIZE,
        save=save,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return {
        "sessions": rows,
        "cameras": views.cameras(db, who),
        "labels": views.class_labels(db, who),
        "camera_id": camera_id,
        "label": label or "",
        "date_from": request.args.get("from", ""),
        "date_to": request.args.get("to", ""),
        "page": page,
        "prev_args": {**args, "page": page - 1} if page > 1 else None,
        "next_args": {**args, "page": page + 1} if more else None,
        "filtered": bool(camera_id or label or start or end),
        "zone": timefmt.zone_name(who.zone),
        "spark_w": views.SPARK_W,
        "spark_h": views.SPARK_H,
    }
