"""Admins edit each camera's class size and mounting on /admin/cameras, checked like the CLI's values."""

from __future__ import annotations

from sqlalchemy import select

from monitor.store.schema import AuditLog, Camera
from tests.dashboard.helpers import csrf_of


def _camera(world, camera_id: int) -> Camera:
    with world.Session() as db:
        cam = db.get(Camera, camera_id)
        db.expunge(cam)
        return cam


def _post(client, **form):
    return client.post("/admin/cameras", data={"csrf_token": csrf_of(client), "action": "edit", **form})


def test_admin_sets_class_size_and_mounting(school, world, login) -> None:
    admin = login("admin")
    page = admin.get("/admin/cameras").get_data(as_text=True)
    assert 'id="classrooms"' in page and 'aria-label="Class size of room-a"' in page
    room = school["room_a"]
    resp = _post(admin, camera_id=str(room), class_size="26", mounting="back")
    assert resp.status_code == 302
    cam = _camera(world, room)
    assert (cam.class_size, cam.mounting) == (26, "back")
    page = admin.get("/admin/cameras").get_data(as_text=True)
    assert "class size 26 (was not set); back wall (was front)" in page
    assert 'value="26"' in page
    with world.Session() as db:
        assert "class size 26 (was not set)" in db.scalar(
            select(AuditLog.detail).where(AuditLog.action == "camera")
        )
    # Empty: back to counting the people in view.
    assert _post(admin, camera_id=str(room), class_size="", mounting="front").status_code == 302
    assert (_camera(world, room).class_size, _camera(world, room).mounting) == (None, "front")


def test_bad_values_are_refused_and_nothing_is_lost(school, world, login) -> None:
    admin = login("admin")
    room = school["room_a"]
    _post(admin, camera_id=str(room), class_size="30", mounting="front")
    for class_size, mounting, message in [
        ("0", "front", "between 1 and 500"),
        ("lots", "front", "whole number"),
        ("20", "ceiling", "front&#39; or &#39;back"),
    ]:
        resp = _post(admin, camera_id=str(room), class_size=class_size, mounting=mounting)
        assert resp.status_code == 302
        page = admin.get("/admin/cameras").get_data(as_text=True)
        assert "Camera not saved" in page and message in page, page
        assert _camera(world, room).class_size == 30
    assert _post(admin, camera_id="999", class_size="20", mounting="front").status_code == 404
    assert _post(admin, camera_id="x", class_size="20", mounting="front").status_code == 400


def test_teachers_cannot_change_a_camera(school, world, login) -> None:
    teacher = login("alice")
    resp = _post(teacher, camera_id=str(school["room_a"]), class_size="5", mounting="front")
    assert resp.status_code == 403
    assert _camera(world, school["room_a"]).class_size is None
