"""Dashboard benchmark: API server time on a one-hour lesson and live-feed latency over a real socket.

Seeds a temporary SQLite database with one running one-hour session of 30 tracks at 2 observations per
second (216,000 observations, 3,600 per-second rollups, 30 track summaries) through the real
ObservationWriter, then prints one JSON object:

- ``api``: median and p95 server time (ms, Flask test client, logged in) of the timeline (auto bucket and
  1-second buckets), tracks and one track's timeline endpoints (target: p95 < 100 ms);
- ``live``: latency (ms) from an observation's commit to its summary arriving at a python-socketio client
  connected to the dashboard served on loopback (target: < 1 s).

Run: ``.venv/bin/python benchmarks/dashboard.py [--repeat 30] [--frames 20]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dashboard import create_app  # noqa: E402
from dashboard.auth import hash_password  # noqa: E402
from monitor.store import make_engine, session_factory  # noqa: E402
from monitor.store.migrate import upgrade  # noqa: E402
from monitor.store.schema import Camera, ClassSession, User  # noqa: E402
from monitor.store.writer import FrameRecord, ObservationWriter  # noqa: E402

TRACKS = 30
FPS = 2
SECONDS = 3600
PASSWORD = "benchmark password"


def frame(rng: np.random.Generator, ts: datetime, index: int, tracks: int = TRACKS) -> FrameRecord:
    ids = np.arange(1, tracks + 1)
    return FrameRecord(
        ts=ts,
        frame_index=index,
        track_ids=ids,
        boxes=np.column_stack([ids * 20, ids * 10, np.full(tracks, 48), np.full(tracks, 48)]),
        attention=rng.uniform(0, 1, tracks),
        probs=rng.dirichlet(np.ones(7), tracks),
        engagement=float(rng.uniform(0.2, 0.9)),
    )


def seed(url: str) -> tuple[int, int, datetime]:
    """One camera, an admin, and a running session whose first hour is stored."""
    engine = make_engine(url, writer=True)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=SECONDS + 5)
    with session_factory(engine).begin() as db:
        cam = Camera(name="bench-room", status="online", last_heartbeat=datetime.now(UTC))
        db.add(cam)
        db.add(User(username="bench", password_hash=hash_password(PASSWORD), is_admin=True))
        db.flush()
        cs = ClassSession(camera_id=cam.id, label="Benchmark hour", started_at=start, mode="emotion")
        db.add(cs)
        db.flush()
        cam_id, sid = cam.id, cs.id
    rng = np.random.default_rng(0)
    writer = ObservationWriter(engine, sid, cam_id, interval_s=3600)
    for i in range(SECONDS * FPS):
        writer.add(frame(rng, start + timedelta(seconds=i / FPS), i))
        if i % 1200 == 1199:
            writer.flush()
    writer.close()
    engine.dispose()
    return cam_id, sid, start


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


def time_api(app, sid: int, repeat: int) -> dict:
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as s:
        token = s["csrf_token"]
    resp = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    routes = {
        "timeline_auto": f"/api/sessions/{sid}/timeline",
        "timeline_1s": f"/api/sessions/{sid}/timeline?bucket=1",
        "tracks": f"/api/sessions/{sid}/tracks",
        "track_timeline": f"/api/sessions/{sid}/tracks/7/timeline",
    }
    out = {}
    for name, path in routes.items():
        resp = client.get(path)  # warm up
        assert resp.status_code == 200, (path, resp.status_code)
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            resp = client.get(path)
            samples.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200
        out[name] = {**stats(samples), "bytes": len(resp.data)}
    return out


def time_live(app, cam_id: int, sid: int, start: datetime, n_frames: int) -> dict:
    import requests
    import socketio
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login").text).group(1)
    http.post(
        f"{base}/login",
        allow_redirects=False,
        data={"username": "bench", "password": PASSWORD, "csrf_token": token},
    )
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())

    received: dict[int, float] = {}
    arrived = threading.Condition()
    sio = socketio.Client()

    @sio.on("frame")
    def _on_frame(payload: dict) -> None:
        with arrived:
            received[payload["frame_index"]] = time.perf_counter()
            arrived.notify_all()

    sio.connect(base, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
    ack = sio.call("watch", {"camera_id": cam_id}, timeout=10)
    assert ack["ok"], ack
    time.sleep(1.0)  # the poller's first emission (the newest seeded frame) passes

    engine = make_engine(app.extensions["monitor_db"].url, writer=True)
    writer = ObservationWriter(engine, sid, cam_id, interval_s=3600)
    rng = np.random.default_rng(1)
    latencies, missed = [], 0
    first = SECONDS * FPS
    for k in range(n_frames):
        index = first + k
        writer.add(frame(rng, start + timedelta(seconds=index / FPS), index))
        writer.flush()
        stored = time.perf_counter()  # committed: from here the dashboard can see it
        with arrived:
            arrived.wait_for(lambda index=index: index in received, timeout=3.0)
        if index in received:
            latencies.append((received[index] - stored) * 1000)
        else:
            missed += 1
        time.sleep(0.25 + 0.1 * rng.uniform())  # land at varied points of the poll interval
    writer.close()
    sio.disconnect()
    srv.shutdown()
    engine.dispose()
    return {**stats(latencies), "missed": missed, "transport": "websocket", "poll_interval_s": 0.3}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="requests per API route")
    parser.add_argument("--frames", type=int, default=20, help="live frames to time")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        t0 = time.perf_counter()
        cam_id, sid, start = seed(url)
        seed_s = time.perf_counter() - t0
        app = create_app({"db_url": url, "secret_key": "benchmark"})
        api = time_api(app, sid, args.repeat)
        live = time_live(app, cam_id, sid, start, args.frames)
        app.extensions["live_poller"].stop()
        app.extensions["monitor_db"].dispose()
    result = {
        "benchmark": "dashboard",
        "database": "sqlite (WAL, temp file)",
        "cpus": os.cpu_count(),
        "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "seeded": {
            "observations": SECONDS * FPS * TRACKS,
            "rollups": SECONDS,
            "tracks": TRACKS,
            "seed_s": round(seed_s, 1),
        },
        "api": api,
        "live": live,
        "targets": {"api_p95_ms": 100, "live_p95_ms": 1000},
        # the targets: the timeline (default, auto bucket) and tracks routes, and the live feed;
        # 1-second buckets over an hour and one track's timeline are reported for information
        "met": {
            "timeline_auto": api["timeline_auto"]["p95_ms"] < 100,
            "tracks": api["tracks"]["p95_ms"] < 100,
            "live": live["p95_ms"] < 1000 and not live["missed"],
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
