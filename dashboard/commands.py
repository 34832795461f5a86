"""``classroom-monitor dashboard | user | purge``: thin shells over the app factory and library calls."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from dashboard.accounts import find_user
from monitor.config import Settings
from monitor.store import directory
from monitor.store.db import DatabaseError, make_engine, session_factory
from monitor.store.schema import AuditLog, Camera, CameraAssignment

MAX_PURGE_DAYS = 36_500
"""A hundred years: the most ``purge --days`` takes (the retention setting's own limit)."""


def _ready_db(settings: Settings) -> None:
    """Create or upgrade the schema (a no-op when current), so a first run needs no separate step."""
    from monitor.store.db import ensure_sqlite_dir
    from monitor.store.migrate import upgrade

    ensure_sqlite_dir(settings.db_url)
    try:
        upgrade(settings.db_url)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", "db_url", help="Database URL or SQLite file (overrides the global --db).")
@click.option(
    "--threads",
    default=100,
    show_default=True,
    type=click.IntRange(4, 10_000),
    help="Worker threads; each open live view holds one, and a fifth (at least 4) stay for pages.",
)
@click.option("--access-log", is_flag=True, help="Log every request to standard error.")
@click.option("--dev", is_flag=True, help="Use Werkzeug's development server, not gunicorn.")
@click.pass_obj
def dashboard(
    settings: Settings, host: str, port: int, db_url: str | None, threads: int, access_log: bool, dev: bool
) -> None:
    """Serve the teachers' web dashboard (gunicorn: one process with threads, WebSockets included)."""
    from dashboard.live import check_live_settings
    from dashboard.usersessions import check_settings

    settings = settings.replace(db_url=db_url)
    try:
        check_settings(settings)
        check_live_settings(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    _ready_db(settings)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"dashboard on http://{shown}:{port}/ (database {settings.db_url})")
    if not dev:
        from dashboard.server import serve

        serve(settings, host, port, threads=threads, access_log=access_log)
        return
    from dashboard import create_app

    app = create_app(settings)
    # Werkzeug with threads serves the WebSocket transport through simple-websocket.
    app.extensions["socketio"].run(
        app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=access_log
    )


@click.group()
def user() -> None:
    """Manage dashboard accounts."""


def _session(settings: Settings):
    _ready_db(settings)
    return session_factory(make_engine(settings.db_url, writer=True))


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May see every camera, change settings and assign cameras.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_add(settings: Settings, name: str, admin: bool, password_stdin: bool) -> None:
    """Create an account NAME (the password is asked for, or read with --password-stdin)."""
    from dashboard.accounts import AccountError, add_user, check_name, password_problem

    try:
        name = check_name(name)
        if problem := password_problem(password := _read_password(password_stdin), name):
            raise AccountError(problem)
        with _session(settings).begin() as db:
            add_user(db, name, password, admin, actor="cli")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added {'admin' if admin else 'teacher'} {name}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.pass_obj
def user_passwd(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME; the account's logins end."""
    from dashboard.accounts import AccountError, get_user, set_password

    try:
        with _session(settings).begin() as db:
            u = get_user(db, name)
            ended = set_password(db, u, _read_password(password_stdin), actor="cli")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password of {u.username} changed; {ended} login(s) ended")


@user.command("email")
@click.argument("name")
@click.argument("address")
@click.pass_obj
def user_email(settings: Settings, name: str, address: str) -> None:
    """Set where NAME's alerts (admins) and weekly digest (teachers) are mailed ("" for none)."""
    from dashboard.accounts import AccountError, get_user
    from monitor.store.notifications import set_email

    try:
        with _session(settings).begin() as db:
            u = get_user(db, name)
            set_email(db, u, address)
            db.add(AuditLog(actor="cli", action="user_email", detail=f"user={u.username} email={u.email}"))
    except (AccountError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{u.username}: mail goes to {u.email}" if u.email else f"{u.username}: no mail")


@user.command("disable")
@click.argument("name")
@click.pass_obj
def user_disable(settings: Settings, name: str) -> None:
    """Stop NAME from logging in and end the account's logins (data and assignments stay)."""
    _set_active(settings, name, False)


@user.command("enable")
@click.argument("name")
@click.pass_obj
def user_enable(settings: Settings, name: str) -> None:
    """Let a disabled account NAME log in again."""
    _set_active(settings, name, True)


def _set_active(settings: Settings, name: str, active: bool) -> None:
    from dashboard.accounts import AccountError, get_user, set_active

    try:
        with _session(settings).begin() as db:
            u = get_user(db, name)
            ended = set_active(db, u, active, actor="cli")
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{u.username} enabled" if active else f"{u.username} disabled; {ended} login(s) ended")


@user.command("list")
@click.pass_obj
def user_list(settings: Settings) -> None:
    """List accounts and their cameras."""
    with _session(settings)() as db:
        names = directory.camera_names(db)
        for u in directory.users(db):
            cams = directory.camera_ids_for_user(db, u.id)
            shown = "all cameras" if u.is_admin else ", ".join(sorted(names[c] for c in cams)) or "no cameras"
            role = ("admin" if u.is_admin else "teacher") + ("" if u.is_active else " (disabled)")
            click.echo(f"{u.username}\t{role}\t{shown}")


@user.command("assign")
@click.argument("name")
@click.argument("camera")
@click.option("--remove", is_flag=True, help="Take the camera away instead.")
@click.pass_obj
def user_assign(settings: Settings, name: str, camera: str, remove: bool) -> None:
    """Let teacher NAME see CAMERA (a camera name or id)."""
    with _session(settings).begin() as db:
        u = find_user(db, name)
        if u is None:
            raise click.ClickException(f"no user {name!r}")
        cam = directory.camera_with_name(db, camera)
        if cam is None and camera.isdigit():
            cam = db.get(Camera, int(camera))
        if cam is None:
            raise click.ClickException(f"no camera {camera!r} (cameras appear when a worker first runs)")
        row = db.get(CameraAssignment, (u.id, cam.id))
        if remove and row is not None:
            db.delete(row)
        elif not remove and row is None:
            db.add(CameraAssignment(user_id=u.id, camera_id=cam.id))
        action = "unassign" if remove else "assign"
        db.add(AuditLog(actor="cli", action=action, detail=f"user={u.username} camera={cam.name}"))
    click.echo(f"{name} {'no longer sees' if remove else 'now sees'} camera {cam.name}")


@click.command()
@click.option(
    "--days",
    type=click.IntRange(0, MAX_PURGE_DAYS),
    help="Keep this many days, 0 to 36500 (default: the site setting).",
)
@click.pass_obj
def purge(settings: Settings, days: int | None) -> None:
    """Delete observations, rollups and track summaries older than the retention period."""
    from monitor.store.retention import run_retention

    _ready_db(settings)
    engine = make_engine(settings.db_url, writer=True)
    try:
        result = run_retention(engine, "cli", days)  # recorded: health shows when retention last ran
    except SQLAlchemyError as exc:
        raise click.ClickException(f"purge failed: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()
    if result.cutoff is None:
        click.echo("retention is 0 days (keep everything): nothing deleted; pass --days N to purge")
        return
    click.echo(
        f"deleted {result.observations} observations, {result.rollups} rollups and "
        f"{result.track_summaries} track summaries ({result.sessions} lessons) older than "
        f"{result.cutoff:%Y-%m-%d %H:%M} UTC"
    )
