"""Lesson markers over the API: add (live or afterwards), list, delete; access, CSRF, 400s, the live event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard.live import socketio_of
from monitor.store.schema import AuditLog, LessonMarker
from tests.dashboard.helpers import csrf_of

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # the school fixture's lesson A: 60 s from here


def post(client, session_id: int, body, **kwargs):
    return client.post(
        f"/api/sessions/{session_id}/markers", json=body, headers={"X-CSRFToken": csrf_of(client)}, **kwargs
    )


def test_a_teacher_marks_a_finished_lesson_and_lists_its_markers(school, login) -> None:
    alice = login("alice")
    sid = school["lesson_a"]
    resp = post(alice, sid, {"text": "  group   work starts ", "at": "2025-03-03T09:00:30Z"})
    assert resp.status_code == 201
    marker = resp.get_json()
    assert marker == {
        "id": marker["id"],
        "at": "2025-03-03T09:00:30.000Z",
        "text": "group work starts",
        "author": "alice",
    }
    # a time with an offset is the same instant
    assert post(alice, sid, {"text": "quiz", "at": "2025-03-03T10:00:10+01:00"}).status_code == 201
    listed = alice.get(f"/api/sessions/{sid}/markers").get_json()
    assert listed["session_id"] == sid
    assert [(m["at"], m["text"]) for m in listed["markers"]] == [
        ("2025-03-03T09:00:10.000Z", "quiz"),
        ("2025-03-03T09:00:30.000Z", "group work starts"),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": ""}, "text must not be empty"),
        ({"text": "   "}, "text must not be empty"),
        ({"text": "x" * 201, "at": "2025-03-03T09:00:30Z"}, "at most 200 characters"),
        ({"text": 5, "at": "2025-03-03T09:00:30Z"}, "text must be a string"),
        ({"text": "bell\x07", "at": "2025-03-03T09:00:30Z"}, "control characters"),
        ({"text": "quiz", "at": "yesterday"}, "at must be an ISO 8601 date-time"),
        ({"text": "quiz", "at": "2025-03-03T25:00:00Z"}, "at must be an ISO 8601 date-time"),
        ({"text": "quiz", "at": 1741000000}, "at must be an ISO 8601 date-time"),
        ({"text": "quiz", "at": "2025-03-03T08:59:59Z"}, "before the lesson started"),
        ({"text": "quiz", "at": "2025-03-03T09:01:01Z"}, "after the lesson ended"),
        ({"text": "quiz"}, "the lesson has ended: give the time"),
        ({"text": "quiz", "colour": "red"}, "unknown field 'colour'"),
        (["quiz"], "send a JSON object"),
    ],
)
def test_bad_markers_answer_400_with_one_clear_message_and_store_nothing(
    school, login, world, body, message
) -> None:
    resp = post(login("alice"), school["lesson_a"], body)
    assert resp.status_code == 400
    assert message in resp.get_json()["message"]
    with world.Session() as db:
        assert db.scalars(select(LessonMarker)).all() == []


def test_a_live_lesson_is_marked_now_and_its_viewers_get_the_marker_event(world, app, login) -> None:
    room = world.camera("room-live")
    sid = world.lesson(
        room, "Live maths", start=datetime.now(UTC) - timedelta(minutes=2), seconds=0, running=True
    )
    world.user("carol", cameras=(room,))
    client = login("carol")
    sio = socketio_of(app).test_client(app, flask_test_client=client)
    assert sio.emit("watch", {"camera_id": room}, callback=True)["ok"]
    sio.get_received()
    before = datetime.now(UTC)
    resp = post(client, sid, {"text": "quiz"})
    assert resp.status_code == 201
    at = datetime.fromisoformat(resp.get_json()["at"])
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC)
    events = [e for e in sio.get_received() if e["name"] == "marker"]
    assert events and events[0]["args"][0] == {
        "session_id": sid,
        "camera_id": room,
        "marker": resp.get_json(),
    }
    # the future is refused (a browser clock a few seconds ahead is not)
    ahead = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    assert post(client, sid, {"text": "close", "at": ahead}).status_code == 201
    late = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    resp = post(client, sid, {"text": "later", "at": late})
    assert resp.status_code == 400 and "in the future" in resp.get_json()["message"]
    sio.disconnect()


def test_teachers_only_mark_their_own_cameras_lessons(school, login, world) -> None:
    alice = login("alice")
    assert post(alice, school["lesson_b"], {"text": "x", "at": "2025-03-10T11:00:10Z"}).status_code == 404
    assert alice.get(f"/api/sessions/{school['lesson_b']}/markers").status_code == 404
    assert alice.get("/api/sessions/999999/markers").status_code == 404
    with world.Session() as db:
        assert db.scalars(select(LessonMarker)).all() == []


def test_posting_without_the_csrf_token_is_refused(school, login, world) -> None:
    resp = login("alice").post(
        f"/api/sessions/{school['lesson_a']}/markers", json={"text": "x", "at": "2025-03-03T09:00:30Z"}
    )
    assert resp.status_code == 400
    with world.Session() as db:
        assert db.scalars(select(LessonMarker)).all() == []


def test_logged_out_requests_get_401(school, app) -> None:
    assert app.test_client().get(f"/api/sessions/{school['lesson_a']}/markers").status_code == 401


def test_a_marker_is_deleted_by_its_author_or_an_admin_only(school, world, login) -> None:
    room_a, sid = school["room_a"], school["lesson_a"]
    world.user("dave", cameras=(room_a,))
    alice, dave, admin = login("alice"), login("dave"), login("admin")
    first = post(alice, sid, {"text": "one", "at": "2025-03-03T09:00:20Z"}).get_json()["id"]
    second = post(alice, sid, {"text": "two", "at": "2025-03-03T09:00:40Z"}).get_json()["id"]

    def delete(client, session_id: int, marker_id: int):
        return client.delete(
            f"/api/sessions/{session_id}/markers/{marker_id}", headers={"X-CSRFToken": csrf_of(client)}
        )

    resp = delete(dave, sid, first)
    assert resp.status_code == 403 and "author or an admin" in resp.get_json()["message"]
    assert delete(alice, school["lesson_b"], first).status_code == 404  # not her lesson
    assert delete(admin, school["lesson_b"], first).status_code == 404  # not that lesson's marker
    assert delete(alice, sid, first).status_code == 204
    assert delete(alice, sid, first).status_code == 404
    assert delete(admin, sid, second).status_code == 204
    assert alice.get(f"/api/sessions/{sid}/markers").get_json()["markers"] == []
    with world.Session() as db:
        actions = db.scalars(select(AuditLog.action).where(AuditLog.action.like("marker%"))).all()
    assert actions.count("marker") == 2 and actions.count("marker delete") == 2


def test_markers_survive_their_authors_account_and_go_with_their_lesson(school, world, login) -> None:
    from monitor.store.schema import ClassSession, User

    sid = school["lesson_a"]
    post(login("alice"), sid, {"text": "kept", "at": "2025-03-03T09:00:20Z"})
    with world.Session.begin() as db:
        db.delete(db.get(User, school["alice"]))
    listed = login("admin").get(f"/api/sessions/{sid}/markers").get_json()["markers"]
    assert [(m["text"], m["author"]) for m in listed] == [("kept", None)]
    with world.Session.begin() as db:
        db.delete(db.get(ClassSession, sid))
    with world.Session() as db:
        assert db.scalars(select(LessonMarker)).all() == []
