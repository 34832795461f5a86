"""Camera sources on the admin page: credentials stored encrypted, never shown back, never sent to a teacher,
an API read or an export; refused without a camera_key; "Test connection" answers within 10 s."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from monitor.store.schema import AuditLog, Camera
from tests.conftest import GROUP, requires_videos
from tests.dashboard.conftest import running_app
from tests.dashboard.helpers import csrf_of, log_in

KEY = "test-camera-key-0123456789"
USER, PASSWORD = "cam-admin-user", "Pa55-w0rd-never-shown"
URL = f"rtsp://{USER}:{PASSWORD}@cam-a.school.lan:554/stream2"


@pytest.fixture
def keyed_app(world):
    with running_app(world, camera_key=KEY) as app:
        yield app


def _client(app, name: str):
    client = app.test_client()
    assert log_in(client, name).status_code == 302
    return client


def _set(client, camera_id: int, source: str, hosts: str = "", **extra):
    form = {"csrf_token": csrf_of(client), "source": source, "hosts": hosts, **extra}
    return client.post(f"/admin/cameras/{camera_id}/source", data=form)


def _everything_a_reader_gets(client, school) -> str:
    """The pages, API reads and exports a teacher or an admin can fetch about the camera and its lesson."""
    sid, cid = school["lesson_a"], school["room_a"]
    paths = [
        "/",
        "/cameras",
        f"/cameras/{cid}/live",
        f"/sessions/{sid}",
        "/api/cameras",
        f"/api/cameras/{cid}",
    ]
    paths += [f"/api/sessions/{sid}", f"/sessions/{sid}/export.csv", f"/sessions/{sid}/export.json"]
    paths += [f"/sessions/{sid}/export.html", "/admin/cameras", "/admin/audit", "/api/settings"]
    return "\n".join(client.get(p).get_data(as_text=True) for p in paths)


def test_credentials_are_stored_encrypted_and_never_shown(school, world, keyed_app) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    assert _set(admin, room, URL, "host-a, host-b").status_code == 302
    page = admin.get("/admin/cameras").get_data(as_text=True)
    assert "source rtsp://cam-a.school.lan:554/stream2 (password set)" in page
    assert 'value="rtsp://cam-a.school.lan:554/stream2"' in page and "Password set" in page
    assert 'value="host-a, host-b"' in page
    # The raw row holds neither the password nor the user name; the openable URL comes back internally.
    with world.engine.connect() as conn:
        raw = " ".join(
            str(v) for v in conn.execute(text("SELECT * FROM cameras WHERE id = :i"), {"i": room}).one()
        )
    assert PASSWORD not in raw and USER not in raw
    from monitor.store.camera_sources import camera_source_url

    with world.Session() as db:
        assert camera_source_url(db, room) == URL
        assert PASSWORD not in " ".join(db.scalars(select(AuditLog.detail)))
    for who in ("admin", "alice"):
        seen = _everything_a_reader_gets(_client(keyed_app, who), school)
        assert PASSWORD not in seen and USER not in seen, who
    # Saving the URL as shown keeps the password; the box removes it.
    assert _set(admin, room, "rtsp://cam-a.school.lan:554/stream2", "host-a").status_code == 302
    with world.Session() as db:
        assert camera_source_url(db, room) == URL
    _set(admin, room, "rtsp://cam-a.school.lan:554/stream2", "host-a", clear_password="1")
    with world.Session() as db:
        assert camera_source_url(db, room) == "rtsp://cam-a.school.lan:554/stream2"


def test_without_a_key_credentials_are_refused_with_a_clear_message(school, world, app) -> None:
    admin = _client(app, "admin")
    room = school["room_a"]
    assert _set(admin, room, URL).status_code == 302
    page = admin.get("/admin/cameras").get_data(as_text=True)
    assert "Source not saved" in page and "CLASSROOM_MONITOR_CAMERA_KEY" in page
    with world.Session() as db:
        assert db.get(Camera, room).configured_source is None
    assert _set(admin, room, "rtsp://cam-a.school.lan/stream2").status_code == 302  # plain: fine
    with world.Session() as db:
        assert db.get(Camera, room).configured_source == "rtsp://cam-a.school.lan/stream2"


def test_bad_sources_and_hosts_answer_a_message_not_a_500(school, world, keyed_app) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    for source, hosts, message in [
        ("ftp://cam/x", "", "unsupported URL scheme"),
        ("clip.mp4", "", "absolute video file path"),
        ("0", "host one/x", "is not a host name"),
    ]:
        assert _set(admin, room, source, hosts).status_code == 302
        page = admin.get("/admin/cameras").get_data(as_text=True)
        assert "Source not saved" in page and message in page, page
    assert _set(admin, 99999, "0").status_code == 404
    teacher = _client(keyed_app, "alice")
    assert _set(teacher, room, "0").status_code in (302, 403)
    with world.Session() as db:
        assert db.get(Camera, room).configured_source is None
    # The add form checks the source before it adds the camera.
    form = {"csrf_token": csrf_of(admin), "action": "add", "name": "Room 9", "source": "nope"}
    admin.post("/admin/cameras", data=form)
    with world.Session() as db:
        assert db.scalar(select(Camera).where(Camera.name == "Room 9")) is None


@requires_videos
def test_connection_test_on_a_file_and_on_a_bad_url(school, world, keyed_app) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    _set(admin, room, str(GROUP))
    admin.post(f"/admin/cameras/{room}/test", data={"csrf_token": csrf_of(admin)})
    page = admin.get("/admin/cameras").get_data(as_text=True)
    assert "reachable, 640x360, 30 fps" in page, page
    assert "(the dashboard&#39;s host; no serve host answered)" in page
    _set(admin, room, f"rtsp://{USER}:{PASSWORD}@127.0.0.1:9/stream")
    started = time.monotonic()
    admin.post(f"/admin/cameras/{room}/test", data={"csrf_token": csrf_of(admin)})
    assert time.monotonic() - started < 12
    page = admin.get("/admin/cameras").get_data(as_text=True)
    assert "not reachable: the source could not be opened" in page, page
    assert PASSWORD not in page and USER not in page
