"""Accounts: log in and out, the current user, and the rule that everything but the login page needs one."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from werkzeug.security import check_password_hash

from dashboard import usersessions
from dashboard.accounts import AccountError, find_user, hash_password, set_active, set_password
from dashboard.db import audit, get_db, write_db
from dashboard.security import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE_S,
    LoginThrottle,
    check_csrf,
    cookie_secure,
    csrf_token,
    device_cookie,
    device_of,
)
from monitor.store.schema import User, username_key

bp = Blueprint("auth", __name__)
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
# Checked against when the user name is unknown, so both cases cost one scrypt and take as long.
_DUMMY_HASH = hash_password("not a password")


@bp.before_app_request
def load_user_and_guard() -> Any:
    """Load ``g.user``; refuse anonymous requests (API: 401 JSON, pages: redirect); check CSRF."""
    user_id = session.get("user_id")  # present only while the login is live (dashboard.usersessions)
    g.user = get_db().get(User, user_id) if isinstance(user_id, int) else None
    if g.user is not None and not g.user.is_active:
        g.user = None
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.path.startswith("/api/"):
            abort(401, description=gettext("log in first"))
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    check_csrf()
    return None


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.user.is_admin:
            abort(403, description=gettext("administrators only"))
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page cannot bounce users to another site.

    Control characters (a CR/LF would break the Location header) and backslashes (browsers read ``/\\`` as
    ``//``) fall back to the index too.
    """
    if not target or not target.isprintable() or "\\" in target:
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if g.user is not None:
            return redirect(url_for("pages.index"))
        csrf_token()
        return render_template("login.html", next=request.args.get("next", ""))
    throttle: LoginThrottle = current_app.extensions["login_throttle"]
    username = request.form.get("username", "").strip()[:100]
    password = request.form.get("password", "")
    account = username_key(username)
    keys = throttle.keys(account, request.remote_addr or "?", device_of(current_app, account))
    wait = throttle.retry_after(keys)
    if wait:
        audit(username or None, "login_blocked", f"throttled from {request.remote_addr}")
        flash(gettext("Too many failed attempts. Try again in %(n)s seconds.", n=wait), "error")
        return (
            render_template("login.html", next=request.form.get("next", "")),
            429,
            {"Retry-After": str(wait)},
        )
    user = find_user(get_db(), username) if username else None
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok:
        throttle.failed(keys)
        audit(username or None, "login_failed", f"from {request.remote_addr}")
        flash(gettext("Wrong user name or password."), "error")
        return render_template("login.html", next=request.form.get("next", "")), 401
    if not user.is_active:
        audit(user.username, "login_refused", f"account disabled; from {request.remote_addr}")
        flash(gettext("This account is disabled. Ask an administrator."), "error")
        return render_template("login.html", next=request.form.get("next", "")), 403
    throttle.succeeded(keys)
    with write_db() as db:
        token = usersessions.start(db, user.id, usersessions.idle_of(current_app))
    session.clear()  # a fresh session (and CSRF token) at each login
    session[usersessions.TOKEN_KEY] = token
    session["user_id"] = user.id
    csrf_token()
    audit(user.username, "login", f"from {request.remote_addr}")
    resp = redirect(_safe_next(request.form.get("next")))
    resp.set_cookie(
        DEVICE_COOKIE,
        device_cookie(current_app, account),
        max_age=DEVICE_COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(current_app),
    )
    return resp


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    with write_db() as db:
        usersessions.end(db, usersessions.current_token())
    audit(g.user.username, "logout")
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_my_password() -> Any:
    """Any user changes their own password: the current one, then the new one twice.

    The rules and the revocation are those of ``user passwd``: the other logins of this user end, this one
    stays. Each refusal answers the page again with one message (400, or 403 for a wrong current password;
    repeated wrong ones are slowed like logins, 429).
    """
    if request.method == "GET":
        return render_template("account_password.html")
    form = request.form
    me = g.user
    current, new = form.get("current_password", ""), form.get("password", "")
    # Guesses at the current password count with the login throttle: a stolen session is no faster.
    throttle: LoginThrottle = current_app.extensions["login_throttle"]
    account = username_key(me.username)
    keys = throttle.keys(account, request.remote_addr or "?", device_of(current_app, account))
    if wait := throttle.retry_after(keys):
        flash(gettext("Too many failed attempts. Try again in %(n)s seconds.", n=wait), "error")
        return render_template("account_password.html"), 429, {"Retry-After": str(wait)}
    if not check_password_hash(me.password_hash, current):
        throttle.failed(keys)
        audit(me.username, "passwd_refused", "wrong current password")
        return _password_refused(gettext("the current password is wrong"), 403)
    if new != form.get("password2", ""):
        return _password_refused(gettext("the two new passwords differ"), 400)
    if new == current:
        return _password_refused(gettext("the new password is the same as the current one"), 400)
    try:
        with write_db() as db:
            user = db.get(User, me.id)
            ended = set_password(db, user, new, actor=me.username, keep=usersessions.current_token())
    except AccountError as exc:
        return _password_refused(str(exc), 400)
    flash(gettext("Your password is changed; %(n)s other login(s) ended.", n=ended), "info")
    return redirect(url_for("auth.change_my_password"))


def _password_refused(why: str, status: int) -> Any:
    flash(gettext("Password not changed: %(why)s.", why=why), "error")
    return render_template("account_password.html"), status


def admin_account_action(action: str) -> None:
    """The settings page's account forms: ``passwd``, ``disable`` or ``enable`` a user; flashes the result."""
    raw = request.form.get("user_id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        abort(400, description=gettext("choose a user"))
    me = g.user
    with write_db() as db:
        user = db.get(User, int(raw))
        if user is None:
            abort(404, description=gettext("no user %(id)s", id=raw))
        if action == "passwd":
            password = request.form.get("password", "")
            if password != request.form.get("password2", ""):
                flash(gettext("Password not changed: the two passwords differ."), "error")
                return
            keep = usersessions.current_token() if user.id == me.id else None
            try:
                set_password(db, user, password, actor=me.username, keep=keep)
            except AccountError as exc:
                flash(gettext("Password not changed: %(why)s.", why=exc), "error")
                return
            flash(
                gettext("Password of %(name)s changed; their other logins have ended.", name=user.username),
                "info",
            )
        elif user.id == me.id:
            flash(gettext("You cannot disable or enable your own account."), "error")
        else:
            set_active(db, user, action == "enable", actor=me.username)
            if action == "enable":
                flash(gettext("%(name)s enabled.", name=user.username), "info")
            else:
                flash(gettext("%(name)s disabled; their logins have ended.", name=user.username), "info")
