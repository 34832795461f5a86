"""Admin pages over HTTP on a real app and database: users, camera set-up, site settings and worker health."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from monitor.store.schema import AuditLog, Camera, ClassSession, User, WorkerStatus, utcnow
from monitor.store.sessions import STALE_AFTER_S, claim_camera, new_lease_token
from monitor.store.writer import ObservationWriter
from tests.dashboard.helpers import PASSWORD, csrf_of, log_in

NEW_PASSWORD = "a brand new horse 9"
ADMIN_GETS = ["/admin/users", "/admin/cameras"]
FLASH = re.compile(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', re.S)
ADMIN_POSTS = ["/admin/users", "/admin/cameras", "/admin/settings"]


def post(client, path: str, **form):
    """POST a form with the session's CSRF token; follows the redirect so the flash is in the page."""
    return client.post(path, data={"csrf_token": csrf_of(client), **form}, follow_redirects=True)


def page_text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def flashes(resp) -> str:
    """The flash messages of a page, one a line."""
    return "\n".join(FLASH.findall(page_text(resp)))


def visible_cameras(client) -> set[str]:
    return {c["name"] for c in client.get("/api/cameras").get_json()["cameras"]}


def camera_row(world, camera_id: int) -> Camera:
    with world.Session() as db:
        cam = db.get(Camera, camera_id)
        db.expunge(cam)
        return cam


# ---- users ----------------------------------------------------------------------------------------------


def test_admin_creates_a_teacher_who_logs_in_and_sees_exactly_their_cameras(app, school, login, world):
    admin = login("admin")
    resp = post(
        admin,
        "/admin/users",
        action="create",
        username="Carol",
        role="teacher",
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
        camera_id=[str(school["room_a"]), str(school["room_b"])],
    )
    assert resp.status_code == 200
    assert "Created teacher 'Carol' who can see room-a and room-b." in flashes(resp)
    carol = app.test_client()
    assert log_in(carol, "carol", NEW_PASSWORD).status_code == 302  # names ignore case
    assert visible_cameras(carol) == {"room-a", "room-b"}
    assert carol.get("/admin/users").status_code == 403
    resp = post(
        admin,
        "/admin/users",
        action="create",
        username="Dan",
        role="admin",
        password=PASSWORD,
        password2=PASSWORD,
    )
    assert "Created admin 'Dan'." in flashes(resp)
    dan = app.test_client()
    assert log_in(dan, "dan").status_code == 302 and dan.get("/admin/users").status_code == 200


@pytest.mark.parametrize(
    ("username", "password", "password2", "message"),
    [
        ("ALICE", NEW_PASSWORD, NEW_PASSWORD, "user 'alice' exists already (user names ignore case)"),
        ("erin", "short", "short", "weak password"),
        ("erin", "erin", "erin", "weak password"),
        ("erin", "password123", "password123", "weak password"),
        ("erin", NEW_PASSWORD, "something else", "the two passwords differ"),
        ("   ", NEW_PASSWORD, NEW_PASSWORD, "user names are 1 to 100 printable characters"),
    ],
)
def test_refused_users_are_not_created(school, login, world, username, password, password2, message):
    admin = login("admin")
    resp = post(
        admin,
        "/admin/users",
        action="create",
        username=username,
        role="teacher",
        password=password,
        password2=password2,
    )
    assert resp.status_code == 200
    assert "User not created" in flashes(resp) and message in flashes(resp)
    with world.Session() as db:
        assert sorted(db.scalars(select(User.username))) == ["admin", "alice", "bob"]


def test_reset_password_ends_that_users_logins(app, school, login):
    admin, alice = login("admin"), login("alice")
    assert alice.get("/api/me").status_code == 200
    resp = post(
        admin,
        "/admin/users",
        action="passwd",
        user_id=str(school["alice"]),
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
    )
    assert "Password of alice changed; their other logins have ended." in flashes(resp)
    assert alice.get("/api/me").status_code == 401
    assert log_in(app.test_client(), "alice").status_code == 401  # the old password is gone
    assert log_in(app.test_client(), "alice", NEW_PASSWORD).status_code == 302
    weak = post(
        admin, "/admin/users", action="passwd", user_id=str(school["alice"]), password="x", password2="x"
    )
    assert "Password not changed: weak password" in flashes(weak)


