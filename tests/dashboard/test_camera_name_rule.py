"""The admin page follows the workers' camera-name rule (``monitor.cameras``): no look-alike of a camera."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.store.schema import Camera
from tests.dashboard.test_admin_pages import flashes, post


@pytest.mark.parametrize("look_alike", ["ROOM-A", " room-a ", "ｒｏｏｍ-ａ"])
def test_adding_a_look_alike_of_an_existing_camera_is_refused(school, login, world, look_alike) -> None:
    resp = post(login("admin"), "/admin/cameras", action="add", name=look_alike)
    assert "a camera named 'room-a' exists already" in flashes(resp)
    with world.Session() as db:
        assert sorted(db.scalars(select(Camera.name))) == ["room-a", "room-b"]


def test_a_name_is_stored_with_its_spaces_made_one(school, login, world) -> None:
    resp = post(login("admin"), "/admin/cameras", action="add", name="  Room   12 ")
    assert "Added camera 'Room 12'" in flashes(resp)
    with world.Session() as db:
        assert db.scalar(select(Camera.id).where(Camera.name == "Room 12")) is not None
