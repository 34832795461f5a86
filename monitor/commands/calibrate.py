"""``classroom-monitor calibrate``: check a camera's set-up on a few frames and write one annotated frame."""

from __future__ import annotations

import itertools
from pathlib import Path

import click
import cv2
from sqlalchemy.exc import SQLAlchemyError

from monitor.capture import FrameSource, SourceError
from monitor.commands.camera import CAMERA_NAME
from monitor.config import Settings
from monitor.detect import DETECTORS, DetectorError, make_detector
from monitor.safe_paths import UnsafePathError, check_output_path
from monitor.store import DatabaseError, make_engine, session_factory

SNAPSHOT_SUFFIXES = (".png", ".jpg", ".jpeg")


@click.command()
@click.option(
    "--camera",
    required=True,
    type=CAMERA_NAME,
    help="Camera name (its class size, mounting, board and ROI are used).",
)
@click.option("--source", required=True, help="Webcam index, video file, RTSP/HTTP URL, or 'sample'.")
@click.option(
    "--snapshot",
    required=True,
    type=click.Path(path_type=Path),
    help="Write ONE annotated frame here (.png or .jpg).",
)
@click.option(
    "--frames",
    default=10,
    show_default=True,
    type=click.IntRange(1, 300),
    help="Frames to read; the drawing's front direction is the median head pose of all of them.",
)
@click.option("--detector", type=click.Choice(DETECTORS), help="Face detector (default: the worker's).")
@click.option(
    "--save",
    is_flag=True,
    help="Store that front direction on the camera (board 'auto'); it orients this drawing only.",
)
@click.option("--force", is_flag=True, help="Replace an existing snapshot file.")
@click.pass_obj
def calibrate(
    settings: Settings,
    camera: str,
    source: str,
    snapshot: Path,
    frames: int,
    detector: str | None,
    save: bool,
    force: bool,
) -> None:
    """Detect people on a few frames of SOURCE, read their head posture as the worker does, and write the last
    frame annotated (boxes coloured by posture, ROI, a front-direction arrow) to SNAPSHOT so that an admin can
    check the set-up. The front direction only orients the arrow: posture does not use it."""
    from monitor.calibration import calibrate as run_calibration
    from monitor.store.cameras import camera_by_name, config_of, save_learned_board

    try:
        target = check_output_path(snapshot, force=force, settings=settings, what="snapshot")
    except UnsafePathError as exc:
        raise click.ClickException(str(exc)) from exc
    if snapshot.suffix.lower() not in SNAPSHOT_SUFFIXES:
        raise click.ClickException(f"--snapshot must end in .png or .jpg, not {snapshot.name!r}")
    if not target.parent.is_dir():
        raise click.ClickException(f"folder {target.parent} does not exist")
    engine = make_engine(settings.db_url)
    try:
        with session_factory(engine)() as db:
            cam = camera_by_name(db, camera)
            config, camera_id = config_of(cam), (cam.id if cam else None)
    except (DatabaseError, SQLAlchemyError) as exc:
        raise click.ClickException(f"cannot read camera {camera!r}: {exc}") from exc
    if camera_id is None:
        click.echo(
            f"camera {camera} is not set up yet: using defaults (classroom-monitor camera set)", err=True
        )
    try:
        det = make_detector(detector or settings.detector)
        src = FrameSource(source, read_timeout_s=settings.read_timeout_s, reconnect_max_s=0.0)
        images = (f.image for f in itertools.islice(src.frames(), frames))
        result = run_calibration(images, det, config)
    except (SourceError, DetectorError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not cv2.imwrite(str(target), result.snapshot):
        raise click.ClickException(f"could not write {target}")
    found, kept = sorted(result.detected), sorted(result.kept)
    click.echo(
        f"camera {camera}: {result.frames} frames, people detected per frame {found[0]}-{found[-1]} "
        f"(median {found[len(found) // 2]}), inside the ROI median {kept[len(kept) // 2]}"
    )
    hu = result.heads_up
    click.echo(
        f"heads up {hu.heads_up:.0%} ({hu.text()}), heads down {hu.heads_down:.0%}, "
        f"turned away {hu.turned_away:.0%}"
    )
    click.echo(
        f"drawing's front arrow: yaw {result.front[0]:.1f}°, pitch {result.front[1]:.1f}° "
        f"({result.front_from}); posture does not use it"
    )
    if save and camera_id is not None and config.board_mode == "auto" and result.poses_used:
        with session_factory(engine).begin() as db:
            save_learned_board(db, camera_id, result.front)
        click.echo("stored this front direction on the camera (it orients calibrate's drawing only)")
    elif save:
        click.echo(
            "front direction not stored: the camera is not set up, its board is fixed, or no pose was seen"
        )
    engine.dispose()
    click.echo(
        f"wrote 1 annotated frame to {target} because --snapshot asked for it; it shows real people, "
        "so delete it once the set-up is checked"
    )
