"""``classroom-monitor timetable import|export|show``: the database's timetable to and from TOML (issue 24).

The database holds the timetable the workers record by and the dashboard edits; a TOML file in the school
config's shape (``[[holidays]]`` and ``[[cameras]]`` with ``name``, ``timetable``, ``changes``) brings one in
or takes a copy out. A whole ``school.toml`` imports too (its other keys are left alone).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from monitor.config import Settings
from monitor.store import DatabaseError, migrated_engine, session_factory
from monitor.timetable import TimetableError

EXIT_BAD_FILE = 2


def _factory(settings: Settings, writer: bool = False):
    try:
        return session_factory(migrated_engine(settings.db_url, writer=writer))
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def timetable() -> None:
    """Import or export the timetable (periods, holidays, day changes) kept in the database."""


@timetable.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def import_cmd(ctx: click.Context, path: Path) -> None:
    """Store the timetables in PATH (replacing those of the cameras it lists, and the holidays if it has
    [[holidays]]); nothing is stored when any entry is bad."""
    from monitor.store.timetables import import_timetables

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        click.echo(f"Error: file not found: {path}", err=True)
        ctx.exit(EXIT_BAD_FILE)
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"Error: cannot read {path}: {exc}", err=True)
        ctx.exit(EXIT_BAD_FILE)
    except tomllib.TOMLDecodeError as exc:
        click.echo(f"Error: {path} is not valid TOML: {exc}", err=True)
        ctx.exit(EXIT_BAD_FILE)
    factory = _factory(ctx.obj, writer=True)
    try:
        with factory.begin() as db:
            done = import_timetables(db, raw, actor="cli", origin="cli")
    except TimetableError as exc:
        click.echo(f"Error: {path}: {exc}", err=True)
        ctx.exit(EXIT_BAD_FILE)
    finally:
        factory.kw["bind"].dispose()
    if not done:
        click.echo(f"{path}: no [[holidays]] and no camera with a timetable; nothing imported", err=True)
        ctx.exit(EXIT_BAD_FILE)
    for line in done:
        click.echo(f"imported {line}")


@timetable.command("export")
@click.option("--camera", "cameras", multiple=True, help="Only this camera (repeatable; default: all).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.pass_context
def export_cmd(ctx: click.Context, cameras: tuple[str, ...], output: Path | None) -> None:
    """Print (or write) the holidays and the stored timetables as TOML that `timetable import` reads."""
    from monitor.store.timetables import export_timetables

    factory = _factory(ctx.obj)
    try:
        with factory() as db:
            text = export_timetables(db, cameras or None)
    except TimetableError as exc:
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(EXIT_BAD_FILE)
    finally:
        factory.kw["bind"].dispose()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"Error: cannot write {output}: {exc.strerror or exc}", err=True)
        ctx.exit(EXIT_BAD_FILE)
    click.echo(f"wrote {output}", err=True)
