"""Shared fixtures: a migrated database, the real clips in ../shared, a session the real worker recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
VIDEOS = SHARED_DATASETS / "videos"
TALKING_HEAD = VIDEOS / "talking_head_phone.mp4"
GROUP = VIDEOS / "group_3people.mp4"

requires_videos = pytest.mark.skipif(
    not TALKING_HEAD.is_file(), reason=f"real clips not found in {VIDEOS} (../shared is not beside the repo)"
)


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for running the CLI in a subprocess, isolated from the user's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLASSROOM_MONITOR_")}
    env.update(extra)
    return env


def run_cli(
    *args: str, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``classroom-monitor ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or cli_env(),
        cwd=REPO,
    )


def start_cli(*args: str, env: dict[str, str] | None = None, logs: Path | None = None) -> subprocess.Popen:
    """Start ``classroom-monitor ARGS`` as a background process; ``process_output`` reads what it wrote.

    Output goes to pipes, read at the end; a process that talks a lot while the test runs (a dashboard logs
    every request) must write to files under ``logs`` instead, or it blocks once a pipe's buffer is full.
    """
    if logs is None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env or cli_env(),
            cwd=REPO,
        )
        proc.log_files = None
        return proc
    logs.mkdir(parents=True, exist_ok=True)
    stem = logs / f"process-{len(list(logs.glob('*.out')))}"
    with open(f"{stem}.out", "w") as out, open(f"{stem}.err", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", *args],
            stdout=out,
            stderr=err,
            text=True,
            env=env or cli_env(),
            cwd=REPO,
        )
    proc.log_files = (Path(f"{stem}.out"), Path(f"{stem}.err"))
    return proc


def process_output(proc: subprocess.Popen, timeout: float = 120) -> tuple[str, str]:
    """Wait for a process started by ``start_cli``; returns its (stdout, stderr)."""
    if proc.log_files is None:
        return proc.communicate(timeout=timeout)
    proc.wait(timeout=timeout)
    return proc.log_files[0].read_text(), proc.log_files[1].read_text()


def add_user(db_url: str, name: str, password: str, admin: bool = False) -> None:
    """Create a dashboard account through the real CLI (password on stdin)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--db",
            db_url,
            "user",
            "add",
            name,
            "--password-stdin",
            *(["--admin"] if admin else []),
        ],
        input=password + "\n",
        text=True,
        capture_output=True,
        env=cli_env(),
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr


def migrated_db(path: Path) -> str:
    from monitor.store.migrate import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite database at the newest schema."""
    return migrated_db(tmp_path / "test.db")


def _serve(kind: str):
    """Start a real server from tests/support/servers.py for the test run; skip where it is not installed."""
    from tests.support import servers

    try:
        server = getattr(servers, kind)().start()
    except servers.ServerUnavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on loopback for this test run."""
    yield from _serve("PostgresServer")


@pytest.fixture(scope="session")
def redis_server():
    """A real Redis server on loopback for this test run."""
    yield from _serve("RedisServer")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at the newest schema, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return migrated_db(tmp_path / "test.db")
    return request.getfixturevalue("postgres").migrated_database()


@pytest.fixture(scope="session")
def recorded_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """(db_url, session_id) of the talking-head clip recorded by the real worker, once per test run."""
    if not TALKING_HEAD.is_file():
        pytest.skip(f"real clips not found in {VIDEOS}")
    url = migrated_db(tmp_path_factory.mktemp("recorded") / "recorded.db")
    proc = run_cli(
        "--db", url, "worker", "--camera", "room-101", "--session", "Maths 7B", "--source", str(TALKING_HEAD)
    )
    assert proc.returncode == 0, proc.stderr
    from sqlalchemy import select

    from monitor.store import make_engine, session_factory
    from monitor.store.schema import ClassSession

    engine = make_engine(url)
    with session_factory(engine)() as db:
        session_id = db.scalar(select(ClassSession.id).order_by(ClassSession.id.desc()))
    engine.dispose()
    return url, session_id
