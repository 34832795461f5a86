"""``classroom-monitor train-posture``: fit the head-posture model (``training/posture.py``) on labels."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from monitor.detect import DetectorError
from monitor.posture_labels import LabelsError
from training.posture import DEFAULT_L2, DEFAULT_MIN_FACE_PX, DEFAULT_MIN_PROBABILITY
from training.posture import train_posture as fit


@click.command("train-posture")
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Labels JSON (the format of classroom_posture.json; `classroom-monitor label` writes it).",
)
@click.option(
    "--out", "out_dir", required=True, help="Model directory to write (e.g. models/posture-school-v1)."
)
@click.option("--root", default=None, help="Folder the labels' file paths are relative to.")
@click.option("--l2", default=DEFAULT_L2, show_default=True, help="L2 penalty of the logistic regression.")
@click.option("--min-face-px", default=DEFAULT_MIN_FACE_PX, show_default=True, help="Smaller faces: unknown.")
@click.option(
    "--min-probability", default=DEFAULT_MIN_PROBABILITY, show_default=True, help="Less sure: unknown."
)
def train_posture(
    labels_path: str, out_dir: str, root: str | None, l2: float, min_face_px: float, min_probability: float
) -> None:
    """Score held out by person, then fit on every labelled face and write posture.json + metrics.json."""
    command = "classroom-monitor train-posture " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        metrics = fit(labels_path, out_dir, l2, min_face_px, min_probability, root, command.strip())
    except (LabelsError, ValueError, DetectorError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"held out by person: accuracy {metrics['accuracy']:.1%} on {metrics['answered']} of "
        f"{metrics['faces']} labelled faces (the rest unknown); wrote {Path(out_dir) / 'posture.json'}"
    )
