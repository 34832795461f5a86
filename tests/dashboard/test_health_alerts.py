"""Recent alerts on the health page (issue 24's loose ends): admins see each episode's camera, when it opened
and closed and who it was sent to, read from the ``alerts`` table through ``monitor.store.notifications``;
an episode of a camera that ``serve`` no longer serves, or whose row was deleted, is never left open."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from monitor.serve.alerts import CAMERA_DOWN, CameraView, Notifier
from monitor.serve.config import parse_config
from monitor.store import notifications
from monitor.store.schema import AlertSent, Camera

OPENED = datetime(2026, 12, 7, 9, 10, tzinfo=UTC)
ROW = re.compile(r'<tr data-alert-id="\d+" data-state="(\w+)">(.*?)</tr>', re.S)


def alert_rows(page: str) -> list[tuple[str, list[str]]]:
    """(open/closed, the cells' text) of each row of the page's alert list."""
    return [
        (
            state,
            [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td.*?</td>", row, re.S)],
        )
        for state, row in ROW.findall(page)
    ]


def test_admins_see_recent_alerts_teachers_do_not(school, login, world):
    with world.Session.begin() as db:
        done = notifications.start_alert(db, CAMERA_DOWN, school["room_b"], OPENED, "room-b: worker stopped")
        done.recipients, done.sent_at = "head@school.test", OPENED + timedelta(minutes=5)
        notifications.end_alerts(db, CAMERA_DOWN, school["room_b"], OPENED + timedelta(minutes=40))
        later = OPENED + timedelta(hours=1)
        still = notifications.start_alert(
            db, CAMERA_DOWN, school["room_a"], later, "room-a: camera unreachable"
        )
        still.error = "no mail server set (smtp_host, smtp_sender)"
    page = login("admin").get("/health").get_data(as_text=True)
    assert alert_rows(page) == [
        ("open", ["room-a", "camera down", "Mon 07 Dec 2026 10:10", "still open", still.error]),
        (
            "closed",
            ["room-b", "camera down", "Mon 07 Dec 2026 09:10", "Mon 07 Dec 2026 09:50", "head@school.test"],
        ),
    ]
    teacher = login("alice").get("/health").get_data(as_text=True)
    assert 'id="alerts"' not in teacher and "head@school.test" not in teacher


def test_an_open_alert_of_a_camera_serve_stopped_serving_closes(school, world):
    world.setting("alert_after_min", 0)
    config = parse_config({"serve": {"database_cameras": True}, "cameras": []}, Path("school.toml"))
    views = [CameraView("room-a", "backoff", 1, True, "exited with status 1")]
    notifier = Notifier(world.Session, config, lambda: list(views))
    notifier.check_cameras(OPENED)
    with world.Session() as db:
        (row,) = db.scalars(select(AlertSent)).all()
    assert (row.camera_id, row.ended_at) == (school["room_a"], None)
    views.clear()  # the camera was deleted on the admin page, or moved to another host
    notifier.check_cameras(OPENED + timedelta(minutes=3))
    with world.Session() as db:
        (row,) = db.scalars(select(AlertSent)).all()
    assert row.ended_at == OPENED + timedelta(minutes=3)


def test_a_deleted_camera_leaves_no_open_alert_on_the_page(school, login, world):
    gym = world.camera("gym")
    with world.Session.begin() as db:
        notifications.start_alert(db, CAMERA_DOWN, gym, OPENED, "gym: worker stopped")
    assert [cells[0] for _, cells in alert_rows(login("admin").get("/health").get_data(as_text=True))] == [
        "gym"
    ]
    with world.Session.begin() as db:
        db.delete(db.get(Camera, gym))
    assert alert_rows(login("admin").get("/health").get_data(as_text=True)) == []
    with world.Session() as db:
        assert notifications.cameras_with_open_alerts(db, CAMERA_DOWN) == set()
