"""``classroom-monitor models list|activate``."""

from __future__ import annotations

import click

from monitor.classify import ModelError
from monitor.config import Settings
from monitor.registry import check_activatable, list_versions, set_active, sync_shipped, version_dir
from monitor.safe_paths import database_files
from monitor.store import make_engine, session_factory


@click.group()
def models() -> None:
    """List and activate emotion model versions."""


@models.command("list")
@click.pass_obj
def list_cmd(settings: Settings) -> None:
    """Model versions known to the database and shipped in the models folder (* marks the active one).

    Listing only reads: it works on a read-only database and never creates or changes one.
    """
    files = database_files(settings.db_url)
    if files and not files[0].is_file():
        rows = list_versions(None, settings.models_dir)  # no database yet: do not create one to look
    else:
        engine = make_engine(settings.db_url)
        try:
            with session_factory(engine)() as db:
                rows = list_versions(db, settings.models_dir)
        finally:
            engine.dispose()
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
    """Make VERSION the model every worker uses (running workers switch within seconds).

    The model is checked first (it must load under LiteRT, have the right input and output shapes, and
    give finite probabilities that differ between 16 real faces, its calibration.json applied); a bad one
    is refused and the active model stays as it was.
    """
    engine = make_engine(settings.db_url, writer=True)
    try:
        with session_factory(engine).begin() as db:
            sync_shipped(db, settings.models_dir)
            model_dir = version_dir(db, version)
        # Loading and running the model takes a moment: not while holding the write lock workers need.
        check_activatable(version, model_dir)
        with session_factory(engine).begin() as db:
            row = set_active(db, version, validate=False)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(f"active model: {row.version} ({row.path})")
