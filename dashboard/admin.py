"""Admin pages: users (create, password, disable, cameras), camera set-up, site settings, worker health.

The changes go through the same library functions as the CLI (``dashboard.accounts``,
``dashboard.camera_setup`` over ``monitor.cameras``, ``monitor.store.site_settings``). A refused value
answers with one flash message and a redirect; malformed ids answer 400.
"""

from __future__ import annotations

import functools
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext

from dashboard import access
from dashboard.accounts import AccountError, add_user, set_cameras
from dashboard.auditlog import KINDS, MAX_PAGE, audit_page, kind_of
from dashboard.auth import admin_account_action, admin_required
from dashboard.camera_setup import (
    CameraConfigError,
    add_camera,
    board_text,
    calibration_status,
    edit_camera,
)
from dashboard.camera_source_write import check_source, source_for_new_camera
from dashboard.db import get_db, write_db
from dashboard.i18n import current_locale
from dashboard.params import int_arg, parse_int
from dashboard.settings_write import save_settings
from monitor.cameras import rects_text
from monitor.store import directory, notifications, site_settings
from monitor.store.camera_sources import CameraSourceError
from monitor.store.cameras import config_of
from monitor.store.retention import retention_status
from monitor.store.schema import User, utcnow
from monitor.store.site_settings import all_settings, school_zone
from monitor.views.health import STALE_AFTER_S, alert_rows, worker_rows

bp = Blueprint("admin", __name__)
ROLES = ("teacher", "admin")


@bp.app_template_global()
@functools.cache
def timezone_names() -> tuple[str, ...]:
    """The IANA zones this machine knows, UTC first (read from disk once)."""
    return ("UTC", *sorted(z for z in available_timezones() if z != "UTC"))


