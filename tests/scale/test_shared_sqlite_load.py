"""Four camera workers and a dashboard on one SQLite file for minutes: no lock errors, no lost batch.

The workers play the real clips in a loop at the clips' own frame rate, as cameras would deliver them.
"""

from __future__ import annotations

import os
import re
import signal
import time

import requests
from sqlalchemy import create_engine, text

from tests.conftest import GROUP, TALKING_HEAD, add_user, cli_env, process_output, requires_videos, start_cli
from tests.scale.test_redis_live_processes import logged_in_cookie, wait_http
from tests.support.mjpeg_server import free_port

SECONDS = float(os.environ.get("CM_LOAD_SECONDS", "120"))


@requires_videos
def test_four_workers_and_a_dashboard_share_one_sqlite_file(db_url: str, tmp_path) -> None:
    env = cli_env()
    add_user(db_url, "ops", "load-test-pass", admin=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dashboard = start_cli("--db", db_url, "dashboard", "--port", str(port), env=env, logs=tmp_path / "logs")
    workers = [
        start_cli(
            "--db",
            db_url,
            "worker",
            "--camera",
            f"room-{i}",
            "--source",
            str(GROUP if i % 2 else TALKING_HEAD),
            "--loop",
            "--realtime",  # cameras deliver frames at their own rate
            env=env,
            logs=tmp_path / "logs",
        )
        for i in range(4)
    ]
    statuses: list[int] = []
    try:
        wait_http(f"{base}/login")
        http = requests.Session()
        http.headers["Cookie"] = logged_in_cookie(base, "ops", "load-test-pass")
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            statuses.append(http.get(f"{base}/api/cameras", timeout=30).status_code)
            for s in http.get(f"{base}/api/sessions", timeout=30).json()["sessions"]:
                statuses.append(http.get(f"{base}/api/sessions/{s['id']}/timeline", timeout=30).status_code)
            time.sleep(0.5)
        assert all(p.poll() is None for p in workers), "no worker may die under load"
    finally:
        for p in workers:
            p.send_signal(signal.SIGTERM)
        results = [process_output(p) for p in workers]
        dashboard.send_signal(signal.SIGTERM)
        _, dash_err = process_output(dashboard, timeout=30)
    assert statuses and set(statuses) == {200}
    assert "locked" not in dash_err
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text("SELECT c.name, s.frames FROM class_sessions s JOIN cameras c ON c.id = s.camera_id")
            ).all()
        )
        rolled = dict(
            conn.execute(
                text(
                    "SELECT c.name, SUM(r.frames) FROM session_rollups r "
                    "JOIN class_sessions s ON s.id = r.session_id "
                    "JOIN cameras c ON c.id = s.camera_id GROUP BY c.name"
                )
            ).all()
        )
    engine.dispose()
    for i, (p, (out, err)) in enumerate(zip(workers, results, strict=True)):
        assert p.returncode == 0, err
        assert "locked" not in err and "not written yet" not in err
        processed = int(re.search(r"(\d+) frames", out).group(1))
        assert processed > 0
        assert stored[f"room-{i}"] == rolled[f"room-{i}"] == processed, "frames processed = frames stored"
