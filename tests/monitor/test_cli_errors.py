"""Bad input and a read-only database give one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import cli_env, migrated_db
from tests.dashboard.helpers import World


def invoke(*args: str, input: str | None = None):
    """Run the CLI in-process; an exception escaping the command fails the test (no traceback allowed)."""
    env = {k: None for k in cli_env() if k.startswith("CLASSROOM_MONITOR_")}
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


def one_error_line(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], result.output
    assert "Traceback" not in result.output


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def read_only_db(tmp_path: Path) -> Iterator[Path]:
    """A current database with a teacher and a camera, whose file cannot be written (chmod; as root, where
    permissions do not bind, also the immutable attribute)."""
    path = tmp_path / "school.db"
    world = World(migrated_db(path))
    world.camera("room-1")
    world.user("ann")
    world.engine.dispose()
    path.chmod(0o444)
    immutable = False
    if os.geteuid() == 0 and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    if not immutable and os.access(path, os.W_OK):
        path.chmod(0o644)
        pytest.skip("cannot make a file read-only for this user (root without chattr +i)")
    try:
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


@pytest.mark.parametrize(
    "args",
    [
        ("user", "add", "newbie", "--password-stdin"),
        ("user", "assign", "ann", "room-1"),
        ("purge", "--days", "3"),
        ("models", "activate", "fer2013-default-v1"),
    ],
    ids=["user-add", "user-assign", "purge", "models-activate"],
)
def test_read_only_database_is_one_clear_line(read_only_db, args):
    before = _digest(read_only_db)
    result = invoke("--db", str(read_only_db), *args, input="a long passphrase 42\n")
    one_error_line(result, "read-only", str(read_only_db))
    assert _digest(read_only_db) == before


def test_models_list_reads_a_read_only_database(read_only_db):
    result = invoke("--db", str(read_only_db), "models", "list")
    assert result.exit_code == 0, result.output
    assert "fer2013" in result.output


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    """The worker command installs SIGINT/SIGTERM handlers; give pytest its own back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.timeout(120)
def test_worker_on_a_read_only_database_is_one_clear_line(read_only_db, keep_signal_handlers):
    result = invoke("--db", str(read_only_db), "worker", "--camera", "room-1", "--source", "sample",
                    "--max-frames", "2")  # fmt: skip
    one_error_line(result, "read-only")


@pytest.mark.parametrize("days", ["1000000000", "36501", "-1"])
def test_purge_days_out_of_range(db_url, days):
    result = invoke("--db", db_url, "purge", "--days", days)
    assert result.exit_code == 2, result.output
    assert "0<=x<=36500" in result.output and "Traceback" not in result.output


@pytest.mark.timeout(120)  # a worker that accepted nan would run on
@pytest.mark.parametrize("fps", ["nan", "inf", "-inf", "-1", "1e400", "NaN"])
def test_sample_fps_must_be_a_finite_non_negative_number(db_url, fps, keep_signal_handlers):
    worker = ["worker", "--camera", "c", "--source", "sample", "--max-frames", "2"]
    result = invoke("--db", db_url, *worker, f"--sample-fps={fps}")
    assert result.exit_code == 2, result.output
    assert "--sample-fps" in result.output and "Traceback" not in result.output


def test_a_directory_as_source_is_called_a_directory(db_url, tmp_path, keep_signal_handlers):
    result = invoke("--db", db_url, "worker", "--camera", "c", "--source", str(tmp_path))
    one_error_line(result, "is a directory, not a video file")
    result = invoke("--db", db_url, "worker", "--camera", "c", "--source", str(tmp_path / "missing.mp4"))
    one_error_line(result, "not found")


def test_export_of_an_out_of_range_session_id(db_url):
    result = invoke("--db", db_url, "export", "99999999999999999999999")
    assert result.exit_code == 2 and "not in the range" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["train", "ensemble"])
def test_help_prints_no_log_lines(command: str) -> None:
    """`train --help` printed one alembic INFO line per autogenerate plugin before the help text."""
    done = subprocess.run(
        [sys.executable, "-m", "monitor", command, "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        env=cli_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert " INFO " not in done.stderr, done.stderr
