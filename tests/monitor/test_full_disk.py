"""A database on a full disk: the worker keeps a bounded backlog, counts every frame it could not store, says
so in ``status`` and exits non-zero. Run on a real, small tmpfs holding the SQLite file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from monitor.config import Settings
from monitor.worker import CaptureWorker, WorkerSummary
from tests.conftest import GROUP, migrated_db, process_output, requires_videos, run_cli, start_cli

pytestmark = [requires_videos, pytest.mark.slow]

ROOM_LEFT = 96 * 1024
"""Bytes left free beside the database: a few batches fit, then the disk is full."""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB file system (tmpfs), mounted for the test; skipped where mounting is not permitted."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("no mount command here: a full disk cannot be staged")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (root needed): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int = ROOM_LEFT) -> Path:
    """Fill ``disk`` with one file until ``leave`` bytes are free; delete it to free the disk."""
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, shutil.disk_usage(disk).free - leave))
    return filler


def stored_frames(url: str) -> int:
    """Frames the database holds, as the writer counts them into their sessions (with their rows)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COALESCE(SUM(frames), 0) FROM class_sessions")).scalar_one()
        rolled = conn.execute(text("SELECT COALESCE(SUM(frames), 0) FROM session_rollups")).scalar_one()
    engine.dispose()
    assert stored == rolled, "sessions and rollups disagree on what was stored"
    return stored


def status_rows(url: str) -> list[dict]:
    done = run_cli("--db", url, "status", "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_backlog_past_its_bound_drops_the_oldest_counts_them_and_status_shows_the_loss(
    small_disk: Path,
) -> None:
    url = migrated_db(small_disk / "monitor.db")
    filler = fill(small_disk)
    worker = CaptureWorker(
        Settings(db_url=url, mode="attention"),
        "room-1",
        str(GROUP),
        max_frames=400,
        loop=True,
        max_pending_frames=40,
    )
    result: list[WorkerSummary] = []
    runner = threading.Thread(target=lambda: result.append(worker.run()), daemon=True)
    runner.start()
    deadline = time.monotonic() + 180
    while not (worker.writer is not None and worker.writer.frames_lost > 0):
        assert runner.is_alive() and time.monotonic() < deadline, "the full disk never cost a frame"
        time.sleep(0.2)
    filler.unlink()  # the disk is freed: what is still waiting gets stored
    runner.join(300)
    assert result, "the worker did not finish"
    summary = result[0]

    assert summary.frames == 400
    assert worker.writer.peak_pending <= 40  # bounded while writes failed
    assert summary.frames_lost > 0
    stored = stored_frames(url)
    assert stored > 0
    assert stored + summary.frames_lost == summary.frames
    assert f"{summary.frames_lost} of 400 processed frames were not stored" in summary.loss()
    assert "disk is full" in summary.loss()

    (row,) = status_rows(url)
    assert row["frames_lost"] == summary.frames_lost
    assert "disk is full" in row["store_error"]
    assert "disk is full" in row["last_error"]


def test_a_worker_whose_disk_stays_full_reports_every_lost_frame_and_exits_non_zero(
    small_disk: Path,
) -> None:
    url = migrated_db(small_disk / "monitor.db")
    filler = fill(small_disk)
    proc = start_cli(
        "--db",
        url,
        "worker",
        "--camera",
        "room-2",
        "--source",
        str(GROUP),
        "--loop",
        "--max-frames",
        "200",
        "--mode",
        "attention",
    )
    out, err = process_output(proc, timeout=300)
    assert proc.returncode != 0, out + err
    assert "Traceback" not in err
    found = re.search(r"(\d+) of 200 processed frames were not stored \((\d+) stored\): (.+)", err)
    assert found, err[-2000:]
    lost, stored = int(found[1]), int(found[2])
    assert lost > 0
    assert "disk is full" in found[3]
    assert "frames NOT STORED" in out
    assert stored_frames(url) == stored
    assert stored + lost == 200

    filler.unlink()
    (row,) = status_rows(url)
    assert "disk is full" in row["last_error"]  # the worker's last word, written while the disk filled
    assert row["frames_lost"] <= lost  # the final count may not fit on a disk that stays full


def test_a_healthy_database_stores_every_frame_however_many_one_interval_brings(tmp_path: Path) -> None:
    """The bound holds only while writes fail: a fast worker whose half-second batch is larger than
    ``max_pending_frames`` lost the excess before (found when region detection made the worker faster)."""
    url = migrated_db(tmp_path / "monitor.db")
    worker = CaptureWorker(
        Settings(db_url=url, mode="attention"),
        "room-1",
        str(GROUP),
        max_frames=120,
        loop=True,
        max_pending_frames=3,  # far fewer than one 0.5 s batch of a worker running flat out
    )
    summary = worker.run()
    assert summary.frames == 120
    assert summary.frames_lost == 0, summary.loss()
    assert stored_frames(url) == 120
