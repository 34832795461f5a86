"""Dashboard benchmark: API server time on a one-hour lesson, the sessions list and a term's trend, and
live-feed latency over a real socket.

Seeds a temporary SQLite database with one running one-hour session of 30 tracks at 2 observations per
second (216,000 observations, 3,600 per-second rollups, 30 track summaries) through the real
ObservationWriter, and a term of ``--lessons`` (default 1,000) ended 45-minute lessons of per-second rollups
(generated in SQL; 2,700 a lesson), 200 of them one class (``Maths 7B · period N``, five a week), then
prints one JSON object:

- ``api``: median and p95 server time (ms, Flask test client, logged in) of the timeline (auto bucket and
  1-second buckets), tracks and one track's timeline endpoints (target: p95 < 100 ms);
- ``session_page``: the requests the session page makes for that lesson: the page itself (with the
  summary), its summary, timeline (auto bucket), markers and tracks (target: each p95 <= 50 ms);
- ``lessons``: the sessions list (first page, 50 lessons, with 1,000 in the database; target p95 <= 100 ms)
  and the trend of the 200-lesson class (``/api/trends?label=``; target p95 <= 100 ms), once their
  figures are kept in ``lesson_stats``, plus the one-off cold request that computes and keeps them;
- each route also gives ``cpu_p95_ms``, the CPU time of the request's thread (SQLite runs in it): on a
  machine whose cores are shared with other work the wall time also counts waiting for a core;
- ``live``: latency (ms) from an observation's commit to its summary arriving at a python-socketio client
  connected to the dashboard served on loopback (target: < 1 s).

Run: ``.venv/bin/python benchmarks/dashboard.py [--repeat 30] [--frames 20] [--lessons 1000]``
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
from monitor.store.schema import Camera, ClassSession, LessonStats, User  # noqa: E402
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


LESSON_S = 45 * 60
TERM_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
CLASS = "Maths 7B"
CLASS_LESSONS = 200

_ROLLUPS_SQL = f"""
WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < {LESSON_S - 1})
INSERT INTO session_rollups (session_id, bucket_start, frames, faces, attention_sum, engagement_sum,
                             heads_up_sum, heads_down_sum, turned_away_sum)
SELECT id, strftime('%Y-%m-%d %H:%M:%S.000000', started_at, '+' || k || ' seconds'), frames, frames * people,
       frames * people * a, frames * e, frames * a, frames * (1 - a) * 0.7, frames * (1 - a) * 0.3
FROM (SELECT cs.id AS id, cs.started_at AS started_at, s.k AS k, 10 AS frames,
             24 + abs(random()) % 7 AS people, 0.4 + (abs(random()) % 500) / 1000.0 AS a,
             0.3 + (abs(random()) % 600) / 1000.0 AS e
      FROM class_sessions cs, s WHERE cs.label != 'Benchmark hour')
