"""``classroom-monitor worker``: run one capture worker until the source ends or a signal arrives."""

from __future__ import annotations

import math
import signal
from pathlib import Path
from typing import Any

import click

from monitor.capture import SourceError
from monitor.classify import ModelError
from monitor.commands.camera import CAMERA_NAME
from monitor.config import MODEL_PRECISIONS, Settings
from monitor.detect import DETECTORS, DetectorError
from monitor.store import DatabaseError


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses nan and inf (``FloatRange(min=0)`` lets both through)."""

    name = "finite float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


@click.command()
@click.option("--camera", required=True, type=CAMERA_NAME, help="Camera name (created on first use).")
@click.option(
    "--source",
    required=True,
    envvar="CLASSROOM_MONITOR_WORKER_SOURCE",  # serve hands a source with a password over here, not in argv
    help="Webcam index (0), video file, RTSP/HTTP URL, or 'sample'.",
)
@click.option("--session", "session_label", help="Class session label (default: camera and start time).")
@click.option("--detector", type=click.Choice(DETECTORS), help="Face detector (default: yunet).")
@click.option("--sample-fps", type=FiniteFloatRange(min=0), help="Frames per second to process (0: all).")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many processed frames.")
@click.option("--mode", type=click.Choice(["emotion", "attention"]), help="attention: no emotion inference.")
@click.option("--model", type=click.Path(path_type=Path), help="Model directory (default: the active one).")
@click.option(
    "--model-precision",
    type=click.Choice(MODEL_PRECISIONS),
    help="auto (default): the int8 file when the model ships one, else float32.",
)
@click.option("--detect-every", type=click.IntRange(min=1), help="Run the detector every N frames.")
@click.option("--loop", is_flag=True, help="Play a video file again and again (demos, soak tests).")
@click.option("--realtime", is_flag=True, help="Deliver a video file's frames at its own fps, like a camera.")
@click.option("--redis", "redis_url", help="Redis URL: also emit live summaries through the message queue.")
@click.option(
    "--timetable-from",
    type=click.Path(dir_okay=False, path_type=Path),
    help="School config (serve --config): record only in this camera's timetable periods.",
)
@click.option("--standby", is_flag=True, help="Wait, ready, while another worker holds the camera (serve).")
@click.pass_obj
def worker(
    settings: Settings,
    camera: str,
    source: str,
    session_label: str | None,
    detector: str | None,
    sample_fps: float | None,
    max_frames: int | None,
    mode: str | None,
    model: Path | None,
    model_precision: str | None,
    detect_every: int | None,
    loop: bool,
    realtime: bool,
    redis_url: str | None,
    timetable_from: Path | None,
    standby: bool,
) -> None:
    """Read frames from SOURCE, follow every face and store timestamped results for CAMERA."""
    from monitor.compute_threads import apply_thread_limit
    from monitor.source_mask import mask_source, mask_text
    from monitor.worker import CaptureWorker, WorkerError

    apply_thread_limit()  # serve shares the host's cores among its workers (OMP_NUM_THREADS)

    settings = settings.replace(
        detector=detector,
        sample_fps=sample_fps,
        mode=mode,
        detect_every=detect_every,
        redis_url=redis_url,
        model_precision=model_precision,
    )
    if source == "sample" and sample_fps is None:
        settings = settings.replace(sample_fps=10.0)
    schedule = None
    if timetable_from is not None:
        from monitor.serve.config import ServeConfigError
        from monitor.serve.timetables import schedule_for  # the database's timetable, else the TOML's

        try:
            schedule = schedule_for(timetable_from, camera, settings.db_url)
        except (ServeConfigError, DatabaseError) as exc:
            raise click.ClickException(str(exc)) from exc
    try:
        w = CaptureWorker(
            settings,
            camera,
            source,
            session_label,
            max_frames,
            model,
            loop=loop,
            realtime=realtime,
            schedule=schedule,
        )
    except (WorkerError, SourceError, ModelError, DetectorError, DatabaseError) as exc:
        raise click.ClickException(mask_text(str(exc), source)) from exc

    def stop(signum, _frame) -> None:
        w.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if standby:
        from monitor.serve.state import wait_while_held

        if not wait_while_held(settings.db_url, camera, w.stop_event):
            return  # stopped while standing by: nothing was claimed, nothing to close
    click.echo(
        f"camera {camera}: {w.source.kind} source {mask_source(source)}, {w.mode} mode,"
        f" detector {w.detector.name}"
        + (f", model {w.classifier.version} ({w.classifier.precision})" if w.classifier else ""),
        err=True,
    )
    try:
        summary = w.run()
    except (WorkerError, DatabaseError) as exc:  # the camera is taken, or was taken over while running
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.line())
    loss = summary.loss()
    if loss is not None:  # frames were processed and never stored: that must not look like success
        raise click.ClickException(loss)
