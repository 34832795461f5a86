"""Across processes: a worker emits through Redis, a separate dashboard process delivers to a client."""

from __future__ import annotations

import signal
import threading
import time

import socketio

from tests.conftest import GROUP, add_user, cli_env, process_output, requires_videos, start_cli
from tests.support.http import log_in, wait_http
from tests.support.mjpeg_server import free_port


def logged_in_cookie(base: str, user: str, password: str) -> str:
    http = log_in(base, user, password)
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


@requires_videos
def test_worker_frames_cross_redis_to_a_separate_dashboard_process(
    db_url: str, redis_server, tmp_path
) -> None:
    env = cli_env(CLASSROOM_MONITOR_REDIS_URL=redis_server.url)
    add_user(db_url, "head", "s3cret-pass", admin=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dashboard = start_cli("--db", db_url, "dashboard", "--port", str(port), env=env, logs=tmp_path / "logs")
    worker = start_cli(
        "--db",
        db_url,
        "worker",
        "--camera",
        "room-9",
        "--source",
        str(GROUP),
        "--loop",
        "--sample-fps",
        "0",
        env=env,
        logs=tmp_path / "logs",
    )
    frames: list[dict] = []
    got = threading.Event()
    client = socketio.Client()

    @client.on("frame")
    def on_frame(data: dict) -> None:
        frames.append(data)
        if len(frames) >= 20:
            got.set()

    try:
        wait_http(f"{base}/login")
        client.connect(
            base,
            headers={"Cookie": logged_in_cookie(base, "head", "s3cret-pass")},
            transports=["websocket"],
            wait_timeout=10,
        )
        deadline = time.monotonic() + 60
        ack = None
        while time.monotonic() < deadline:  # the camera row appears when the worker starts
            ack = client.call("watch", {"camera_id": 1}, timeout=5)
            if ack.get("ok"):
                break
            time.sleep(0.5)
        assert ack and ack["ok"], ack
        assert got.wait(60), f"only {len(frames)} frames arrived"
    finally:
        client.disconnect()
        for proc in (worker, dashboard):
            proc.send_signal(signal.SIGTERM)
        outs = [process_output(p, timeout=30) for p in (worker, dashboard)]
    assert worker.returncode == 0, outs[0][1]
    assert {f["camera_id"] for f in frames} == {1}
    assert sum(2 <= f["faces"] <= 4 for f in frames) >= 0.8 * len(frames)
    indices = [f["frame_index"] for f in frames]
    assert len(set(indices)) == len(indices), "each frame is delivered once"
