"""Databases at the edges, through the real CLI: one a newer version migrated, and one that is read-only.

A database at a schema revision this code does not know is refused by every command with one line, and
the worker writes nothing into it. A read-only database (file and folder) can still be read by ``export``
and ``status``; commands that write say it is read-only.

Root ignores permission bits, and the tests run as root in CI, so the read-only case uses ``chattr +i``
(immutable: writes fail for root too) where it runs as root, and plain permission bits otherwise.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.store import make_engine, upgrade
from tests.conftest import REPO, cli_env, run_cli
from tests.reports.conftest import seed_session

FUTURE_REVISION = "9999_from_a_newer_version"


def dump(path: Path, immutable: bool = False) -> list[str]:
    """Every row of every table, as SQL text (what the database holds, not how the file is laid out);
    ``immutable``: in a read-only folder, where SQLite cannot make the files a WAL reader needs."""
    with sqlite3.connect(f"file:{path}?mode=ro{'&immutable=1' if immutable else ''}", uri=True) as conn:
        return list(conn.iterdump())


def assert_one_line_refusal(proc: subprocess.CompletedProcess, *words: str) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip() and " INFO " not in line]
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: "), proc.stderr
    for word in words:
        assert word in lines[0], proc.stderr


@pytest.fixture
def future_db(tmp_path: Path) -> Path:
    """A database with lessons in it, stamped with a revision a newer version would have written."""
    path = tmp_path / "newer.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    seed_session(
        url,
        camera="Room 101",
        label="Maths",
        mode="emotion",
        start=datetime(2026, 11, 20, 9, tzinfo=UTC),
        seconds=60,
    )
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (FUTURE_REVISION,))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["db", "upgrade"],
        ["user", "list"],
        ["purge", "--days", "1"],
        ["dashboard", "--port", "0"],
        ["status"],
        ["export", "1", "-o", "-"],
        ["worker", "--camera", "Room 102", "--source", "sample", "--max-frames", "5", "--mode", "attention"],
    ],
    ids=lambda c: c[0] if c[0] != "db" else "db-upgrade",
)
def test_a_database_from_a_newer_version_is_refused_with_one_line(
    future_db: Path, command: list[str]
) -> None:
    before = dump(future_db)
    proc = run_cli("--db", str(future_db), *command, timeout=120)
    assert_one_line_refusal(proc, FUTURE_REVISION, "newer than this version")
    assert dump(future_db) == before


def _make_read_only(targets: list[Path]) -> None:
    """Writes to ``targets`` fail: permission bits, or ``chattr +i`` for root (which ignores the bits)."""
    for target in targets:
        if os.geteuid() != 0:
            target.chmod(0o555 if target.is_dir() else 0o444)
            continue
        proc = subprocess.run(["chattr", "+i", str(target)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"root ignores permissions, and chattr +i fails here: {proc.stderr.strip()}")


def _make_writable(targets: list[Path]) -> None:
    for target in targets:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(target)], capture_output=True)
        target.chmod(0o755 if target.is_dir() else 0o644)


@pytest.fixture(params=["file", "file-and-folder"])
def read_only_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """(path, session id) of a database whose file (and folder) cannot be written, by root either."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    path = folder / "monitor.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    session_id = seed_session(
        url,
        camera="Room 101",
        label="Maths 7B",
        mode="emotion",
        start=datetime(2026, 11, 20, 9, tzinfo=UTC),
        seconds=60,
    )
    assert sorted(p.name for p in folder.iterdir()) == ["monitor.db"]  # closed cleanly: no -wal, no -shm
    targets = [path, folder] if request.param == "file-and-folder" else [path]
    try:
        _make_read_only(targets)
        with pytest.raises(OSError):
            path.open("ab").close()
        if folder in targets:
            with pytest.raises(OSError):
                (folder / "probe").touch()
        yield path, session_id
    finally:
        _make_writable(targets)


def test_export_reads_a_read_only_database(read_only_db: tuple[Path, int]) -> None:
    path, session_id = read_only_db
    proc = run_cli("--db", str(path), "export", str(session_id), "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") > 10, proc.stdout


def test_status_reads_a_read_only_database(read_only_db: tuple[Path, int]) -> None:
    path, _ = read_only_db
    proc = run_cli("--db", str(path), "status", "--json")
    assert proc.returncode == 0, proc.stderr
    assert '"Room 101"' in proc.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["db", "upgrade"],
        ["purge", "--days", "1"],
        ["worker", "--camera", "Room 101", "--source", "sample", "--max-frames", "5", "--mode", "attention"],
        ["dashboard", "--port", "0"],
    ],
    ids=lambda c: c[0] if c[0] != "db" else "db-upgrade",
)
def test_a_command_that_writes_says_the_database_is_read_only(
    read_only_db: tuple[Path, int], command: list[str]
) -> None:
    path, _ = read_only_db
    proc = run_cli("--db", str(path), *command, timeout=120)
    assert_one_line_refusal(proc, "read-only")


def test_user_add_says_the_database_is_read_only(read_only_db: tuple[Path, int]) -> None:
    path, _ = read_only_db
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--db", str(path), "user", "add", "alice", "--password-stdin"],
        input="a long enough password\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
        cwd=REPO,
    )
    assert_one_line_refusal(proc, "read-only")


def test_a_postgresql_database_from_a_newer_version_is_refused_and_not_written(postgres) -> None:
    import psycopg

    url = postgres.migrated_database()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :rev"), {"rev": FUTURE_REVISION})
    engine.dispose()
    for command in (
        ["db", "upgrade"],
        ["user", "list"],
        ["worker", "--camera", "Room 102", "--source", "sample", "--max-frames", "5", "--mode", "attention"],
    ):
        proc = run_cli("--db", url, *command, timeout=120)
        assert_one_line_refusal(proc, FUTURE_REVISION, "newer than this version")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        assert conn.execute("SELECT count(*) FROM cameras").fetchone() == (0,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (FUTURE_REVISION,)
