"""``classroom-monitor``: the one front door. Each command is a thin shell over a library call.

Commands load lazily, so ``worker`` starts without importing Flask or TensorFlow and the core package
``monitor`` never imports ``dashboard`` or ``training``.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from monitor.config import ConfigError, load_settings

LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("monitor.commands.db", "Create or upgrade the database."),
    "worker": ("monitor.commands.worker", "Run a capture worker for one camera."),
    "serve": ("monitor.commands.serve", "Run a school: dashboard plus a supervised worker per camera."),
    "status": ("monitor.commands.status", "Show each camera's worker: state, heartbeat, fps, restarts."),
    "models": ("monitor.commands.models", "List and activate emotion model versions."),
    "camera": ("monitor.commands.camera", "Show or set a camera's class size, mounting, board and ROI."),
    "calibrate": ("monitor.commands.calibrate", "Check a camera's set-up and write one annotated frame."),
    "settings": ("monitor.commands.settings", "Show or change settings (site-wide and per-process)."),
    "timetable": ("monitor.commands.timetable", "Import or export the database's timetable as TOML."),
    "demo": ("monitor.commands.demo", "Dashboard plus a worker on the built-in synthetic sample."),
    "digest": ("monitor.commands.digest", "Mail each teacher the weekly digest (also sent by serve)."),
    "export": ("monitor.reports.commands", "Export session reports (CSV, JSON, PDF, HTML, zip)."),
    "dashboard": ("dashboard.commands", "Serve the teachers' web dashboard."),
    "user": ("dashboard.commands", "Manage dashboard accounts."),
    "purge": ("dashboard.commands", "Delete observations older than the retention period."),
    "train": ("training.commands", "Train the emotion CNN."),
    "evaluate": ("training.commands", "Score a model as the worker runs it: accuracy, F1, ECE, ms/face."),
    "ensemble": ("training.commands", "Average trained models into one model directory."),
    "calibrate-model": ("training.commands", "Fit a model's temperature (calibrated probabilities)."),
    "explain": ("training.commands", "Grad-CAM overlays of dataset faces per class (model.keras)."),
    "train-posture": ("training.posture_commands", "Fit the head-posture model on by-eye labels."),
    "label": ("monitor.commands.label", "Label head postures on a school's own camera frames."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked (click's documented pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, _ = LAZY_COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise click.ClickException(f"'{cmd_name}' is not available: {exc}") from exc
        return getattr(module, cmd_name.replace("-", "_"))

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a database failure no command handled becomes one clear line and exit 1."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if isinstance(exc, click.ClickException):
                raise
            message = database_message(exc, ctx.obj)
            if message is None:
                raise
            raise click.ClickException(message) from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, LAZY_COMMANDS[name][1]) for name in sorted(LAZY_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def database_message(exc: BaseException, settings: object | None) -> str | None:
    """One line for a database failure (None when ``exc`` is not one): a read-only file, missing tables,
    an unusable URL. Commands keep their own, more specific messages; this is the net under them."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store import DatabaseError, shown_url

    if isinstance(exc, DatabaseError):
        return str(exc)
    if not isinstance(exc, SQLAlchemyError | sqlite3.Error):
        return None
    where = "the database"
    if (db_url := getattr(settings, "db_url", None)) is not None:
        where = f"database {shown}" if (shown := shown_url(db_url)) else where
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "readonly database" in detail or "read-only" in detail:
        return f"cannot write to {where}: it is read-only (check the permissions of the file and its folder)"
    if "no such table" in detail or "no such column" in detail:
        return f"{where} is not created or not current: {detail} (run: classroom-monitor db upgrade)"
    if "unable to open database file" in detail:
        return f"cannot open {where}: {detail} (check the path and its permissions)"
    return f"{where} failed: {detail}"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file.")
@click.option("--db", "db_url", help="Database URL or SQLite file path (env CLASSROOM_MONITOR_DB).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, db_url: str | None, verbose: bool) -> None:
    """Classroom engagement monitoring: capture workers, teacher dashboard, reports and training."""
    try:
        settings = load_settings(config_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = settings.replace(db_url=db_url, log_level="DEBUG" if verbose else None)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        # Alembic logs one INFO line per autogenerate plugin whenever it is imported: noise in every --help.
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if settings.camera_key:  # camera passwords (monitor.store.camera_sources) follow --config too
        from monitor.store import camera_sources

        camera_sources.use_settings(settings)
    ctx.obj = settings


def main() -> None:
    cli(prog_name="classroom-monitor")
