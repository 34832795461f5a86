"""``classroom-monitor status``: each camera's worker at a glance (state, heartbeat, fps, restarts)."""

from __future__ import annotations

import json

import click

from monitor.config import Settings
from monitor.store import DatabaseError, migrated_engine, session_factory


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per camera, one per line.")
@click.pass_obj
def status(settings: Settings, as_json: bool) -> None:
    """Show each camera's worker: state, heartbeat age, fps, restarts and last error."""
    from monitor.serve.status import camera_rows, format_table

    try:
        engine = migrated_engine(settings.db_url, read_only=True)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with session_factory(engine)() as db:
            rows = camera_rows(db)
    finally:
        engine.dispose()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    if not rows:
        click.echo("no cameras yet (start `classroom-monitor serve` or a worker)")
        return
    click.echo(format_table(rows))
