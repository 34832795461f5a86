"""``serve`` shares the host's cores among its workers: each worker's compute libraries get cores ÷ cameras
threads (``OMP_NUM_THREADS``, which an admin may set instead), and the worker gives OpenCV the same number."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from monitor.compute_threads import apply_thread_limit, thread_env, thread_limit, threads_per_worker
from tests.conftest import GROUP, TALKING_HEAD, cli_env, requires_videos, start_cli
from tests.monitor.test_serve import running, school_config, stop, wait_for


@pytest.mark.parametrize(
    ("workers", "cores", "threads"), [(12, 2, 1), (2, 2, 1), (1, 2, 2), (3, 16, 5), (0, 4, 4), (40, 8, 1)]
)
def test_the_cores_are_shared_among_the_workers(workers: int, cores: int, threads: int) -> None:
    assert threads_per_worker(workers, cores) == threads


def test_an_admins_own_setting_wins_and_a_bad_one_is_ignored() -> None:
    assert thread_env(8, {"OMP_NUM_THREADS": "3"}) == {}
    assert thread_env(1, {}) == {"OMP_NUM_THREADS": str(threads_per_worker(1))}
    assert thread_limit({"OMP_NUM_THREADS": "2"}) == 2
    assert thread_limit({"OMP_NUM_THREADS": "0"}) is None and thread_limit({"OMP_NUM_THREADS": "x"}) is None
    assert thread_limit({}) is None


def test_the_worker_gives_opencv_the_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cv2.getNumThreads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert apply_thread_limit() == 1 and cv2.getNumThreads() == 1
        monkeypatch.delenv("OMP_NUM_THREADS")
        cv2.setNumThreads(before)
        assert apply_thread_limit() is None and cv2.getNumThreads() == before
    finally:
        cv2.setNumThreads(before)


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@requires_videos
@pytest.mark.slow
def test_serve_starts_each_worker_with_its_share_of_the_cores(db_url: str, tmp_path: Path) -> None:
    config = school_config(tmp_path, {"room-1": GROUP, "room-2": TALKING_HEAD})
    env = {k: v for k, v in cli_env().items() if k != "OMP_NUM_THREADS"}
    serve = start_cli("--db", db_url, "serve", "--config", str(config), env=env, logs=tmp_path / "out")
    try:
        pids = [
            wait_for(f"{name} running", lambda n=name: running(db_url, n)).pid
            for name in ("room-1", "room-2")
        ]
        for pid in pids:
            assert environ_of(pid)["OMP_NUM_THREADS"] == str(threads_per_worker(2))
    finally:
        stop(serve)
