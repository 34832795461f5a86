"""Mail from the browser: the site's mail settings (admins), a test message, and each user's own address.

The settings are site settings (``monitor.store.site_settings``: ``smtp_*``, ``alert_*``, ``weekly_digest``,
``base_url``), checked there and audited like every settings change; the login's password stays a
per-process setting (``CLASSROOM_MONITOR_SMTP_PASSWORD``) and is never asked for here. Alerts go to the
admins' addresses and the weekly digest to the teachers' (``monitor.serve.alerts``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from dashboard.auth import admin_required
from dashboard.db import audit, get_db, write_db
from dashboard.settings_write import save_settings
from monitor.mail import Mail, MailError, MailSettings, send_all
from monitor.store import notifications, site_settings
from monitor.store.schema import User
from monitor.store.site_settings import all_settings

bp = Blueprint("mail", __name__)
FLAGS = ("smtp_starttls", "alert_low_heads_up", "weekly_digest")
FIELDS = ("smtp_host", "smtp_port", "smtp_sender", "smtp_username", "alert_after_min", "base_url")


@bp.post("/admin/settings/mail")
@admin_required
def mail_settings_post() -> Any:
    """Save the mail settings form (one flash message: saved, or the first refused value)."""
    f = request.form
    before = all_settings(get_db())
    form: dict[str, Any] = {k: f.get(k, str(before[k])) for k in FIELDS}
    form.update({k: "on" if f.get(k) == "on" else "off" for k in FLAGS})
    try:
        site_settings.validate(form, from_text=True)
    except site_settings.SettingError as exc:
        flash(gettext("Mail settings not saved: %(why)s.", why=exc), "error")
        return redirect(url_for("pages.settings", _anchor="mail"))
    save_settings(form, from_text=True)
    flash(gettext("Mail settings saved."), "info")
    return redirect(url_for("pages.settings", _anchor="mail"))


@bp.post("/admin/settings/mail/test")
@admin_required
def mail_test() -> Any:
    """Send one test message to the signed-in admin's own address, and say what the server answered."""
    db = get_db()
    me = db.get(User, g.user.id)
    password = current_app.extensions["monitor_settings"].smtp_password
    settings = MailSettings.load(db, password)
    if settings is None:
        flash(gettext("No test sent: set the mail server and the sender first."), "error")
    elif not me.email:
        flash(gettext("No test sent: set your own e-mail address first."), "error")
    else:
        text = gettext(
            "This is a test message from the classroom monitor. Alerts and digests will look alike."
        )
        try:
            error = send_all(settings, [Mail(me.email, gettext("Classroom monitor: test message"), text)])[
                me.email
            ]
        except MailError as exc:
            error = str(exc)
        if error:
            flash(gettext("Test message not sent: %(why)s", why=error), "error")
        else:
            flash(gettext("Test message sent to %(address)s.", address=me.email), "info")
    return redirect(url_for("pages.settings", _anchor="mail"))


@bp.post("/admin/users/<int:user_id>/email")
@admin_required
def user_email(user_id: int) -> Any:
    """An admin sets a user's e-mail address (the users page): where their alerts or digest go."""
    address = request.form.get("email", "")
    try:
        with write_db() as db:
            user = db.get(User, user_id)
            if user is None:
                abort(404, description=gettext("no user %(id)s", id=user_id))
            notifications.set_email(db, user, address)
            name, now = user.username, user.email
    except ValueError:
        flash(gettext("E-mail address not saved: it must look like name@school.example."), "error")
        return redirect(url_for("admin.users"))
    audit(g.user.username, "user_email", f"user={name} email={now}")
    if now:
        flash(gettext("Mail for %(name)s now goes to %(address)s.", name=name, address=now), "info")
    else:
        flash(gettext("No mail will be sent to %(name)s.", name=name), "info")
    return redirect(url_for("admin.users"))


@bp.route("/account/email", methods=["GET", "POST"])
def my_email() -> Any:
    """Any user sets their own e-mail address (empty: no mail) for alerts (admins) and the digest."""
    if request.method == "GET":
        return render_template("account_email.html", email=get_db().get(User, g.user.id).email or "")
    address = request.form.get("email", "")
    try:
        with write_db() as db:
            me = db.get(User, g.user.id)
            notifications.set_email(db, me, address)
            now = me.email
    except ValueError:
        flash(gettext("E-mail address not saved: it must look like name@school.example."), "error")
        return render_template("account_email.html", email=address[:320]), 400
    audit(g.user.username, "user_email", f"user={g.user.username} email={now}")
    flash(
        gettext("Mail now goes to %(address)s.", address=now)
        if now
        else gettext("No mail will be sent to you."),
        "info",
    )
    return redirect(url_for("mail.my_email"))
