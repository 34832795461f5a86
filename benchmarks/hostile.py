"""Hostile-load benchmark: the dashboard (``classroom-monitor dashboard``, gunicorn) on loopback while
anonymous clients hold WebSockets open to ``/socket.io/?EIO=4&transport=websocket``.

Seeds a temporary SQLite database with one camera, a running lesson and ``--viewers`` teacher accounts
(one per viewer, as on their own machines), starts the real server with its default 100 threads and prints
one JSON object:

- ``quiet``: ``/login`` latency (ms, a fresh connection each request, as a new visitor) with nothing open;
- ``anonymous``: ``--anonymous`` (default 200) anonymous WebSocket upgrades held open, how the server
  answered them (``101`` upgraded, ``401`` refused, ``timeout``: no answer within 3 s), and ``/login``'s
  p50/p95 meanwhile;
- ``slow_clients``: as many connections that send nothing, or half a request line and one header, held
  open (the classic slow-client attack on a threaded server), and ``/login``'s p50/p95 meanwhile;
- ``anonymous_and_viewers``: the same with ``--viewers`` (default 20) logged-in live viewers (python-socketio
  clients watching the camera while a frame is stored every half second): how many connected, how many
  received a frame while the flood was held, and ``/login``'s p50/p95.

A ``/login`` request that takes over 2 s is abandoned and counted in ``timed_out`` at 2000 ms, so a starved
server reads p95 = 2000. Loopback only; every loop is bounded (about a minute in all, three on a starved
server).

Run: ``.venv/bin/python benchmarks/hostile.py [--anonymous 200] [--viewers 20] [--polls 40]``
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dashboard.auth import hash_password  # noqa: E402
from monitor.store import make_engine, session_factory  # noqa: E402
from monitor.store.migrate import upgrade  # noqa: E402
from monitor.store.schema import Camera, CameraAssignment, ClassSession, User  # noqa: E402
from monitor.store.writer import FrameRecord, ObservationWriter  # noqa: E402

PASSWORD = "hostile benchmark password"
LOGIN_TIMEOUT_S = 2.0
HANDSHAKE_TIMEOUT_S = 3.0
TRACKS = 25


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, viewers: int) -> tuple[int, int, datetime]:
    """A camera, a running lesson with a few stored frames, and ``viewers`` teachers who see the camera."""
    upgrade(url)
    engine = make_engine(url, writer=True)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=10)
    with session_factory(engine).begin() as db:
        cam = Camera(name="room-1", status="online", last_heartbeat=datetime.now(UTC))
        db.add(cam)
        db.flush()
        session = ClassSession(camera_id=cam.id, label="Maths", started_at=start, mode="emotion")
        db.add(session)
        hashed = hash_password(PASSWORD)
        for k in range(viewers):
            user = User(username=f"teacher{k:02d}", password_hash=hashed, is_admin=False)
            db.add(user)
            db.flush()
            db.add(CameraAssignment(user_id=user.id, camera_id=cam.id))
        db.flush()
        cam_id, session_id = cam.id, session.id
    engine.dispose()
    return cam_id, session_id, start


def frame(rng: np.random.Generator, ts: datetime, index: int) -> FrameRecord:
    ids = np.arange(1, TRACKS + 1)
    return FrameRecord(
        ts=ts,
        frame_index=index,
        track_ids=ids,
        boxes=np.column_stack([ids * 20, ids * 10, np.full(TRACKS, 48), np.full(TRACKS, 48)]),
        attention=rng.uniform(0, 1, TRACKS),
        probs=rng.dirichlet(np.ones(7), TRACKS),
        engagement=float(rng.uniform(0.2, 0.9)),
    )


class FrameFeed:
    """Stores a frame of the running lesson every half second (what a worker does), until stopped."""

    def __init__(self, url: str, cam_id: int, session_id: int, start: datetime) -> None:
        self.engine = make_engine(url, writer=True)
        self.writer = ObservationWriter(self.engine, session_id, cam_id, interval_s=3600)
        self.start_ts = start
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = np.random.default_rng(0)
        index = 0
        while not self.stop_event.wait(0.5):
            self.writer.add(frame(rng, self.start_ts + timedelta(seconds=index / 2), index))
            self.writer.flush()
            index += 1

    def __enter__(self) -> FrameFeed:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_event.set()
        self.thread.join(10)
        self.writer.close()
        self.engine.dispose()


def open_websocket(port: int) -> tuple[socket.socket | None, str]:
    """An anonymous WebSocket upgrade of the Socket.IO transport, left open: (socket, how it was answered)."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=HANDSHAKE_TIMEOUT_S)
    except OSError as exc:
        return None, f"connect error: {exc.__class__.__name__}"
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    try:
        sock.sendall(request.encode())
        head = sock.recv(1024)
    except TimeoutError:
        return sock, "timeout"
    except OSError as exc:
        return sock, f"error: {exc.__class__.__name__}"
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return sock, match.group(1).decode() if match else "closed"


