"""``classroom-monitor serve --config school.toml``: the dashboard plus one supervised worker per camera."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from monitor.config import Settings
from monitor.serve.capacity import capacity_warning
from monitor.serve.config import ServeConfigError, load_config
from monitor.store import DatabaseError

EXIT_BAD_CONFIG = 2


@click.command()
@click.option(
    "--config",
    "school_config",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The school config: cameras, timetables, dashboard (see deploy/school.toml).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Only check the config, print the cameras, warn when they need more cores than this host has.",
)
@click.pass_context
def serve(ctx: click.Context, school_config: Path, check: bool) -> None:
    """Run the dashboard and keep one worker per camera running (SIGTERM stops everything cleanly)."""
    from monitor.serve.supervisor import Supervisor
    from monitor.store.migrate import upgrade

    settings: Settings = ctx.obj
    try:
        config = load_config(school_config)
    except ServeConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(EXIT_BAD_CONFIG)
    if check:
        from monitor.serve.timetables import upcoming_periods  # each camera's next three periods
        from monitor.source_mask import mask_source
        from monitor.store.config_file_cameras import saved_sources_not_used_at

        upcoming = upcoming_periods(config, settings.db_url)
        unused = saved_sources_not_used_at(settings.db_url, [c.name for c in config.cameras])
        for cam in config.cameras:
            mode = "always on" if cam.always_on else "timetable"
            click.echo(f"{cam.name}: {mask_source(cam.source)} ({mode})")
            if cam.name in unused:
                click.echo(f"  note: the source saved on the admin page ({unused[cam.name]}) is not used")
            for line in upcoming.get(cam.name, []):
                click.echo(f"  next: {line}")
        if warning := capacity_warning(config.cameras):
            click.echo(warning, err=True)
        return
    try:
        upgrade(settings.db_url)  # a no-op when current; a first run needs no separate step
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    supervisor = Supervisor(
        config, settings.db_url, _cli_prefix(ctx, settings), smtp_password=settings.smtp_password
    )
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # SIGHUP: its terminal closed
        signal.signal(sig, supervisor.request_stop)
    try:
        supervisor.prepare()
    except ServeConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(EXIT_BAD_CONFIG)
    except OSError as exc:  # the log folder cannot be created
        click.echo(f"Error: log_dir {config.log_dir}: {exc.strerror or exc}", err=True)
        ctx.exit(EXIT_BAD_CONFIG)
    click.echo(
        f"serving {len(supervisor.cameras)} camera(s), logs in {config.log_dir}"
        + (f", dashboard on port {config.dashboard.get('port', 5000)}" if config.dashboard else ""),
        err=True,
    )
    supervisor.run()
    click.echo("serve stopped", err=True)


def _cli_prefix(ctx: click.Context, settings: Settings) -> list[str]:
    """How the children are started: this Python, the same settings file, the same verbosity. The database
    URL reaches them through the environment (see ``Supervisor``), never the command line, where ``ps``
    would show its password."""
    prefix = [sys.executable, "-m", "monitor"]
    settings_file = ctx.find_root().params.get("config_file")
    if settings_file:
        prefix += ["--config", str(Path(settings_file).resolve())]
    if settings.log_level.upper() == "DEBUG":
        prefix.append("-v")
    return prefix
