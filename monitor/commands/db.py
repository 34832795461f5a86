"""``classroom-monitor db upgrade|current``."""

from __future__ import annotations

import click

from monitor.config import Settings, default_data_dir
from monitor.store import DatabaseError, normalise_url
from monitor.store.db import sqlite_file
from monitor.store.migrate import current_revision, upgrade


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of the default SQLite file so the first run needs no manual step.

    Only the default folder: a mistyped ``--db`` path should fail loudly, not grow new folders.
    """
    file = sqlite_file(url)
    if file is None:
        return
    parent = file.resolve().parent
    if parent == default_data_dir().resolve():
        parent.mkdir(parents=True, exist_ok=True)


@click.group()
def db() -> None:
    """Create, upgrade or inspect the database."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def upgrade_cmd(settings: Settings, revision: str) -> None:
    """Create the database or upgrade it to the newest schema."""
    ensure_sqlite_dir(settings.db_url)
    try:
        rev = upgrade(settings.db_url, revision)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"database {normalise_url(settings.db_url)} at revision {rev}")


@db.command("current")
@click.pass_obj
def current_cmd(settings: Settings) -> None:
    """Print the schema revision of the database."""
    try:
        click.echo(current_revision(settings.db_url) or "empty (run: classroom-monitor db upgrade)")
    except Exception as exc:
        raise click.ClickException(f"cannot read database: {exc}") from exc
