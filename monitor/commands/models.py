"""``classroom-monitor models list|activate``."""

from __future__ import annotations

import click

from monitor.classify import ModelError
from monitor.config import Settings
from monitor.registry import set_active, sync_shipped
from monitor.store import make_engine, session_factory


@click.group()
def models() -> None:
    """List and activate emotion model versions."""


@models.command("list")
@click.pass_obj
def list_cmd(settings: Settings) -> None:
    """Model versions known to the database (shipped ones are registered on the way)."""
    engine = make_engine(settings.db_url)
    with session_factory(engine).begin() as db:
        rows = sync_shipped(db, settings.models_dir)
        if not rows:
            click.echo("no models (train one with: classroom-monitor train)")
        for r in rows:
            acc = "-" if r.accuracy is None else f"{r.accuracy:.1%}"
            f1 = "-" if r.macro_f1 is None else f"{r.macro_f1:.3f}"
            mark = "*" if r.active else " "
            click.echo(f"{mark} {r.version:32} acc {acc:>6}  macro-F1 {f1:>5}  {r.arch or '':9} {r.path}")


@models.command("activate")
@click.argument("version")
@click.pass_obj
def activate_cmd(settings: Settings, version: str) -> None:
    """Make VERSION the model every worker uses (running workers switch within seconds)."""
    engine = make_engine(settings.db_url)
    try:
        with session_factory(engine).begin() as db:
            sync_shipped(db, settings.models_dir)
            row = set_active(db, version)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"active model: {row.version} ({row.path})")
