"""Camera set-up with a picture (issue 24): the admin asks for one frame of the camera's source, sees the
people the real detector finds and the posture of each, draws areas on it and saves them; the picture is
never stored (the browser and worker test: test_setup_picture_browser.py)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cameras import roi_from_json
from monitor.store.camera_sources import set_camera_source
from monitor.store.schema import AuditLog, Camera
from tests.conftest import VIDEOS
from tests.dashboard.helpers import csrf_of

CLASSROOM = VIDEOS / "classroom_front_720p.mp4"
requires_classroom = pytest.mark.skipif(not CLASSROOM.is_file(), reason=f"clip not found: {CLASSROOM}")


def _set_source(world, camera_id: int, source: str | None) -> None:
    """The camera's source, as the admin page sets it."""
    with world.Session.begin() as db:
        set_camera_source(db, db.get(Camera, camera_id), source, None, keep_password=False)


def _snapshot(client, camera_id: int):
    return client.post(f"/api/cameras/{camera_id}/snapshot", headers={"X-CSRFToken": csrf_of(client)})


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@requires_classroom
def test_snapshot_shows_the_people_and_postures_and_is_never_stored(world, login, tmp_path) -> None:
    cam = world.camera("room-1")
    world.user("ada", admin=True)
    _set_source(world, cam, str(CLASSROOM))
    admin = login("ada")
    page = admin.get(f"/admin/cameras/{cam}/picture")
    assert page.status_code == 200 and b'id="take-snapshot"' in page.data
    assert b'id="field-ignore"' in page.data  # the typed fields stay, for the keyboard
    before = _files_under(tmp_path)
    resp = _snapshot(admin, cam)
    assert resp.status_code == 200, resp.data
    assert resp.headers["Cache-Control"] == "no-store"
    shot = resp.get_json()
    assert (shot["width"], shot["height"]) == (1280, 720)
    jpeg = base64.b64decode(shot["image"].removeprefix("data:image/jpeg;base64,"))
    assert jpeg[:3] == b"\xff\xd8\xff"  # a JPEG, inline
    # The classroom clip: about 20 faces at least partly toward the camera (SOURCES.md), each with a posture.
    assert len(shot["people"]) >= 12
    assert {p["posture"] for p in shot["people"]} <= {"up", "down", "away", "unknown"}
    assert shot["heads_up"]["present"] == len(shot["people"])  # no ROI yet: everyone counted
    assert _files_under(tmp_path) == before  # nothing written beside the database
    with world.Session() as db:
        actions = list(db.scalars(select(AuditLog.action)))
        assert "camera_snapshot" in actions
        assert db.scalar(select(Camera.roi).where(Camera.id == cam)) is None
    # The areas saved from the page are the camera's ROI, as the camera form saves them.
    saved = admin.post(
        f"/admin/cameras/{cam}/picture",
        data={"csrf_token": csrf_of(admin), "ignore": "0,0.45,0.3,0.4", "include": "", "board": "auto"},
    )
    assert saved.status_code == 302
    with world.Session() as db:
        ignore, include = roi_from_json(db.scalar(select(Camera.roi).where(Camera.id == cam)))
    assert [r.text() for r in ignore] == ["0,0.45,0.3,0.4"] and include == ()
    # The next snapshot applies it: the people whose centre lies in the area are dropped (no posture).
    again = _snapshot(admin, cam).get_json()
    dropped = [p for p in again["people"] if not p["kept"]]
    assert dropped and all(p["posture"] is None for p in dropped)
    assert all((p["x"] + p["w"] / 2) / 1280 <= 0.3 for p in dropped)
    assert again["heads_up"]["present"] == len(again["people"]) - len(dropped)


def test_a_camera_without_a_reachable_source_gets_one_clear_message(world, login, tmp_path) -> None:
    cam = world.camera("room-2")
    world.user("ada", admin=True)
    admin = login("ada")
    resp = _snapshot(admin, cam)
    assert resp.status_code == 409
    assert resp.get_json()["message"] == (
        "no picture from camera room-2: camera room-2 has no source set: set its source on the camera setup "
        "page first"
    )
    _set_source(world, cam, str(tmp_path / "gone.mp4"))
    resp = _snapshot(admin, cam)
    assert resp.status_code == 409
    message = resp.get_json()["message"]
    assert message.startswith("no picture from camera room-2: video file not found") and "\n" not in message
    assert _snapshot(admin, 999).status_code == 404


def test_only_admins_take_pictures_and_a_csrf_token_is_needed(world, login) -> None:
    cam = world.camera("room-3")
    world.user("tess", cameras=(cam,))
    world.user("ada", admin=True)
    teacher = login("tess")
    assert _snapshot(teacher, cam).status_code == 403
    assert teacher.get(f"/admin/cameras/{cam}/picture").status_code == 403
    admin = login("ada")
    assert admin.post(f"/api/cameras/{cam}/snapshot").status_code == 400  # no CSRF token
    assert admin.get(f"/api/cameras/{cam}/snapshot").status_code == 405  # only on an explicit POST


def test_a_failing_save_keeps_the_stored_areas(world, login) -> None:
    cam = world.camera("room-4")
    world.user("ada", admin=True)
    admin = login("ada")
    form = {"csrf_token": csrf_of(admin), "ignore": "0,0,0.2,1"}
    assert admin.post(f"/admin/cameras/{cam}/picture", data=form).status_code == 302
    bad = {"csrf_token": csrf_of(admin), "ignore": "0,0,1.5,1"}
    resp = admin.post(f"/admin/cameras/{cam}/picture", data=bad, follow_redirects=True)
    assert "Camera not saved" in resp.get_data(as_text=True)
    with world.Session() as db:
        ignore, _ = roi_from_json(db.scalar(select(Camera.roi).where(Camera.id == cam)))
    assert [r.text() for r in ignore] == ["0,0,0.2,1"]


def test_a_source_with_a_password_is_opened_and_never_shown(world, tmp_path, monkeypatch) -> None:
    """The child gets the key and the database through its environment; the message hides the password."""
    from monitor.store import camera_sources
    from tests.dashboard.conftest import running_app
    from tests.dashboard.helpers import log_in

    monkeypatch.setattr(camera_sources, "_configured_key", None)  # restored after the test
    monkeypatch.setattr(camera_sources, "_key_set", False)
    key = "a-test-camera-key-0123456789"
    cam = world.camera("room-6")
    world.user("ada", admin=True)
    with running_app(world, camera_key=key) as app:
        with world.Session.begin() as db:
            camera_sources.set_camera_source(
                db, db.get(Camera, cam), "rtsp://viewer:s3cret@127.0.0.1:9/stream", None, keep_password=False
            )
        admin = app.test_client()
        assert log_in(admin, "ada").status_code == 302
        resp = _snapshot(admin, cam)
    assert resp.status_code == 409
    message = resp.get_json()["message"]
    assert message.startswith(
        "no picture from camera room-6: no frame came from 'rtsp://***@127.0.0.1:9/stream'"
    )
    assert "s3cret" not in resp.get_data(as_text=True) and "viewer" not in message
