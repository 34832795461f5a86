"""``classroom-monitor camera set|show``: a camera's classroom set-up (class size, mounting, board, ROI)."""

from __future__ import annotations

import json
from typing import Any

import click

from monitor.cameras import CameraConfigError, clean_camera_name, rects_text, validate_changes
from monitor.config import Settings
from monitor.store import DatabaseError, migrated_engine, session_factory
from monitor.store.cameras import apply_changes, camera_by_name, config_of
from monitor.store.schema import AuditLog


class CameraName(click.ParamType):
    """A camera name under the one rule (``monitor.cameras.clean_camera_name``): `` c1 `` becomes ``c1``;
    an empty or non-printable name is a usage error before anything is opened."""

    name = "camera name"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return clean_camera_name(value)
        except CameraConfigError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


CAMERA_NAME = CameraName()


def _engine(settings: Settings):
    try:
        return migrated_engine(settings.db_url)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def camera() -> None:
    """Show or change a camera's classroom set-up."""


@camera.command("set")
@click.argument("name", type=CAMERA_NAME)
@click.option("--class-size", help="Students in the room (1-500; 'none': count the people in view).")
@click.option("--mounting", help="Wall the camera hangs on: front (sees faces) or back (sees backs).")
@click.option(
    "--board",
    help="Front direction for calibrate's drawing only (posture does not use it): 'auto' or 'yaw,pitch'.",
)
@click.option("--roi", "ignore", help="Areas to ignore, 'x,y,w,h;...' in 0..1 of the frame ('none': clear).")
@click.option("--include", help="Only count people inside these areas, 'x,y,w,h;...' ('none': whole frame).")
@click.pass_obj
def set_cmd(
    settings: Settings,
    name: str,
    class_size: str | None,
    mounting: str | None,
    board: str | None,
    ignore: str | None,
    include: str | None,
) -> None:
    """Change the set-up of camera NAME (created if new); workers read it when they start."""
    try:
        changes = validate_changes(class_size, mounting, board, ignore, include)
    except CameraConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not changes:
        raise click.ClickException(
            "nothing to change: give --class-size, --mounting, --board, --roi or --include"
        )
    audit = {k: (rects_text(v) if k.startswith("roi_") else v) for k, v in changes.items()}
    engine = _engine(settings)
    with session_factory(engine).begin() as db:
        cam = apply_changes(db, name, changes)
        db.add(AuditLog(actor="cli", action="camera", detail=json.dumps({"camera": name, **audit})))
        lines = config_of(cam).describe()
    engine.dispose()
    click.echo(f"camera {name}:")
    for line in lines:
        click.echo(f"  {line}")


@camera.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show_cmd(settings: Settings, name: str, as_json: bool) -> None:
    """Print the set-up of camera NAME."""
    engine = _engine(settings)
    with session_factory(engine)() as db:
        cam = camera_by_name(db, name)
        if cam is None:
            raise click.ClickException(
                f"no camera named {name!r} (create it with: classroom-monitor camera set)"
            )
        cfg = config_of(cam)
    engine.dispose()
    if as_json:
        out = {
            "camera": name,
            "class_size": cfg.class_size,
            "mounting": cfg.mounting,
            "board_mode": cfg.board_mode,
            "board": list(cfg.board) if cfg.board else None,
            "roi": {"ignore": rects_text(cfg.ignore), "include": rects_text(cfg.include)},
        }
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"camera {name}:")
    for line in cfg.describe():
        click.echo(f"  {line}")
