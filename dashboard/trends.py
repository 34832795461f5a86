"""Comparing lessons: the sessions list, one class's trend across the term and up to four classes on one
chart (API and page). Only the routes and their parameters live here; the figures, filtered for who asks,
are ``monitor.views.trends``'s.

Dates in filters are days in the school's time zone (site setting ``timezone``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from dashboard import access
from dashboard.db import get_db, write_db
from dashboard.params import date_arg, int_arg
from monitor import timefmt
from monitor.views import trends as views

bp = Blueprint("trends", __name__)

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


_save = views.keeper(write_db)


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
        save=_save,
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


# ---- trends --------------------------------------------------------------------------------------------


@bp.get("/api/trends")
def trends_api() -> Any:
    db = get_db()
    who = access.audience(db)
    camera_id = int_arg("camera", low=1, high=access.MAX_ID)
    labels = labels_arg()
    if camera_id is None and not labels:
        abort(400, description=gettext("give camera=ID or label=TEXT (a class label such as 'Maths 7B')"))
    start, end = date_range(who.zone)
    if camera_id is not None:
        access.camera_or_404(db, camera_id)
    figures = {"start": start, "end": end, "save": _save}
    if len(labels) > 1:
        out = views.overlay(db, who, labels, camera_id=camera_id, **figures)
        return jsonify(camera=camera_id, label=None, labels=labels, **out)
    label = labels[0] if labels else None
    out = views.trend(db, who, camera_id=camera_id, label=label, **figures)
    return jsonify(camera=camera_id, label=label, labels=labels, **out)


@bp.get("/trends")
def trends_page() -> Any:
    db = get_db()
    who = access.audience(db)
    if not request.args:
        chosen = views.default_selection(db, who)
        if chosen is not None:
            return redirect(url_for("trends.trends_page", **chosen))
    cams = views.cameras(db, who)
    # The page draws whatever /api/trends answers for these parameters (errors included).
    query: dict[str, Any] = {k: v for k in ("camera", "from", "to") if (v := request.args.get(k, "").strip())}
    labels = list(dict.fromkeys(v for raw in request.args.getlist("label") if (v := raw.strip())))
    if labels:
        query["label"] = labels
    camera = next((c.name for c in cams if str(c.id) == query.get("camera")), None)
    shown = ", ".join(labels)
    if len(labels) > 1:
        title = _("Classes %(labels)s compared", labels=shown)
        if "camera" in query:
            title = _("Classes %(labels)s compared on camera %(camera)s", labels=shown, camera=camera or "?")
    elif labels and "camera" in query:
        title = _("Class %(label)s on camera %(camera)s", label=shown, camera=camera or "?")
    elif labels:
        title = _("Class %(label)s", label=shown)
    elif "camera" in query:
        title = _("Camera %(camera)s", camera=camera) if camera else _("Camera")
    else:
        title = ""
    return render_template(
        "trends.html",
        cameras=cams,
        labels=views.class_labels(db, who),
        chosen_labels=labels,
        max_classes=views.MAX_CLASSES,
        zone=timefmt.zone_name(who.zone),
        api_url=url_for("trends.trends_api", **query) if {"camera", "label"} & set(query) else None,
        title=title,
    )
