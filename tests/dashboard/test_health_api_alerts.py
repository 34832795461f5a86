"""``GET /api/health`` lists the alert episodes the health page shows (issue 24's loose ends): the same
episodes in the same order, read through ``monitor.views.health.alert_rows``, for admins only; a teacher's
answer has none, neither the episodes nor the admins' addresses they were mailed to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.serve.alerts import CAMERA_DOWN, LOW_HEADS_UP
from monitor.store import notifications
from monitor.store.schema import User
from tests.dashboard.test_health_alerts import alert_rows

OPENED = datetime(2026, 12, 7, 9, 10, tzinfo=UTC)


def _episodes(world, school) -> tuple[int, int]:
    """A closed camera-down episode mailed to the head, and a low heads-up one still open, not mailed."""
    with world.Session.begin() as db:
        done = notifications.start_alert(db, CAMERA_DOWN, school["room_b"], OPENED, "room-b: worker stopped")
        done.recipients, done.sent_at = "head@school.test, it@school.test", OPENED + timedelta(minutes=5)
        notifications.end_alerts(db, CAMERA_DOWN, school["room_b"], OPENED + timedelta(minutes=40))
        low = notifications.start_alert(
            db, LOW_HEADS_UP, school["room_a"], OPENED + timedelta(hours=1), "Maths 7A", school["lesson_a"]
        )
        low.error = "no teacher of this camera has an e-mail address"
        return done.id, low.id


def test_an_admin_reads_the_pages_alerts_in_the_api(school, login, world) -> None:
    done, low = _episodes(world, school)
    admin = login("admin")
    body = admin.get("/api/health").get_json()
    assert body["alerts"] == [
        {
            "id": low,
            "kind": LOW_HEADS_UP,
            "kind_text": "low heads-up",
            "camera_id": school["room_a"],
            "camera": "room-a",
            "session_id": school["lesson_a"],
            "subject": "Maths 7A",
            "opened": "2026-12-07T10:10:00.000+00:00",
            "closed": None,
            "open": True,
            "sent_at": None,
            "sent_to": [],
            "error": "no teacher of this camera has an e-mail address",
        },
        {
            "id": done,
            "kind": CAMERA_DOWN,
            "kind_text": "camera down",
            "camera_id": school["room_b"],
            "camera": "room-b",
            "session_id": None,
            "subject": "room-b: worker stopped",
            "opened": "2026-12-07T09:10:00.000+00:00",
            "closed": "2026-12-07T09:50:00.000+00:00",
            "open": False,
            "sent_at": "2026-12-07T09:15:00.000+00:00",
            "sent_to": ["head@school.test", "it@school.test"],
            "error": None,
        },
    ]
    # the page lists the same episodes, in the same order, open or closed alike
    page = alert_rows(admin.get("/health").get_data(as_text=True))
    assert [(state, cells[0]) for state, cells in page] == [
        ("open" if a["open"] else "closed", a["camera"]) for a in body["alerts"]
    ]


def test_the_kind_is_in_the_readers_language(school, login, world) -> None:
    _episodes(world, school)
    with world.Session.begin() as db:
        db.get(User, school["admin"]).locale = "zh_Hans_CN"
    body = login("admin").get("/api/health").get_json()
    assert [a["kind_text"] for a in body["alerts"]] == ["抬头率过低", "摄像头故障"]


def test_a_teacher_gets_no_alerts_nor_the_admins_addresses(school, login, world) -> None:
    _episodes(world, school)
    resp = login("alice").get("/api/health")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["alerts"] is None
    assert [w["camera"] for w in body["workers"]] == ["room-a"]  # her camera's worker, as before
    assert "head@school.test" not in resp.get_data(as_text=True)


def test_no_alerts_yet_is_an_empty_list(school, login) -> None:
    assert login("admin").get("/api/health").get_json()["alerts"] == []
