"""``classroom-monitor settings show|set``: read and change settings from the shell, as an admin would."""

from __future__ import annotations

import dataclasses
import json

import click
from sqlalchemy.exc import SQLAlchemyError

from monitor.config import Settings
from monitor.store import DatabaseError, migrated_engine, session_factory, shown_url
from monitor.store.db import error_line
from monitor.store.site_settings import SITE_KEYS, SettingError, all_settings, save_settings

_SECRET = {"secret_key", "smtp_password"}


def _process_settings(settings: Settings) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name in _SECRET:
            value = None if value is None else "(set)"
        elif f.name in ("db_url", "redis_url") and value:
            value = shown_url(str(value)) or "(not a database URL)"
        elif dataclasses.is_dataclass(value):
            value = dataclasses.asdict(value)
        out[f.name] = value if isinstance(value, int | float | str | bool | dict | type(None)) else str(value)
    return out


def _engine(settings: Settings):
    # writer: SQLite takes the write lock at BEGIN, so a busy worker makes us wait instead of fail.
    try:
        return migrated_engine(settings.db_url, writer=True)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def settings() -> None:
    """Show or change settings: site-wide ones live in the database, per-process ones in file/env/flags."""


@settings.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show_cmd(process: Settings, as_json: bool) -> None:
    """Print the site-wide settings (database) and this process's own (defaults, file, environment)."""
    engine = _engine(process)
    with session_factory(engine)() as db:
        site = all_settings(db)
    engine.dispose()
    local = _process_settings(process)
    if as_json:
        click.echo(json.dumps({"site": site, "process": local}, indent=2, default=str))
        return
    click.echo("site-wide (database; change with `classroom-monitor settings set KEY VALUE`):")
    for key, value in site.items():
        click.echo(f"  {key:20} {json.dumps(value):10} {SITE_KEYS[key].help}")
    click.echo("per-process (defaults -> config file -> CLASSROOM_MONITOR_* -> flags):")
    for key, value in local.items():
        click.echo(f"  {key:20} {json.dumps(value, default=str)}")


@settings.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_cmd(process: Settings, key: str, value: str) -> None:
    """Change the site-wide setting KEY to VALUE (running workers apply it within seconds)."""
    if key not in SITE_KEYS and hasattr(process, key):
        raise click.ClickException(
            f"{key} is a per-process setting: set it in the config file, "
            f"CLASSROOM_MONITOR_{key.upper()} or a command-line flag"
        )
    engine = _engine(process)
    try:
        with session_factory(engine).begin() as db:
            now, changed = save_settings(db, {key: value}, "cli", from_text=True)
    except SettingError as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot write to {shown_url(process.db_url)}: {error_line(exc)}") from exc
    finally:
        engine.dispose()
    state = "set" if changed else "unchanged"
    click.echo(f"{key} = {json.dumps(now[key])} ({state}; running workers apply it within a few seconds)")
