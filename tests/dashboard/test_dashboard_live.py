"""The live feed over Socket.IO: login required, access-checked rooms, privacy applied to every frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.live import LIVE_EVENT
from tests.dashboard.helpers import write_frames


@pytest.fixture
def running(world):
    cam = world.camera("lab")
    other = world.camera("gym")
    start = datetime.now(UTC) - timedelta(seconds=30)
    sid = world.lesson(cam, "Science", start=start, seconds=10, running=True)
    world.user("sam", cameras=(cam,))
    return {"camera": cam, "other": other, "session": sid, "start": start}


def socket_for(app, client):
    return app.extensions["socketio"].test_client(app, flask_test_client=client)


def frames_received(sio) -> list[dict]:
    return [m["args"][0] for m in sio.get_received() if m["name"] == LIVE_EVENT]


def test_connection_without_login_is_refused(app, running):
    sio = socket_for(app, app.test_client())
    assert not sio.is_connected()


def test_watch_checks_access(app, running, login):
    sio = socket_for(app, login("sam"))
    assert sio.is_connected()
    assert sio.emit("watch", {"camera_id": running["other"]}, callback=True)["ok"] is False
    assert sio.emit("watch", {"camera_id": "1; drop"}, callback=True)["ok"] is False
    assert sio.emit("watch", None, callback=True)["ok"] is False
    assert sio.emit("watch", {"camera_id": running["camera"]}, callback=True) == {
        "ok": True,
        "camera_id": running["camera"],
    }


def test_new_frames_reach_watchers_of_that_camera_only(app, world, running, login):
    poller = app.extensions["live_poller"]
    poller.stop()  # drive the poller by hand
    watcher = socket_for(app, login("sam"))
    assert watcher.emit("watch", {"camera_id": running["camera"]}, callback=True)["ok"]
    bystander = socket_for(app, login("sam"))  # connected, watching nothing
    first = poller.poll_once()
    assert [f["frame_index"] for f in first] == [19]
    assert poller.poll_once() == []  # nothing new: nothing sent
    write_frames(
        world.engine,
        running["session"],
        running["camera"],
        running["start"] + timedelta(seconds=10),
        1,
        first_frame=20,
    )
    poller.poll_once()
    got = frames_received(watcher)
    assert [f["frame_index"] for f in got] == [19, 21]
    frame = got[-1]
    assert frame["camera_id"] == running["camera"] and frame["faces"] == 3
    assert {t["track_id"] for t in frame["tracks"]} == {1, 2, 3}
    assert abs(sum(frame["distribution"].values()) - 1) < 0.01 and 0 <= frame["engagement"] <= 1
    assert frames_received(bystander) == []


def test_privacy_settings_apply_to_live_frames(app, world, running, login):
    world.setting("mode", "attention")
    world.setting("class_only", True)
    poller = app.extensions["live_poller"]
    poller.stop()
    sio = socket_for(app, login("sam"))
    sio.emit("watch", {"camera_id": running["camera"]}, callback=True)
    poller.poll_once()
    (frame,) = frames_received(sio)
    assert frame["distribution"] is None and frame["tracks"] == [] and frame["faces"] == 3
    assert "emotions" not in str(frame) and "probs" not in str(frame)


def test_background_poller_pushes_within_a_second(app, world, running, login):
    import time

    sio = socket_for(app, login("sam"))
    sio.emit("watch", {"camera_id": running["camera"]}, callback=True)  # starts the poller
    time.sleep(0.5)
    sio.get_received()
    write_frames(
        world.engine,
        running["session"],
        running["camera"],
        running["start"] + timedelta(seconds=10),
        0.5,
        first_frame=20,
    )
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        if any(f["frame_index"] == 20 for f in frames_received(sio)):
            break
        time.sleep(0.05)
    else:
        pytest.fail("no live frame within a second of storing it")


def test_a_teacher_unassigned_while_watching_stops_receiving_frames(app, world, running, login):
    import time

    from dashboard.live import REVOKED_EVENT
    from tests.dashboard.helpers import csrf_of

    poller = app.extensions["live_poller"]
    poller.stop()
    world.user("root", admin=True)
    teacher = socket_for(app, login("sam"))
    assert teacher.emit("watch", {"camera_id": running["camera"]}, callback=True)["ok"]
    admin_client = login("root")
    admin = socket_for(app, admin_client)
    assert admin.emit("watch", {"camera_id": running["camera"]}, callback=True)["ok"]
    poller.poll_once()
    assert len(frames_received(teacher)) == 1 and len(frames_received(admin)) == 1

    sam = next(u["id"] for u in admin_client.get("/api/users").get_json()["users"] if u["username"] == "sam")
    resp = admin_client.delete(
        f"/api/users/{sam}/cameras/{running['camera']}", headers={"X-CSRFToken": csrf_of(admin_client)}
    )
    assert resp.status_code == 200 and resp.get_json()["changed"] is True
    deadline = time.monotonic() + 2 * app.config["ACCESS_RECHECK_S"] + 2  # the guard runs by itself
    revoked = []
    while not revoked and time.monotonic() < deadline:
        revoked = [m for m in teacher.get_received() if m["name"] == REVOKED_EVENT]
        time.sleep(0.1)
    assert revoked and revoked[0]["args"][0] == {"camera_id": running["camera"]}

    later = running["start"] + timedelta(seconds=10)
    write_frames(world.engine, running["session"], running["camera"], later, 1, first_frame=20)
    poller.poll_once()
    assert frames_received(teacher) == []  # unassigned: no more frames of that class
    assert [f["frame_index"] for f in frames_received(admin)] == [21]  # admins still see every camera
    assert app.extensions["watch_guard"].check_once() == []


def test_frames_published_by_a_worker_through_redis_reach_watchers(world, running, redis_server):
    import re
    import threading
    import time

    import requests
    import socketio
    from werkzeug.serving import make_server

    from dashboard import create_app
    from monitor.live import LivePublisher, frame_summary
    from tests.dashboard.helpers import PASSWORD

    redis_url = redis_server.url
    app = create_app({"db_url": world.url, "secret_key": "k", "redis_url": redis_url})
    assert app.extensions["live_poller"] is None  # Redis carries the feed; no polling
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login").text).group(1)
    http.post(f"{base}/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token})
    got: list[dict] = []
    client = socketio.Client()
    client.on(LIVE_EVENT, got.append)
    try:
        client.connect(
            base,
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in http.cookies.items())},
            transports=["websocket"],
            wait_timeout=10,
        )
        assert client.call("watch", {"camera_id": running["camera"]}, timeout=10)["ok"]
        summary = frame_summary(
            camera_id=running["camera"],
            session_id=running["session"],
            ts=datetime.now(UTC),
            frame_index=1000,
            tracks=[{"track_id": 4, "box": (1, 2, 3, 4), "attention": 0.8, "probs": [0, 0, 0, 1, 0, 0, 0]}],
            engagement=0.7,
            mode="emotion",
        )
        publisher = LivePublisher(redis_url)
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            publisher.publish(summary)  # the dashboard subscribes in the background: repeat until it listens
            time.sleep(0.2)
        assert got and got[0]["frame_index"] == 1000 and got[0]["tracks"][0]["label"] == "happy"
    finally:
        client.disconnect()
        srv.shutdown()
        app.extensions["monitor_db"].dispose()


def test_a_socket_watching_when_its_login_ends_stops_receiving_frames(app, world, running, login):
    from dashboard.live import REVOKED_EVENT
    from tests.dashboard.helpers import csrf_of

    app.extensions["live_poller"].stop()
    client = login("sam")
    sock = socket_for(app, client)
    assert sock.emit("watch", {"camera_id": running["camera"]}, callback=True)["ok"]
    assert app.extensions["watch_guard"].check_once() == []  # logged in: nothing to revoke

    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 302
    app.extensions["watch_guard"].check_once()  # (or the guard's own thread, if it ran first)
    assert [m["args"][0] for m in sock.get_received() if m["name"] == REVOKED_EVENT] == [
        {"camera_id": running["camera"]}
    ]
    later = running["start"] + timedelta(seconds=10)
    write_frames(world.engine, running["session"], running["camera"], later, 1, first_frame=20)
    app.extensions["live_poller"].poll_once()
    assert frames_received(sock) == []


def test_live_frames_carry_the_heads_up_ratio_even_in_class_only_mode(app, world, running, login):
    from sqlalchemy import text

    with world.Session.begin() as db:
        db.execute(
            text("UPDATE class_sessions SET attention_basis = 'class_size', class_size = 26 WHERE id = :s"),
            {"s": running["session"]},
        )
        # each frame: face 1 up, face 2 not readable, the others down
        db.execute(
            text(
                "UPDATE observations SET posture = CASE track_id WHEN 1 THEN 'up' WHEN 2 THEN 'unknown' "
                "ELSE 'down' END WHERE session_id = :s"
            ),
            {"s": running["session"]},
        )
    world.setting("class_only", True)
    poller = app.extensions["live_poller"]
    poller.stop()
    sio = socket_for(app, login("sam"))
    sio.emit("watch", {"camera_id": running["camera"]}, callback=True)
    poller.poll_once()
    (frame,) = frames_received(sio)
    faces = frame["faces"]
    assert faces >= 3 and frame["tracks"] == []  # class-only: no face leaves, the class figure does
    # the share of the READABLE heads (the unknown one left out), with its base
    assert frame["heads_up"] == round(1 / (faces - 1), 4)
    assert frame["heads"] == {
        "up": 1, "down": faces - 2, "away": 0, "unknown": 1, "readable": faces - 1,
        "text": f"1 of {faces - 1} readable heads up; 1 not readable",
    }  # fmt: skip
