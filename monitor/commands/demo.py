"""``classroom-monitor demo``: the dashboard plus one capture worker on the built-in synthetic sample.

It only starts processes (the same commands a school would run), so ``monitor`` never imports the dashboard;
a worker that dies is restarted, as a camera maintainer would.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import click
from sqlalchemy import select

from monitor.config import Settings
from monitor.store import DatabaseError, make_engine, normalise_url, session_factory, upgrade
from monitor.store.db import ensure_sqlite_dir
from monitor.store.schema import User

DEMO_USER, DEMO_PASSWORD = "demo", "demo-classroom"
DEMO_CAMERA = "Demo classroom (synthetic)"
MAX_RESTARTS = 5


def _cli(settings: Settings, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--db", settings.db_url, *args]


def _ensure_demo_user(settings: Settings) -> None:
    engine = make_engine(settings.db_url)
    with session_factory(engine)() as db:
        exists = db.scalar(select(User.id).where(User.username == DEMO_USER)) is not None
    engine.dispose()
    if not exists:
        subprocess.run(
            _cli(settings, "user", "add", DEMO_USER, "--admin", "--password-stdin"),
            input=DEMO_PASSWORD + "\n",
            text=True,
            check=True,
        )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--mode", type=click.Choice(["emotion", "attention"]), default="emotion", show_default=True)
@click.pass_obj
def demo(settings: Settings, host: str, port: int, mode: str) -> None:
    """Run the dashboard and a worker on a SYNTHETIC sample classroom (no camera or dataset needed)."""
    ensure_sqlite_dir(settings.db_url)
    try:
        upgrade(settings.db_url)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    _ensure_demo_user(settings)
    worker_cmd = _cli(
        settings,
        "worker",
        "--camera",
        DEMO_CAMERA,
        "--source",
        "sample",
        "--session",
        "Demo lesson",
        "--mode",
        mode,
    )
    dashboard = subprocess.Popen(_cli(settings, "dashboard", "--host", host, "--port", str(port)))
    worker = subprocess.Popen(worker_cmd)
    click.echo(
        f"\n  classroom-monitor demo\n  dashboard: http://{host}:{port}/\n"
        f"  login: {DEMO_USER} / {DEMO_PASSWORD}   (demo account; create real ones with `user add`)\n"
        f"  database: {normalise_url(settings.db_url)}\n  Ctrl-C stops both.\n"
    )
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    restarts = 0
    try:
        while not stopping:
            time.sleep(0.5)
            if dashboard.poll() is not None:
                raise click.ClickException(f"the dashboard exited with code {dashboard.returncode}")
            if worker.poll() is not None and not stopping:
                if restarts >= MAX_RESTARTS:
                    raise click.ClickException("the worker keeps failing; see its messages above")
                restarts += 1
                click.echo(
                    f"worker exited ({worker.returncode}); restarting ({restarts}/{MAX_RESTARTS})", err=True
                )
                time.sleep(2.0)
                worker = subprocess.Popen(worker_cmd)
    finally:
        for proc in (worker, dashboard):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (worker, dashboard):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
