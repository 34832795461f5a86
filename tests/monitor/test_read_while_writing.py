"""Reading a database while a worker writes it: ``status`` and ``export`` (opened read-only) see the
frames a running worker has written, still in its WAL, and opening an engine never takes a live
connection's locks away (which once let another process delete a running worker's WAL: ``disk I/O
error``, and a worker that stored nothing of its lesson)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from monitor.store import make_engine, session_factory
from monitor.store.schema import Camera, Observation
from tests.conftest import GROUP, process_output, requires_videos, run_cli, start_cli
from tests.monitor.test_database_edges import _make_read_only, _make_writable

ADD_CAMERA = (
    "INSERT INTO cameras (name, status, created_at) VALUES ('room-9', 'offline', '2026-12-01 09:00:00')"
)
TOUCH_AND_CLOSE = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM cameras'); "
    "c.close()"
)
"""Another process that opens the database, reads and closes: were it the last, it folds the WAL in."""


def test_a_new_engine_keeps_the_locks_of_a_connection_already_open(db_url: str) -> None:
    path = Path(db_url.removeprefix("sqlite:///"))
    held = make_engine(db_url)
    try:
        with held.connect() as conn:
            conn.execute(text("SELECT count(*) FROM cameras")).scalar()
            make_engine(db_url, writer=True).dispose()  # a worker opening its writer engine
            make_engine(db_url, read_only=True).dispose()
            proc = subprocess.run([sys.executable, "-c", TOUCH_AND_CLOSE, str(path)], timeout=60)
            assert proc.returncode == 0
            assert Path(f"{path}-wal").exists(), "another process took the WAL of a connection still open"
            conn.execute(text(ADD_CAMERA))  # the connection still writes and reads its database
            conn.commit()
            assert conn.execute(text("SELECT count(*) FROM cameras")).scalar() == 1
    finally:
        held.dispose()


def _status(db_url: str) -> dict:
    proc = run_cli("--db", db_url, "status", "--json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) <= 1, proc.stdout
    return rows[0] if rows else {"state": None, "session_id": None}


def _exported_rows(db_url: str, session_id: int) -> int:
    proc = run_cli("--db", db_url, "export", str(session_id), "-o", "-", timeout=60)
    assert proc.returncode == 0, proc.stderr
    return len(proc.stdout.strip().splitlines()) - 1


@requires_videos
@pytest.mark.slow
def test_status_and_export_read_the_frames_of_a_worker_still_running(db_url: str, tmp_path: Path) -> None:
    """A timetabled worker (its timetable keeps a connection open) in a period that covers now."""
    zone = "Pacific/Auckland"
    assert run_cli("--db", db_url, "settings", "set", "timezone", zone, timeout=60).returncode == 0
    now = datetime.now(UTC).astimezone(ZoneInfo(zone))
    start, end = now - timedelta(minutes=1), now + timedelta(minutes=10)
    if start.date() != end.date():
        pytest.skip("the period would cross local midnight")
    config = tmp_path / "school.toml"
    config.write_text(
        f'[[cameras]]\nname = "room-7"\nsource = "{GROUP}"\n'
        f'timetable = [{{day = "{now:%a}", start = "{start:%H:%M:%S}", end = "{end:%H:%M:%S}", '
        'label = "Maths 7B"}]\n'
    )
    worker = start_cli(
        "--db", db_url, "worker", "--camera", "room-7", "--source", str(GROUP), "--loop", "--realtime",
        "--mode", "attention", "--sample-fps", "5", "--timetable-from", str(config),
    )  # fmt: skip
    path = Path(db_url.removeprefix("sqlite:///"))
    try:
        deadline = time.monotonic() + 90
        row: dict = {}
        while time.monotonic() < deadline:
            assert worker.poll() is None, process_output(worker)[1]
            row = _status(db_url)
            if row["state"] == "running" and row["session_id"] is not None:
                break
            time.sleep(0.5)
        assert row["state"] == "running" and row["session_id"] is not None, row
        session_id = row["session_id"]
        counts = []
        for _ in range(6):  # other processes open and close the database meanwhile, as a dashboard does
            subprocess.run([sys.executable, "-c", TOUCH_AND_CLOSE, str(path)], timeout=60, check=True)
            row = _status(db_url)
            assert row["state"] == "running" and row["session_id"] == session_id, row
            assert row["store_error"] is None and row["frames_lost"] == 0, row
            counts.append(_exported_rows(db_url, session_id))
            time.sleep(1.5)
        assert worker.poll() is None, process_output(worker)[1]
        assert counts[-1] > counts[0] > 0, f"export sees the running worker's new frames: {counts}"
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = process_output(worker, timeout=60)
    assert worker.returncode == 0, err
    assert "disk I/O error" not in err and "not written" not in err, err
    assert _exported_rows(db_url, session_id) >= counts[-1]


@pytest.fixture
def held_writer(db_url: str) -> sqlite3.Connection:
    """A real writer connection, held open, whose committed rows are still only in the WAL."""
    path = db_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(ADD_CAMERA)
    yield conn
    conn.close()


def test_status_reads_rows_that_are_still_in_the_wal(db_url: str, held_writer: sqlite3.Connection) -> None:
    path = Path(db_url.removeprefix("sqlite:///"))
    assert Path(f"{path}-wal").stat().st_size > 0
    assert _status(db_url)["camera"] == "room-9"
    engine = make_engine(db_url, read_only=True)
    try:
        with session_factory(engine)() as db:
            assert db.scalar(select(Camera.name)) == "room-9"
            assert db.scalar(select(func.count()).select_from(Observation)) == 0
    finally:
        engine.dispose()


def test_a_read_only_folder_with_a_wal_is_refused_rather_than_read_without_it(tmp_path: Path) -> None:
    """Rows that only the ``-wal`` holds, in a folder where SQLite cannot make the ``-shm`` a reader needs:
    reading the file alone (immutable) would show a database without them; one clear line instead."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    path = folder / "monitor.db"
    assert run_cli("--db", str(path), "db", "upgrade", timeout=120).returncode == 0
    writer = (  # gone without closing: its WAL stays behind, not folded in
        "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('PRAGMA wal_autocheckpoint=0'); c.execute(sys.argv[2]); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", writer, str(path), ADD_CAMERA], timeout=60, check=True)
    Path(f"{path}-shm").unlink()
    assert Path(f"{path}-wal").stat().st_size > 0
    _make_read_only([path, folder])
    try:
        for command in (["status", "--json"], ["export", "1", "-o", "-"]):
            proc = run_cli("--db", str(path), *command, timeout=60)
            assert proc.returncode != 0, proc.stdout
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
            assert "write-ahead log" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    finally:
        _make_writable([path, folder])
    assert os.path.getsize(f"{path}-wal") > 0