def names_text(names: list[str]) -> str:
    """``Room 12``, ``Room 12 and Lab``, ``Room 12, Lab and Gym``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _id_field(raw: str | None, what: str) -> int:
    value = parse_int(raw)
    if value is None or not 0 < value <= access.MAX_ID:
        abort(400, description=gettext("choose a %(what)s", what=what))
    return value


# ---- users ----------------------------------------------------------------------------------------------


@bp.get("/admin/users")
@admin_required
def users() -> Any:
    db = get_db()
    people = directory.users(db, by_key=True)
    cams = directory.cameras(db)
    assigned = {u.id: set(directory.camera_ids_for_user(db, u.id)) for u in people}
    return render_template("admin_users.html", users=people, cameras=cams, assigned=assigned)


@bp.post("/admin/users")
@admin_required
def users_post() -> Any:
    action = request.form.get("action")
    if action == "create":
        _create_user()
    elif action in ("passwd", "disable", "enable"):
        admin_account_action(action)
    elif action == "cameras":
        _assign_cameras()
    else:
        abort(400, description=gettext("unknown action"))
    return redirect(url_for("admin.users"))


def _create_user() -> None:
    f = request.form
    role = f.get("role", "teacher")
    if role not in ROLES:
        abort(400, description=gettext("role must be teacher or admin"))
    if f.get("password", "") != f.get("password2", ""):
        flash(gettext("User not created: the two passwords differ."), "error")
        return
    camera_ids = [_id_field(raw, "camera") for raw in f.getlist("camera_id")]
    try:
        with write_db() as db:
            user = add_user(
                db, f.get("username", ""), f.get("password", ""), role == "admin", g.user.username
            )
            added, _ = set_cameras(db, user, camera_ids, g.user.username) if role == "teacher" else ([], [])
            name = user.username
    except AccountError as exc:
        flash(gettext("User not created: %(why)s.", why=exc), "error")
        return
    sees = f" who can see {names_text(added)}" if added else ""
    flash(
        gettext("Created %(role)s %(name)s%(sees)s.", role=gettext(role), name=repr(name), sees=sees), "info"
    )


def _assign_cameras() -> None:
    user_id = _id_field(request.form.get("user_id"), "user")
    camera_ids = [_id_field(raw, "camera") for raw in request.form.getlist("camera_id")]
    with write_db() as db:
        user = db.get(User, user_id)
        if user is None:
            abort(404, description=gettext("no user %(id)s", id=user_id))
        if user.is_admin:
            flash(
                gettext("%(name)s is an admin and sees every camera; nothing changed.", name=user.username),
                "info",
            )
            return
        try:
            added, removed = set_cameras(db, user, camera_ids, g.user.username)
        except AccountError as exc:
            flash(gettext("Cameras not changed: %(why)s.", why=exc), "error")
            return
        name = user.username
    parts = []
    if added:
        parts.append(f"{name} can now see {names_text(added)}")
    if removed:
        parts.append(
            f"no longer {names_text(removed)}" if added else f"{name} no longer sees {names_text(removed)}"
        )
    flash(
        ("; ".join(parts) + ".") if parts else gettext("%(name)s's cameras: nothing changed.", name=name),
        "info",
    )


# ---- cameras --------------------------------------------------------------------------------------------


@bp.get("/admin/cameras")
@admin_required
def cameras() -> Any:
    db = get_db()
    rows = []
    for cam in directory.cameras(db):
        cfg = config_of(cam)
        rows.append(
            {
                "id": cam.id,
                "name": cam.name,
                "class_size": cfg.class_size,
                "mounting": cfg.mounting,
                "board": board_text(cfg),
                "calibration": calibration_status(cfg),
                "ignore": rects_text(cfg.ignore),
                "include": rects_text(cfg.include),
            }
        )
    return render_template("admin_cameras.html", cameras=rows)


@bp.post("/admin/cameras")
@admin_required
def cameras_post() -> Any:
    f = request.form
    action = f.get("action")
    try:
        if action == "add":
            check_source(f.get("source", ""), f.get("hosts", ""))
            message = add_camera(f.get("name", ""), f.get("class_size", ""), f.get("mounting", "front"))
            message += source_for_new_camera(f.get("name", ""), f.get("source", ""), f.get("hosts", ""))
        elif action == "edit":
            camera_id = _id_field(f.get("camera_id"), "camera")
            fields = ("name", "class_size", "mounting", "board", "ignore", "include")
            message = edit_camera(camera_id, {k: f[k] for k in fields if k in f})
        else:
            abort(400, description=gettext("unknown action"))
    except (CameraConfigError, CameraSourceError) as exc:
        flash(gettext("Camera not saved: %(why)s.", why=exc), "error")
    else:
        flash(message + " " + gettext("Workers read the set-up when they start."), "info")
    return redirect(url_for("admin.cameras"))


# ---- site settings --------------------------------------------------------------------------------------


def _settings_changed(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    for key, value in now.items():
        if before.get(key) == value:
            continue
        if key == "mode":
            out.append("attention only (no emotions)" if value == "attention" else "emotions and attention")
        elif key == "class_only":
            out.append("class-only views " + ("on" if value else "off"))
        elif key == "retention_days":
            out.append(f"keep data {value} days" if value else "keep data forever")
        elif key == "timezone":
            out.append(f"time zone {value}")
        elif key == "locale":
            out.append(f"default language {value}")
        else:
            out.append(f"{key} {value}")
    return out


@bp.post("/admin/settings")
@admin_required
def site_settings_post() -> Any:
    f = request.form
    before = all_settings(get_db())
    form = {
        "mode": f.get("mode", before["mode"]),
        "class_only": "on" if f.get("class_only") == "on" else "off",
        "retention_days": f.get("retention_days", str(before["retention_days"])),
        "timezone": f.get("timezone", before["timezone"]),
        "locale": f.get("locale", before["locale"]),
    }
    try:
        site_settings.validate(form, from_text=True)
    except site_settings.SettingError as exc:
        flash(gettext("Settings not saved: %(why)s.", why=exc), "error")
        return redirect(url_for("pages.settings"))
    changed = _settings_changed(before, save_settings(form, from_text=True))
    if changed:
        flash(
            "Settings saved: " + "; ".join(changed) + ". Running cameras apply them within seconds.", "info"
        )
    else:
        flash(gettext("Settings saved: nothing changed."), "info")
    return redirect(url_for("pages.settings"))


# ---- audit log ------------------------------------------------------------------------------------------


@bp.get("/admin/audit")
@admin_required
def audit_log() -> Any:
    """Who changed which setting, user and camera, and when: newest first, filterable, 50 rows a page."""
    actor = request.args.get("actor", "").strip()[:100] or None
    kind = request.args.get("kind", "") or None
    if kind is not None and kind not in (*KINDS, "other"):
        abort(400, description=gettext("kind must be one of %(kinds)s", kinds=", ".join((*KINDS, "other"))))
    page = int_arg("page", low=1, high=MAX_PAGE, default=1) or 1
    log = audit_page(get_db(), actor, kind, page)
    return render_template(
        "admin_audit.html",
        log=log,
        actor=actor or "",
        kind=kind or "",
        kinds=(*KINDS, "other"),
        kind_of=kind_of,
    )


# ---- health ---------------------------------------------------------------------------------------------


@bp.get("/health")
def health() -> Any:
    db = get_db()
    return render_template(
        "health.html",
        workers=worker_rows(db, access.audience(db)),
        alerts=notifications.recent_alerts(db) if g.user.is_admin else None,
        stale_after_s=STALE_AFTER_S,
        retention=retention_status(db, zone=school_zone(db), locale=current_locale(), gettext=gettext),
    )


@bp.get("/api/health")
def api_health() -> Any:
    db = get_db()
    now = utcnow()
    return jsonify(
        now=now.isoformat(timespec="milliseconds"),
        stale_after_s=STALE_AFTER_S,
        workers=worker_rows(db, access.audience(db), now),
        retention=retention_status(db, now, zone=school_zone(db), locale=current_locale(), gettext=gettext),
        alerts=alert_rows(db, access.audience(db)),  # admins only (null for a teacher), as the page
    )
