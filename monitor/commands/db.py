"""``classroom-monitor db upgrade|current``."""

from __future__ import annotations

import click

from monitor.config import Settings
from monitor.store import DatabaseError, normalise_url
from monitor.store.db import ensure_sqlite_dir
from monitor.store.migrate import current_revision, upgrade


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