def test_disable_and_enable(app, school, login):
    admin, bob = login("admin"), login("bob")
    resp = post(admin, "/admin/users", action="disable", user_id=str(school["bob"]))
    assert "bob disabled; their logins have ended." in flashes(resp)
    assert bob.get("/api/me").status_code == 401
    assert log_in(app.test_client(), "bob").status_code == 403
    page = page_text(admin.get("/admin/users"))
    assert "Enable bob" in page and "Disable bob" not in page
    resp = post(admin, "/admin/users", action="enable", user_id=str(school["bob"]))
    assert "bob enabled." in flashes(resp)
    assert log_in(app.test_client(), "bob").status_code == 302
    own = post(admin, "/admin/users", action="disable", user_id=str(school["admin"]))
    assert "You cannot disable or enable your own account." in flashes(own)


def test_assign_cameras_says_what_changed_and_the_teacher_sees_exactly_those(app, school, login, world):
    lab = world.camera("Lab")
    admin, alice = login("admin"), login("alice")
    assert visible_cameras(alice) == {"room-a"}
    resp = post(
        admin,
        "/admin/users",
        action="cameras",
        user_id=str(school["alice"]),
        camera_id=[str(school["room_b"]), str(lab)],
    )
    assert "alice can now see Lab and room-b; no longer room-a." in flashes(resp)
    assert visible_cameras(alice) == {"Lab", "room-b"}
    assert alice.get(f"/api/cameras/{school['room_a']}").status_code == 404
    same = post(
        admin,
        "/admin/users",
        action="cameras",
        user_id=str(school["alice"]),
        camera_id=[str(school["room_b"]), str(lab)],
    )
    assert "alice's cameras: nothing changed." in flashes(same)
    none = post(admin, "/admin/users", action="cameras", user_id=str(school["alice"]))
    assert "alice no longer sees Lab and room-b." in flashes(none)
    assert visible_cameras(alice) == set()
    unknown = post(admin, "/admin/users", action="cameras", user_id=str(school["alice"]), camera_id="999")
    assert "Cameras not changed: no camera with id 999." in flashes(unknown)
    with world.Session() as db:
        details = db.scalars(select(AuditLog.detail).where(AuditLog.action.in_(("assign", "unassign")))).all()
    assert "user=alice camera=Lab" in details


# ---- cameras --------------------------------------------------------------------------------------------


def test_add_a_camera_then_rename_it_and_set_it_up(school, login, world):
    admin = login("admin")
    resp = post(admin, "/admin/cameras", action="add", name=" Room 12 ", class_size="26", mounting="back")
    assert "Added camera 'Room 12' (class size 26, back wall)." in flashes(resp)
    with world.Session() as db:
        cam = db.scalar(select(Camera).where(Camera.name == "Room 12"))
        assert (cam.class_size, cam.mounting) == (26, "back")
        cam_id = cam.id
    page = page_text(admin.get("/admin/cameras"))
    assert 'aria-label="Class size of Room 12"' in page
    assert "Calibration: not set (posture does not use it; it only orients the calibrate drawing)" in page
    assert "learned" not in page  # nothing learns the front any more (posture-v1 does not use it)
    dup = post(admin, "/admin/cameras", action="add", name="room 12")
    assert "Camera not saved: a camera named 'Room 12' exists already (names ignore case)." in flashes(dup)
    form = {
        "action": "edit",
        "camera_id": str(cam_id),
        "name": "Room 14",
        "class_size": "26",
        "mounting": "back",
        "board": "auto",
        "ignore": "0,0,0.2,1",
        "include": "",
    }
    resp = post(admin, "/admin/cameras", **form)
    text = flashes(resp)
    assert "Camera 'Room 12': renamed to 'Room 14'" in text and "--camera 'Room 14'" in text
    assert "ignored areas 0,0,0.2,1 (was none)" in text and "class size" not in text
    cam = camera_row(world, cam_id)
    assert cam.name == "Room 14" and cam.roi is not None
    again = post(admin, "/admin/cameras", **{**form, "name": "Room 14"})
    assert "Camera 'Room 14': nothing changed." in flashes(again)


