"""A flood of sockets against the real gunicorn server on loopback: anonymous live-feed ones are refused
before the WebSocket upgrade, an account holds only a few, connections that never finish their request
hold no thread, and pages keep answering whatever is open."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
import socketio

from monitor.live import LIVE_EVENT
from tests.conftest import cli_env, start_cli
from tests.dashboard.helpers import PASSWORD, write_frames
from tests.support.http import log_in, wait_http
from tests.support.mjpeg_server import free_port

UPGRADE_PATH = "/socket.io/?EIO=4&transport=websocket"


def open_websocket(port: int, cookie: str | None = None, timeout: float = 5) -> tuple[socket.socket, int]:
    """Send a WebSocket upgrade request for the Socket.IO transport; returns (the open socket, HTTP status).

    The socket is left open, as an attacker holding it would."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {UPGRADE_PATH} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if cookie is not None:
        lines.append(f"Cookie: session={cookie}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(1024)
        if not chunk:
            break
        head += chunk
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return sock, status


def timed_login_page(base: str) -> float:
    """Seconds /login took to answer 200 (fails past 2 s: a starved server never answers)."""
    began = time.monotonic()
    resp = requests.get(f"{base}/login", timeout=2)
    assert resp.status_code == 200
    return time.monotonic() - began


@pytest.fixture
def dashboard_on_loopback(world, tmp_path) -> Iterator:
    """``start(*flags, **env)`` → (base URL, port) of ``classroom-monitor dashboard`` (gunicorn)."""
    procs = []

    def start(*flags: str, **env: str) -> tuple[str, int]:
        port = free_port()
        proc = start_cli(
            "--db", world.url, "dashboard", "--port", str(port), *flags, env=cli_env(**env), logs=tmp_path
        )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/login", proc)
        return base, port

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def held() -> Iterator[list[socket.socket]]:
    """Sockets a test opened; closed at its end."""
    socks: list[socket.socket] = []
    yield socks
    for sock in socks:
        sock.close()


def test_a_hundred_anonymous_websockets_are_refused_and_logins_and_live_viewers_carry_on(
    world, dashboard_on_loopback, held
):
    room = world.camera("room-a")
    start = datetime.now(UTC) - timedelta(seconds=30)
    lesson = world.lesson(room, "Maths", start=start, seconds=5, running=True)
    world.user("teach", cameras=(room,))
    base, port = dashboard_on_loopback()  # gunicorn's default 100 threads

    deadline = time.monotonic() + 60
    statuses = []
    for _ in range(100):
        assert time.monotonic() < deadline, "opening the flood took over a minute"
        sock, status = open_websocket(port)
        held.append(sock)
        statuses.append(status)
    # With the sockets still held, the login page answers, and at once.
    assert max(timed_login_page(base) for _ in range(5)) < 2
    assert set(statuses) == {401}, f"anonymous upgrades answered {sorted(set(statuses))}"

    # A logged-in teacher still gets the live feed, over a WebSocket or (the page's fallback) long-polling.
    cookie = f"session={log_in(base, 'teach', PASSWORD).cookies.get('session')}"
    clients = {"websocket": socketio.Client(), "polling": socketio.Client()}
    frames: dict[str, list[dict]] = {name: [] for name in clients}
    for transport, client in clients.items():
        client.on(LIVE_EVENT, frames[transport].append)
        client.connect(base, headers={"Cookie": cookie}, transports=[transport], wait_timeout=10)
    try:
        for client in clients.values():
            assert client.call("watch", {"camera_id": room}, timeout=10) == {"ok": True, "camera_id": room}
        write_frames(world.engine, lesson, room, start + timedelta(seconds=5), 1.0, first_frame=10)
        until = time.monotonic() + 10
        while time.monotonic() < until and not all(
            any(f["frame_index"] >= 10 for f in got) for got in frames.values()
        ):
            time.sleep(0.1)
        for transport, got in frames.items():
            assert any(f["frame_index"] >= 10 for f in got), f"no live frame reached the {transport} viewer"
    finally:
        for client in clients.values():
            client.disconnect()


def test_an_account_holds_only_its_share_of_sockets_and_pages_keep_their_threads(
    world, dashboard_on_loopback, held
):
    for name in ("ann", "ben", "cat"):
        world.user(name)
    # 10 threads: live sockets get 6 of them (dashboard.live.live_slots), each account 3.
    base, port = dashboard_on_loopback("--threads", "10", CLASSROOM_MONITOR_LIVE_CONNECTIONS_PER_USER="3")
    cookies = {name: log_in(base, name, PASSWORD).cookies.get("session") for name in ("ann", "ben", "cat")}

    def open_as(name: str) -> int:
        sock, status = open_websocket(port, cookies[name])
        held.append(sock)
        return status

    assert [open_as("ann") for _ in range(4)] == [101, 101, 101, 429]
    assert [open_as("ben") for _ in range(3)] == [101, 101, 101]
    assert open_as("cat") == 503  # all six live slots are taken
    assert max(timed_login_page(base) for _ in range(5)) < 2  # the four threads kept for pages answer

    # A socket that closes gives its place back.
    held.pop(0).close()
    until = time.monotonic() + 10
    while (status := open_as("ann")) != 101 and time.monotonic() < until:
        time.sleep(0.2)
    assert status == 101


def test_connections_that_send_nothing_or_half_a_request_do_not_take_the_threads(dashboard_on_loopback, held):
    base, port = dashboard_on_loopback("--threads", "10")
    for k in range(60):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if k % 2:  # a slow client: the request line and one header, and then nothing more
            sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        held.append(sock)
    time.sleep(0.5)
    assert max(timed_login_page(base) for _ in range(5)) < 2

    # Headers still unfinished after the deadline: the server closes the connection.
    from dashboard.server import HEADERS_DEADLINE_S

    slow = held[1]
    slow.settimeout(HEADERS_DEADLINE_S + 5)
    with contextlib.suppress(ConnectionResetError):
        assert slow.recv(1024) == b""


def test_an_unusable_per_account_limit_is_one_clear_line(world):
    from tests.conftest import run_cli

    proc = run_cli(
        "--db",
        world.url,
        "dashboard",
        env=cli_env(CLASSROOM_MONITOR_LIVE_CONNECTIONS_PER_USER="0"),
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: live_connections_per_user must be 1 to 1000, not 0"
    )
