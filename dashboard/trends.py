"""Comparing lessons: one class's trend across the term and up to four classes on one chart (API and page).
Only the routes live here: their filters are ``dashboard.lesson_filters``'s (shared with the sessions list),
the figures, filtered for who asks, ``monitor.views.trends``'s.

Dates in filters are days in the school's time zone (site setting ``timezone``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import gettext as _

from dashboard import access, lesson_filters
from dashboard.db import get_db
from dashboard.params import int_arg
from monitor import timefmt
from monitor.views import trends as views

bp = Blueprint("trends", __name__)

# ---- trends --------------------------------------------------------------------------------------------


@bp.get("/api/trends")
def trends_api() -> Any:
    db = get_db()
    who = access.audience(db)
    camera_id = int_arg("camera", low=1, high=access.MAX_ID)
    labels = lesson_filters.labels_arg()
    if camera_id is None and not labels:
        abort(400, description=gettext("give camera=ID or label=TEXT (a class label such as 'Maths 7B')"))
    start, end = lesson_filters.date_range(who.zone)
    if camera_id is not None:
        access.camera_or_404(db, camera_id)
    figures = {"start": start, "end": end, "save": lesson_filters.save}
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