def test_saving_a_camera_keeps_its_measured_front_and_shows_calibration(school, login, world):
    room = school["room_a"]
    with world.Session.begin() as db:
        cam = db.get(Camera, room)
        cam.board_mode, cam.board_yaw, cam.board_pitch = "auto", 12.0, -8.5
    admin = login("admin")
    page = page_text(admin.get("/admin/cameras"))
    assert "Calibration: measured from the students' faces: yaw 12.0°, pitch -8.5°" in page
    form = {"action": "edit", "camera_id": str(room), "name": "room-a", "board": "auto", "class_size": "20"}
    resp = post(admin, "/admin/cameras", **form)
    assert "class size 20 (was not set)" in flashes(resp)
    cam = camera_row(world, room)
    assert (cam.board_yaw, cam.board_pitch, cam.class_size) == (12.0, -8.5, 20)
    resp = post(admin, "/admin/cameras", **{**form, "board": "5,-10"})
    assert "front of the room set by an admin: yaw 5.0°, pitch -10.0°" in flashes(resp)
    assert camera_row(world, room).board_mode == "fixed"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("class_size", "0", "class size must be between 1 and 500, not 0"),
        ("class_size", "501", "class size must be between 1 and 500"),
        ("class_size", "lots", "class size must be a whole number of students"),
        ("mounting", "ceiling", "mounting must be 'front' or 'back'"),
        ("board", "north", "board: expected 2 numbers"),
        ("ignore", "0,0,2,1", "must lie in 0..1"),
        ("include", "nan,0,1,1", "expected 4 numbers"),
        ("name", "", "camera names are 1 to 100 printable characters"),
        ("name", "room-b", "a camera named 'room-b' exists already"),
        ("name", "x" * 101, "camera names are 1 to 100"),
    ],
)
def test_bad_camera_values_are_one_flash_and_nothing_changes(school, login, world, field, value, message):
    room = school["room_a"]
    with world.Session.begin() as db:
        db.get(Camera, room).class_size = 30
    admin = login("admin")
    form = {"action": "edit", "camera_id": str(room), "name": "room-a", "class_size": "25", field: value}
    resp = post(admin, "/admin/cameras", **form)
    assert resp.status_code == 200
    text = flashes(resp)
    assert text.count("Camera not saved:") == 1 and message in text, text
    cam = camera_row(world, room)
    assert (cam.name, cam.class_size, cam.mounting, cam.roi) == ("room-a", 30, "front", None)


def test_malformed_ids_and_actions_are_4xx(school, login):
    admin = login("admin")
    for path, form in [
        ("/admin/cameras", {"action": "edit", "camera_id": "²"}),
        ("/admin/cameras", {"action": "edit", "camera_id": "99999999999999999999999"}),
        ("/admin/cameras", {"action": "explode"}),
        ("/admin/users", {"action": "cameras", "user_id": "x"}),
        ("/admin/users", {"action": "cameras", "user_id": str(school["alice"]), "camera_id": "-1"}),
        ("/admin/users", {"action": "create", "role": "root"}),
        ("/admin/users", {}),
    ]:
        assert post(admin, path, **form).status_code == 400, (path, form)
    assert post(admin, "/admin/cameras", action="edit", camera_id="999").status_code == 404
    assert post(admin, "/admin/users", action="cameras", user_id="999").status_code == 404


# ---- site settings --------------------------------------------------------------------------------------


def test_settings_page_edits_the_time_zone_and_says_what_changed(school, login):
    admin = login("admin")
    page = page_text(admin.get("/settings"))
    assert '<option value="Europe/London"' in page and 'name="timezone"' in page
    resp = post(admin, "/admin/settings", mode="emotion", retention_days="0", timezone="Europe/London")
    assert "Settings saved: time zone Europe/London." in flashes(resp)
    assert admin.get("/api/settings").get_json()["timezone"] == "Europe/London"
    resp = post(admin, "/admin/settings", mode="attention", retention_days="14", timezone="Europe/London")
    assert "Settings saved: attention only (no emotions); keep data 14 days." in flashes(resp)
    bad = post(admin, "/admin/settings", mode="emotion", retention_days="0", timezone="Mars/Olympus")
    assert "Settings not saved: unknown timezone 'Mars/Olympus'" in flashes(bad)
    settings = admin.get("/api/settings").get_json()
    assert (settings["timezone"], settings["mode"], settings["retention_days"]) == (
        "Europe/London",
        "attention",
        14,
    )


# ---- health ---------------------------------------------------------------------------------------------


