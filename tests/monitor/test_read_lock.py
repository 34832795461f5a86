"""The worker's polls only read: they never wait behind another process's write lock.

Another connection holds SQLite's write lock (``BEGIN IMMEDIATE``, left open, as a busy writer does); the real
worker's site-settings poll and model-registry poll must answer at once from the last committed state instead
of queueing for the lock until the busy timeout.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

import monitor.store.db as store_db
from monitor.config import Settings
from monitor.worker import CaptureWorker
from tests.conftest import TALKING_HEAD, requires_videos

pytestmark = requires_videos
BUSY_TIMEOUT_S = 4.0
"""Short, so that the old code (which queues for the lock) fails this test in seconds, not in 30."""


@contextmanager
def write_lock_held(db_url: str) -> Iterator[None]:
    """Another real connection holds the write lock until the block ends."""
    other = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE settings SET value = value WHERE 0")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def worker(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CaptureWorker]:
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_S", BUSY_TIMEOUT_S)
    capture_worker = CaptureWorker(Settings(db_url=db_url, mode="emotion"), "room-7", str(TALKING_HEAD))
    yield capture_worker
    capture_worker.engine.dispose()


def timed(call) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_site_settings_poll_does_not_wait_for_a_held_write_lock(worker: CaptureWorker, db_url: str) -> None:
    with write_lock_held(db_url):
        switch, seconds = timed(lambda: worker.policy.poll(time.monotonic() + 3600))
    assert switch is None  # the site still says what it said: no switch
    assert seconds < 1.0, f"the settings poll waited {seconds:.1f} s on the write lock"


def test_model_registry_poll_does_not_wait_for_a_held_write_lock(worker: CaptureWorker, db_url: str) -> None:
    assert worker.classifier is not None
    with write_lock_held(db_url):
        newer, seconds = timed(lambda: worker.models.changed(worker.classifier, time.monotonic() + 3600))
    assert newer is None  # the active model has not changed
    assert seconds < 1.0, f"the model poll waited {seconds:.1f} s on the write lock"


def test_the_writer_still_takes_the_write_lock_up_front(worker: CaptureWorker, db_url: str) -> None:
    """Only reads were moved off BEGIN IMMEDIATE: a write transaction still queues for the lock."""
    with write_lock_held(db_url), worker.engine.connect() as conn:
        started = time.monotonic()
        with pytest.raises(Exception, match="locked"):
            conn.exec_driver_sql("SELECT 1").all()
        assert time.monotonic() - started >= BUSY_TIMEOUT_S * 0.9
