"""The timetable page (issue 24): a week per camera or per class for everyone; admins add, change and delete
periods, one-off changes and holidays on it. Edits go through ``monitor.store.timetables`` (checked like the
TOML), each with an audit row; a refused value answers 400 with the page and one message, never a 500.
Running workers read the timetable again within ``monitor.store.timetables.POLL_S``.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

import monitor.store.timetables as store
from dashboard import access
from dashboard.auth import admin_required
from dashboard.db import get_db, write_db
from dashboard.params import parse_int
from monitor.locales import weekday_period
from monitor.store.schema import AuditLog, Camera
from monitor.timetable import DAYS, TimetableError, hm, parse_date, parse_time
from monitor.views.timetable import (
    camera_week,
    class_labels,
    class_week,
    day_heading,
    visible_cameras,
    weekday_name,
)

bp = Blueprint("timetable", __name__)


def _week_arg() -> date | None:
    raw = request.args.get("week")
    if not raw:
        return None
    try:
        return parse_date(raw, "week")
    except TimetableError as exc:
        abort(400, description=str(exc))


def _page(camera_id: int | None, label: str | None, status: int = 200) -> Any:
    db = get_db()
    audience = access.audience(db)
    cameras = visible_cameras(db, audience)
    classes = class_labels(db, audience)
    week = None
    if label:
        week = class_week(db, label, audience, _week_arg())
    else:
        if camera_id is None and cameras:
            camera_id = cameras[0].id
        if camera_id is not None:
            week = camera_week(db, access.camera_or_404(db, camera_id), audience, _week_arg())
    return (
        render_template(
            "timetable.html",
            week=week,
            cameras=cameras,
            classes=classes,
            hm=hm,
            locale=audience.locale,
            day_heading=day_heading,
            weekday_name=weekday_name,
            weekday_period=weekday_period,
            week_shift=lambda monday, days: (monday + timedelta(days=days)).isoformat(),
        ),
        status,
    )


@bp.get("/timetable")
def week_page() -> Any:
    raw_camera = request.args.get("camera")
    camera_id = parse_int(raw_camera) if raw_camera else None
    if raw_camera and (camera_id is None or not 0 < camera_id <= access.MAX_ID):
        abort(400, description=gettext("choose a camera"))
    return _page(camera_id, (request.args.get("class") or "").strip()[:150] or None)


def _form_time(name: str, required: bool = True):
    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    return parse_time(raw, name)


def _form_id(name: str) -> int:
    value = parse_int(request.form.get(name))
    if value is None or not 0 < value <= access.MAX_ID:
        abort(400, description=gettext("choose a %(what)s", what=name))
    return value


def _form_day() -> int:
    value = parse_int(request.form.get("day"))
    if value is None or not 0 <= value <= 6:
        raise TimetableError(gettext("choose a day"))
    return value


def _apply(db, camera: Camera, action: str) -> tuple[str, dict]:
    """One edit; returns the flash message and the audit detail. Raises ``TimetableError``."""
    f = request.form
    if action in ("add_period", "edit_period"):
        period_id = _form_id("period_id") if action == "edit_period" else None
        day, start, end = _form_day(), _form_time("start"), _form_time("end")
        row = store.save_period(db, camera.id, day, start, end, f.get("label", ""), period_id)
        what = f"{DAYS[row.weekday]} {hm(row.start)}-{hm(row.end)} {row.label}"
        return gettext("Period saved: %(what)s.", what=what), {"period": what}
    if action == "delete_period":
        row = store.delete_period(db, camera.id, _form_id("period_id"))
        what = f"{DAYS[row.weekday]} {hm(row.start)}-{hm(row.end)} {row.label}"
        return gettext("Period deleted: %(what)s.", what=what), {"deleted_period": what}
    if action == "add_change":
        day = parse_date((f.get("date") or "").strip(), "date")
        kind = f.get("kind", "cancel")
        row = store.add_change(
            db, camera.id, day, kind, _form_time("start"), _form_time("end", False), f.get("label")
        )
        what = f"{row.day.isoformat()} {row.kind} {hm(row.start)}" + (f" {row.label}" if row.label else "")
        return gettext("Change saved: %(what)s.", what=what), {"change": what}
    if action == "delete_change":
        row = store.delete_change(db, camera.id, _form_id("change_id"))
        what = f"{row.day.isoformat()} {row.kind} {hm(row.start) if row.start else ''}".strip()
        return gettext("Change deleted: %(what)s.", what=what), {"deleted_change": what}
    if action == "add_holiday":
        first = parse_date((f.get("first") or "").strip(), "from")
        last = parse_date((f.get("last") or "").strip() or first.isoformat(), "to")
        row = store.add_holiday(db, first, last, f.get("label", ""))
        what = f"{row.first.isoformat()}–{row.last.isoformat()} {row.label}"
        return gettext("Holiday saved: %(what)s.", what=what), {"holiday": what}
    if action == "delete_holiday":
        row = store.delete_holiday(db, _form_id("holiday_id"))
        what = f"{row.first.isoformat()}–{row.last.isoformat()} {row.label}"
        return gettext("Holiday deleted: %(what)s.", what=what), {"deleted_holiday": what}
    abort(400, description=gettext("unknown action"))


@bp.post("/admin/timetable/<int:camera_id>")
@admin_required
def edit(camera_id: int) -> Any:
    camera = access.camera_or_404(get_db(), camera_id)
    action = request.form.get("action", "")
    try:
        with write_db() as db:
            message, detail = _apply(db, camera, action)
            detail = {"camera": camera.name, **detail}
            db.add(AuditLog(actor=g.user.username, action="timetable", detail=json.dumps(detail)))
    except TimetableError as exc:
        flash(gettext("Timetable not saved: %(why)s.", why=exc), "error")
        return _page(camera.id, None, status=400)
    flash(message + " " + gettext("Running cameras follow it within seconds."), "info")
    week = request.form.get("week")
    return redirect(url_for("timetable.week_page", camera=camera.id, week=week or None), code=303)