def test_health_shows_a_heartbeat_written_through_the_store(school, login, world):
    room = school["room_a"]
    sid = world.lesson(room, "Maths 7A (live)", seconds=0, running=True)
    token = new_lease_token()
    with world.Session.begin() as db:
        ws = claim_camera(db, room, token, utcnow())
        ws.pid, ws.hostname, ws.state, ws.session_id = 4242, "cam-host", "running", sid
    writer = ObservationWriter(world.engine, sid, room, interval_s=3600, lease_token=token)
    writer.set_worker_status(fps=12.5, faces_in_view=3, frames=100, model_version="cnn-v3")
    writer.flush()
    writer.close()
    with world.Session.begin() as db:  # what the supervisor (serve) records
        db.execute(
            update(WorkerStatus).where(WorkerStatus.camera_id == room).values(restarts=2, last_error="exit 1")
        )

    admin = login("admin")
    data = admin.get("/api/health").get_json()
    assert data["stale_after_s"] == STALE_AFTER_S
    rows = {w["camera"]: w for w in data["workers"]}
    w = rows["room-a"]
    assert (w["state"], w["stale"], w["pid"], w["host"]) == ("running", False, 4242, "cam-host")
    assert (w["fps"], w["people_in_view"], w["model_version"]) == (12.5, 3, "cnn-v3")
    assert (w["restarts"], w["last_error"]) == (2, "exit 1")
    assert 0 <= w["heartbeat_age_s"] < 5 and w["heartbeat_ago"].endswith("s ago")
    assert w["session"] == {"id": sid, "label": "Maths 7A (live)", "in_progress": True}
    assert rows["room-b"]["state"] == "never started" and rows["room-b"]["last_heartbeat"] is None
    page = page_text(admin.get("/health"))
    assert "4242@cam-host" in page and "exit 1" in page and "Maths 7A (live)" in page

    with world.Session.begin() as db:  # the worker went silent
        db.execute(
            update(WorkerStatus)
            .where(WorkerStatus.camera_id == room)
            .values(last_heartbeat=utcnow() - timedelta(seconds=STALE_AFTER_S + 50))
        )
    w = {w["camera"]: w for w in admin.get("/api/health").get_json()["workers"]}["room-a"]
    assert w["stale"] is True and w["people_in_view"] == 0 and w["heartbeat_ago"] == "1 min ago"
    assert "running · stale" in page_text(admin.get("/health"))


def test_teachers_see_health_of_their_cameras_only(school, login):
    alice = login("alice")
    assert [w["camera"] for w in alice.get("/api/health").get_json()["workers"]] == ["room-a"]
    page = alice.get("/health").get_data(as_text=True)
    assert "room-a" in page and "room-b" not in page


# ---- access and CSRF ------------------------------------------------------------------------------------


def test_teachers_get_403_on_admin_routes(school, login, world):
    alice = login("alice")
    for path in ADMIN_GETS:
        assert alice.get(path).status_code == 403, path
    for path in ADMIN_POSTS:
        resp = alice.post(
            path, data={"csrf_token": csrf_of(alice), "action": "create", "username": "mallory"}
        )
        assert resp.status_code == 403, path
    with world.Session() as db:
        assert db.scalar(select(User).where(User.username == "mallory")) is None


def test_admin_forms_need_the_csrf_token(school, login, world):
    admin = login("admin")
    resp = admin.post(
        "/admin/users",
        data={"action": "create", "username": "mallory", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert resp.status_code == 400
    resp = admin.post("/admin/cameras", data={"action": "add", "name": "Evil", "csrf_token": "forged"})
    assert resp.status_code == 400
    with world.Session() as db:
        assert db.scalar(select(User).where(User.username == "mallory")) is None
        assert db.scalar(select(Camera).where(Camera.name == "Evil")) is None
        assert db.scalar(select(ClassSession).limit(1)) is not None  # the school's data is untouched


def test_every_admin_page_renders(school, login):
    admin = login("admin")
    for path in ("/admin/users", "/admin/cameras", "/health", "/settings"):
        resp = admin.get(path)
        assert resp.status_code == 200, path
        assert 'class="table-scroll"' in resp.get_data(as_text=True) or path in (
            "/admin/cameras",
            "/settings",
        )


NASTY = [
    "",
    " ",
    "\x00",
    "\r\n",
    "²",
    "١٢",
    "NaN",
    "inf",
    "-1",
    "99999999999999999999999",
    "<script>",
    "🙂" * 60,
]


def test_hostile_values_in_every_admin_form_field_are_never_a_5xx(school, login, world):
    admin = login("admin")
    room = str(school["room_a"])
    forms = [
        ("/admin/cameras", {"action": "add", "name": "Lab", "class_size": "20", "mounting": "front"}),
        (
            "/admin/cameras",
            {
                "action": "edit",
                "camera_id": room,
                "name": "room-a",
                "class_size": "20",
                "mounting": "back",
                "board": "auto",
                "ignore": "",
                "include": "",
            },
        ),
        (
            "/admin/users",
            {
                "action": "create",
                "username": "zed",
                "role": "teacher",
                "password": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
                "camera_id": room,
            },
        ),
        ("/admin/users", {"action": "cameras", "user_id": str(school["alice"]), "camera_id": room}),
        (
            "/admin/settings",
            {"mode": "emotion", "retention_days": "0", "timezone": "UTC", "class_only": "on"},
        ),
    ]
    for path, form in forms:
        for field in form:
            for value in NASTY:
                resp = post(admin, path, **{**form, field: value})
                assert resp.status_code < 500, (path, field, value)
    assert admin.get("/api/me").status_code == 200