"""


def seed_term(url: str, lessons: int) -> None:
    """``lessons`` ended 45-minute lessons on four cameras, ``CLASS_LESSONS`` of them one class on one."""
    engine = make_engine(url, writer=True)
    with session_factory(engine).begin() as db:
        cams = [Camera(name=f"room-{i}") for i in range(1, 5)]
        db.add_all(cams)
        db.flush()
        for i in range(lessons):
            if i < CLASS_LESSONS:  # five a week, Monday to Friday
                cam, label = cams[0], f"{CLASS} · period {i % 5 + 1}"
                start = TERM_START + timedelta(weeks=i // 5, days=i % 5)
            else:
                cam, label = cams[1 + i % 3], f"Class {i % 12} · period {i % 6 + 1}"
                start = TERM_START + timedelta(days=i // 4, hours=1 + i % 4)
            db.add(
                ClassSession(
                    camera_id=cam.id,
                    label=label,
                    started_at=start,
                    ended_at=start + timedelta(seconds=LESSON_S),
                    mode="attention",
                    attention_basis="class_size",
                    class_size=30,
                )
            )
    with engine.begin() as conn:
        conn.exec_driver_sql(_ROLLUPS_SQL)
    engine.dispose()


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


def logged_in(app):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as s:
        token = s["csrf_token"]
    resp = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return client


def time_routes(client, routes: dict[str, str], repeat: int) -> dict:
    out = {}
    for name, path in routes.items():
        resp = client.get(path)  # warm up
        assert resp.status_code == 200, (path, resp.status_code)
        samples, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.thread_time()
            resp = client.get(path)
            samples.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            assert resp.status_code == 200
        # CPU time of the request's thread: what the request costs when other processes share the cores
        out[name] = {**stats(samples), "cpu_p95_ms": stats(cpu)["p95_ms"], "bytes": len(resp.data)}
    return out


def time_api(app, sid: int, repeat: int) -> dict:
    routes = {
        "timeline_auto": f"/api/sessions/{sid}/timeline",
        "timeline_1s": f"/api/sessions/{sid}/timeline?bucket=1",
        "tracks": f"/api/sessions/{sid}/tracks",
        "track_timeline": f"/api/sessions/{sid}/tracks/7/timeline",
    }
    return time_routes(logged_in(app), routes, repeat)


def time_session_page(app, sid: int, repeat: int) -> dict:
    """What the session page of the one-hour lesson loads: the page, then its four API calls."""
    routes = {
        "page_html": f"/sessions/{sid}",
        "summary": f"/api/sessions/{sid}",
        "timeline_auto": f"/api/sessions/{sid}/timeline",
        "markers": f"/api/sessions/{sid}/markers",
        "tracks": f"/api/sessions/{sid}/tracks",
    }
    return time_routes(logged_in(app), routes, repeat)


def time_lessons(app, repeat: int) -> dict:
    """The sessions list and one class's trend: cold (figures computed and kept) once, then warm."""
    client = logged_in(app)
    routes = {"sessions_list": "/sessions", "class_trend": f"/api/trends?label={CLASS}"}
    cold = {}
    for name, path in routes.items():
        with app.extensions["monitor_db"].write() as db:
            db.query(LessonStats).delete()
        t0 = time.perf_counter()
        resp = client.get(path)
        cold[name] = round((time.perf_counter() - t0) * 1000, 1)
        assert resp.status_code == 200, (path, resp.status_code)
    client.get(routes["sessions_list"])  # both pages' lessons kept
    out = time_routes(client, routes, repeat)
    points = len(client.get(routes["class_trend"]).get_json()["points"])
    rows = client.get(routes["sessions_list"]).get_data(as_text=True).count("data-session=")
    return {**out, "cold_first_request_ms": cold, "trend_points": points, "list_rows": rows}


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
    parser.add_argument("--lessons", type=int, default=1000, help="ended lessons in the term")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        t0 = time.perf_counter()
        cam_id, sid, start = seed(url)
        seed_term(url, args.lessons)
        seed_s = time.perf_counter() - t0
        app = create_app({"db_url": url, "secret_key": "benchmark"})
        api = time_api(app, sid, args.repeat)
        page = time_session_page(app, sid, args.repeat)
        lessons = time_lessons(app, args.repeat)
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
            "rollups": SECONDS + args.lessons * LESSON_S,
            "tracks": TRACKS,
            "lessons": args.lessons + 1,
            "class_lessons": CLASS_LESSONS,
            "seed_s": round(seed_s, 1),
        },
        "api": api,
        "session_page": page,
        "lessons": lessons,
        "live": live,
        "targets": {
            "api_p95_ms": 100,
            "session_page_p95_ms": 50,
            "sessions_list_p95_ms": 100,
            "class_trend_p95_ms": 100,
            "live_p95_ms": 1000,
        },
        # the targets: the timeline (default, auto bucket) and tracks routes, and the live feed;
        # 1-second buckets over an hour and one track's timeline are reported for information
        "met": {
            "timeline_auto": api["timeline_auto"]["p95_ms"] < 100,
            "tracks": api["tracks"]["p95_ms"] < 100,
            "session_page": all(v["p95_ms"] <= 50 for v in page.values()),
            "sessions_list": lessons["sessions_list"]["p95_ms"] <= 100,
            "class_trend": lessons["class_trend"]["p95_ms"] <= 100,
            "live": live["p95_ms"] < 1000 and not live["missed"],
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
