"""``classroom-monitor export``: one session to a file, or many sessions (a camera, a date range) to a zip."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor.config import Settings
from monitor.reports.bulk import bulk_name, find_sessions, write_bulk_zip
from monitor.reports.core import FORMATS, ReportError, get_session, render
from monitor.reports.files import write_report
from monitor.store import DatabaseError, make_engine, normalise_url, session_factory

MAX_SESSION_ID = 2**63 - 1
"""The largest id the database can hold (SQLite INTEGER)."""


@contextmanager
def _database(settings: Settings) -> Iterator[Session]:
    """A read session on the configured database (opened read-only); every failure becomes one clean
    message."""
    try:
        engine = make_engine(settings.db_url, read_only=True)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with session_factory(engine)() as db:
            yield db
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise click.ClickException(
            f"cannot read database {normalise_url(settings.db_url)}: {detail} "
            "(is it created? run: classroom-monitor db upgrade)"
        ) from exc
    finally:
        engine.dispose()


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


@click.command("export")
@click.argument("session_id", type=click.IntRange(1, MAX_SESSION_ID), required=False)
@click.option(
    "-f",
    "--format",
    "formats",
    type=click.Choice(FORMATS, case_sensitive=False),
    multiple=True,
    help="Report format; repeat for several (they then go into a zip). Default: csv.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(allow_dash=True, path_type=str),
    help="Output file or folder ('-': standard output, one session and format only). "
    "Default: a descriptive file name in the current folder. An existing file is kept unless --force; "
    "the database and model files are never written over.",
)
@click.option("--force", is_flag=True, help="Replace the output file when it exists already.")
@click.option("--camera", help="Bulk: every session of the camera with this name.")
@click.option(
    "--class",
    "label",
    help="Bulk: every lesson of this class (its label, or the part before ' · ' of a timetabled one).",
)
@click.option(
    "--from",
    "date_from",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Bulk: sessions started on or after this date (school time zone).",
)
@click.option(
    "--to",
    "date_to",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Bulk: sessions started on or before this date (school time zone).",
)
@click.pass_obj
def export(
    settings: Settings,
    session_id: int | None,
    formats: tuple[str, ...],
    out: str | None,
    force: bool,
    camera: str | None,
    label: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> None:
    """Export one session (SESSION_ID) as CSV, JSON, PDF or HTML, or many sessions as one zip.

    \b
    Examples:
      classroom-monitor export 12 --format pdf
      classroom-monitor export 12 --format csv --out - | head
      classroom-monitor export --camera "Room 101" --format pdf --format csv --out room101.zip
      classroom-monitor export --from 2026-11-01 --to 2026-11-30 --format json --out november.zip
      classroom-monitor export --class "Maths 7B" --from 2026-09-01 --format csv --out maths-7b.zip
    """
    bulk = camera is not None or label is not None or date_from is not None or date_to is not None
    if session_id is not None and bulk:
        raise click.UsageError("give either a SESSION_ID or --camera/--class/--from/--to, not both")
    if session_id is None and not bulk:
        raise click.UsageError(
            "give a SESSION_ID, or --camera, --class and/or --from/--to to export several sessions"
        )
    fmts = [f.lower() for f in dict.fromkeys(formats)] or ["csv"]
    models_dir = settings.models_dir
    with _database(settings) as db:
        if bulk or len(fmts) > 1 or (out or "").lower().endswith(".zip"):
            if out == "-":
                raise click.UsageError("a zip cannot be written to standard output; give --out FILE.zip")
            ids = (
                [session_id]
                if session_id is not None
                else find_sessions(
                    db, camera, date_from and date_from.date(), date_to and date_to.date(), label=label
                )
            )
            default = (
                f"session-{session_id}.zip"
                if session_id is not None
                else bulk_name(camera, label, date_from and date_from.date(), date_to and date_to.date())
            )
            path = write_bulk_zip(
                db, ids, fmts, out or Path.cwd() / default, models_dir=models_dir, force=force
            )
            click.echo(
                f"wrote {path} ({len(ids)} session{'s' * (len(ids) != 1)}, {', '.join(fmts)}, {_size(path)})",
                err=True,
            )
            return
        fmt = fmts[0]
        if out == "-":
            get_session(db, session_id)
            stream = sys.stdout.buffer
            for chunk in render(db, session_id, fmt, models_dir=models_dir):
                stream.write(chunk)
            stream.flush()
            return
        path = write_report(db, session_id, fmt, out or Path.cwd(), models_dir=models_dir, force=force)
        click.echo(f"wrote {path} ({_size(path)})", err=True)