def open_flood(port: int, count: int, deadline_s: float = 30.0) -> tuple[list[socket.socket], dict[str, int]]:
    """Open ``count`` anonymous WebSockets from 20 threads; returns the sockets and a count per answer."""
    socks: list[socket.socket] = []
    answers: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + deadline_s
    remaining = iter(range(count))

    def opener() -> None:
        while time.monotonic() < deadline:
            with lock:
                if next(remaining, None) is None:
                    return
            sock, answer = open_websocket(port)
            with lock:
                answers[answer] = answers.get(answer, 0) + 1
                if sock is not None:
                    socks.append(sock)

    threads = [threading.Thread(target=opener, daemon=True) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline_s + HANDSHAKE_TIMEOUT_S + 5)
    return socks, answers


def open_slow_clients(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, every other one sending half a request, the rest nothing; left open."""
    socks = []
    for k in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=HANDSHAKE_TIMEOUT_S)
            if k % 2:
                sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            continue
        socks.append(sock)
    return socks


def poll_login(base: str, polls: int, deadline_s: float = 60.0) -> dict:
    """``/login`` latency over ``polls`` fresh requests (a request past 2 s counts as 2000 ms, timed out)."""
    samples, timed_out, errors = [], 0, 0
    deadline = time.monotonic() + deadline_s
    for _ in range(polls):
        if time.monotonic() > deadline:
            break
        began = time.perf_counter()
        try:
            ok = requests.get(f"{base}/login", timeout=LOGIN_TIMEOUT_S).status_code == 200
            errors += not ok
            samples.append((time.perf_counter() - began) * 1000)
        except requests.Timeout:
            timed_out += 1
            samples.append(LOGIN_TIMEOUT_S * 1000)
        except requests.RequestException:
            errors += 1
            samples.append(LOGIN_TIMEOUT_S * 1000)
        time.sleep(0.05)
    ordered = sorted(samples)
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "timed_out": timed_out,
        "errors": errors,
    }


def log_in_cookie(base: str, username: str) -> str | None:
    """The session cookie of a fresh login, or None when the server did not let the login through."""
    http = requests.Session()
    try:
        page = http.get(f"{base}/login", timeout=5).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = http.post(
            f"{base}/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
    except (requests.RequestException, AttributeError):
        return None
    return http.cookies.get("session") if resp.status_code == 302 else None


class Viewer:
    """A logged-in teacher's live view: a python-socketio client watching the camera, counting frames."""

    def __init__(self, base: str, username: str, cam_id: int) -> None:
        import socketio

        self.frames = 0
        self.connected = False
        self.client = socketio.Client(reconnection=False)
        self.client.on("frame", self._on_frame)
        cookie = log_in_cookie(base, username)
        if cookie is None:
            return
        try:
            self.client.connect(
                base, headers={"Cookie": f"session={cookie}"}, transports=["websocket"], wait_timeout=5
            )
            self.connected = bool(self.client.call("watch", {"camera_id": cam_id}, timeout=5).get("ok"))
        except Exception:  # refused, or no thread left to answer: counted as not connected
            self.connected = False

    def _on_frame(self, _payload: dict) -> None:
        self.frames += 1

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.client.disconnect()


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


def wait_until_serving(base: str, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the dashboard exited with {proc.returncode}")
        try:
            if requests.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{base}/login did not answer within {timeout_s:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--anonymous", type=int, default=200, help="anonymous WebSockets to hold open")
    parser.add_argument("--viewers", type=int, default=20, help="logged-in live viewers")
    parser.add_argument("--polls", type=int, default=40, help="/login requests per scenario")
    args = parser.parse_args()
    if not (1 <= args.anonymous <= 2000 and 0 <= args.viewers <= 200 and 1 <= args.polls <= 1000):
        parser.error("--anonymous 1..2000, --viewers 0..200, --polls 1..1000")

    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    url = f"sqlite:///{tmp / 'monitor.db'}"
    cam_id, session_id, start = seed(url, args.viewers)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLASSROOM_MONITOR_")}
    with open(tmp / "server.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--db", url, "dashboard", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    result: dict = {"server": "classroom-monitor dashboard (gunicorn, 100 threads)", "cpus": os.cpu_count()}
    try:
        wait_until_serving(base, proc)
        result["quiet"] = {"login": poll_login(base, args.polls)}

        socks, answers = open_flood(port, args.anonymous)
        result["anonymous"] = {
            "sockets": args.anonymous,
            "answers": answers,
            "login": poll_login(base, args.polls),
        }
        close_all(socks)
        wait_until_serving(base, proc)

        socks = open_slow_clients(port, args.anonymous)
        result["slow_clients"] = {"connections": len(socks), "login": poll_login(base, args.polls)}
        close_all(socks)
        wait_until_serving(base, proc)

        with FrameFeed(url, cam_id, session_id, start):
            viewers = [Viewer(base, f"teacher{k:02d}", cam_id) for k in range(args.viewers)]
            socks, answers = open_flood(port, args.anonymous)
            before = [v.frames for v in viewers]
            login = poll_login(base, args.polls)
            fed = sum(v.frames > b for v, b in zip(viewers, before, strict=True))
            result["anonymous_and_viewers"] = {
                "sockets": args.anonymous,
                "answers": answers,
                "viewers": args.viewers,
                "viewers_connected": sum(v.connected for v in viewers),
                "viewers_fed_during_flood": fed,
                "login": login,
            }
            close_all(socks)
            for v in viewers:
                v.close()
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
