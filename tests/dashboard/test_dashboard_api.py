"""The JSON API: what each route answers, who may see what, and that bad input is a 4xx, never a 500."""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import select

from monitor.store.schema import AuditLog
from monitor.store.site_settings import DEFAULTS
from tests.dashboard.helpers import csrf_of


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path, _template_db) -> str:
    """Every API test runs on SQLite and on a real PostgreSQL server (issue: scale past one machine)."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres").migrated_database()
    path = tmp_path / "monitor.db"
    path.write_bytes(_template_db.read_bytes())
    return f"sqlite:///{path}"


def audit_actions(world) -> list[str]:
    with world.Session() as db:
        return [a.action for a in db.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_teacher_sees_only_assigned_cameras_and_sessions(school, login):
    alice = login("alice")
    cams = alice.get("/api/cameras").get_json()["cameras"]
    assert [c["name"] for c in cams] == ["room-a"]
    assert {"status", "last_heartbeat", "running_session", "faces_in_view", "mood"} <= set(cams[0])
    sessions = alice.get("/api/sessions").get_json()["sessions"]
    assert [s["id"] for s in sessions] == [school["lesson_a"]]


def test_admin_sees_everything(school, login):
    admin = login("admin")
    assert len(admin.get("/api/cameras").get_json()["cameras"]) == 2
    assert len(admin.get("/api/sessions").get_json()["sessions"]) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/cameras/{room_b}",
        "/api/cameras/{room_b}/live",
        "/api/sessions/{lesson_b}",
        "/api/sessions/{lesson_b}/timeline",
        "/api/sessions/{lesson_b}/tracks",
        "/api/sessions/{lesson_b}/tracks/1/timeline",
        "/sessions/{lesson_b}",
        "/cameras/{room_b}/live",
    ],
)
def test_another_teachers_camera_is_not_found(school, login, path):
    resp = login("alice").get(path.format(**school))
    assert resp.status_code == 404


def test_session_filter_by_camera_and_date(school, login):
    admin = login("admin")
    by_cam = admin.get(f"/api/sessions?camera_id={school['room_b']}").get_json()["sessions"]
    assert [s["id"] for s in by_cam] == [school["lesson_b"]]
    by_date = admin.get("/api/sessions?from=2025-03-01&to=2025-03-03").get_json()["sessions"]
    assert [s["id"] for s in by_date] == [school["lesson_a"]]  # 'to' includes the whole day
    assert admin.get("/api/sessions?from=2025-03-04").get_json()["sessions"][0]["id"] == school["lesson_b"]
    # a teacher asking for a camera that is not hers gets nothing, not someone else's list
    assert login("alice").get(f"/api/sessions?camera_id={school['room_b']}").get_json()["sessions"] == []


def test_session_detail_has_summary(school, login):
    body = login("alice").get(f"/api/sessions/{school['lesson_a']}").get_json()
    assert body["label"] == "Maths 7A" and body["camera_name"] == "room-a"
    s = body["summary"]
    assert s["frames"] == 120 and s["tracks"] == 3 and s["faces_per_frame"] == 3.0
    assert 0 <= s["engagement"] <= 1 and 0 <= s["attention"] <= 1
    assert abs(sum(s["emotions"].values()) - 1) < 0.01 and s["dominant"] in s["emotions"]


def test_timeline_auto_and_chosen_bucket(school, login):
    alice = login("alice")
    auto = alice.get(f"/api/sessions/{school['lesson_a']}/timeline").get_json()
    assert auto["bucket_s"] == 1 and len(auto["buckets"]) == 60
    ten = alice.get(f"/api/sessions/{school['lesson_a']}/timeline?bucket=10").get_json()
    assert ten["bucket_s"] == 10 and len(ten["buckets"]) == 6
    b = ten["buckets"][0]
    assert b["frames"] == 20 and b["faces"] == 60 and abs(sum(b["emotions"].values()) - 1) < 0.01


def test_tracks_and_track_timeline(school, login):
    alice = login("alice")
    tracks = alice.get(f"/api/sessions/{school['lesson_a']}/tracks").get_json()["tracks"]
    assert [t["track_id"] for t in tracks] == [1, 2, 3]
    assert tracks[0]["observations"] == 120 and tracks[0]["dominant"]
    tl = alice.get(f"/api/sessions/{school['lesson_a']}/tracks/2/timeline?bucket=30").get_json()
    assert tl["bucket_s"] == 30 and [b["observations"] for b in tl["buckets"]] == [60, 60]
    assert alice.get(f"/api/sessions/{school['lesson_a']}/tracks/99/timeline").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["bucket=abc", "bucket=0", "bucket=-5", "bucket=99999999999999999999", "bucket=1.5", "bucket=%00"],
)
def test_bad_bucket_is_400_with_message(school, login, query):
    resp = login("alice").get(f"/api/sessions/{school['lesson_a']}/timeline?{query}")
    assert resp.status_code == 400
    assert "bucket" in resp.get_json()["message"]


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "to=2025-13-01",
        "from=2025-03-05&to=2025-03-01",
        "camera_id=x",
        "camera_id=-1",
        "limit=0",
    ],
)
def test_bad_session_filters_are_400(school, login, query):
    resp = login("admin").get(f"/api/sessions?{query}")
    assert resp.status_code == 400 and resp.get_json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions/999",
        "/api/sessions/0/timeline",
        "/api/sessions/99999999999999999999999/timeline",
        "/api/sessions/999/tracks",
        "/api/sessions/{lesson_a}/tracks/99999999999999999999999/timeline",
        "/api/cameras/999",
        "/api/nothing-here",
        "/sessions/{lesson_a}/export.exe",
    ],
)
def test_unknown_things_are_404_json(school, login, path):
    resp = login("admin").get(path.format(**school))
    assert resp.status_code == 404
    assert resp.get_json()["status"] == 404


def test_attention_only_mode_hides_emotions_everywhere(school, world, login):
    world.setting("mode", "attention")
    admin = login("admin")
    sid = school["lesson_a"]
    assert all(
        b["emotions"] is None for b in admin.get(f"/api/sessions/{sid}/timeline").get_json()["buckets"]
    )
    tracks = admin.get(f"/api/sessions/{sid}/tracks").get_json()["tracks"]
    assert all(t["emotions"] is None and t["dominant"] is None for t in tracks)
    tl = admin.get(f"/api/sessions/{sid}/tracks/1/timeline").get_json()["buckets"]
    assert all(b["emotions"] is None for b in tl)
    summary = admin.get(f"/api/sessions/{sid}").get_json()["summary"]
    assert summary["emotions"] is None and summary["dominant"] is None
    page = admin.get(f"/sessions/{sid}").get_data(as_text=True)
    assert "main expression" not in page and 'data-emotions="off"' in page


def test_class_only_mode_hides_tracks(school, world, login):
    world.setting("class_only", True)
    alice = login("alice")
    sid = school["lesson_a"]
    assert alice.get(f"/api/sessions/{sid}/tracks").status_code == 404
    assert alice.get(f"/api/sessions/{sid}/tracks/1/timeline").status_code == 404
    assert alice.get(f"/api/sessions/{sid}/timeline").status_code == 200
    assert 'id="tracks"' not in alice.get(f"/sessions/{sid}").get_data(as_text=True)


def test_settings_are_admin_only_validated_and_audited(school, world, login):
    alice, admin = login("alice"), login("admin")
    assert alice.get("/api/settings").status_code == 403
    assert admin.get("/api/settings").get_json() == {
        **DEFAULTS,  # the mail settings too
        "mode": "emotion",
        "class_only": False,
        "retention_days": 0,
        "timezone": "UTC",
        "locale": "en",
    }
    headers = {"X-CSRFToken": csrf_of(admin)}
    ok = admin.put("/api/settings", json={"mode": "attention", "retention_days": 30}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["mode"] == "attention"
    for bad in (
        {"mode": "spy"},
        {"class_only": "yes"},
        {"retention_days": -1},
        {"timezone": "Mars/Base"},
        {"colour": 1},
        [1, 2],
    ):
        resp = admin.put("/api/settings", json=bad, headers=headers)
        assert resp.status_code == 400, bad
    assert admin.put("/api/settings", data="not json", headers=headers).status_code == 400
    assert "settings" in audit_actions(world)


def test_writes_need_the_csrf_token(school, login):
    admin = login("admin")
    resp = admin.put("/api/settings", json={"mode": "attention"})
    assert resp.status_code == 400 and "CSRF" in resp.get_json()["message"]


def test_oversized_body_is_413(school, login):
    admin = login("admin")
    resp = admin.put(
        "/api/settings",
        data=b"{" + b" " * 200_000 + b"}",
        headers={"X-CSRFToken": csrf_of(admin), "Content-Type": "application/json"},
    )
    assert resp.status_code == 413


def test_admin_assigns_cameras(school, world, login):
    admin, bob = login("admin"), login("bob")
    headers = {"X-CSRFToken": csrf_of(admin)}
    path = f"/api/users/{school['bob']}/cameras/{school['room_a']}"
    assert bob.get(f"/api/sessions/{school['lesson_a']}").status_code == 404
    assert admin.put(path, headers=headers).get_json()["changed"] is True
    assert bob.get(f"/api/sessions/{school['lesson_a']}").status_code == 200
    users = {u["username"]: u for u in admin.get("/api/users").get_json()["users"]}
    assert sorted(users["bob"]["camera_ids"]) == sorted([school["room_a"], school["room_b"]])
    assert admin.delete(path, headers=headers).status_code == 200
    assert bob.get(f"/api/sessions/{school['lesson_a']}").status_code == 404
    assert admin.put(f"/api/users/999/cameras/{school['room_a']}", headers=headers).status_code == 404
    assert bob.put(path, headers={"X-CSRFToken": csrf_of(bob)}).status_code == 403
    assert {"assign", "unassign"} <= set(audit_actions(world))


def test_live_snapshot_of_a_running_lesson(world, login):
    cam = world.camera("lab")
    sid = world.lesson(cam, "Science", seconds=20, running=True)
    world.user("sam", cameras=(cam,))
    snap = login("sam").get(f"/api/cameras/{cam}/live").get_json()
    assert snap["session"]["id"] == sid and snap["bucket_s"] == 5 and len(snap["timeline"]) == 4
    assert snap["frame"]["faces"] == 3 and snap["frame"]["frame_index"] == 39
    assert abs(sum(snap["frame"]["distribution"].values()) - 1) < 0.01
    cams = login("sam").get("/api/cameras").get_json()["cameras"]
    assert cams[0]["mood"]["label"] in snap["frame"]["distribution"]


@pytest.mark.skipif(
    importlib.util.find_spec("monitor.reports") is None, reason="monitor.reports not installed"
)
def test_export_streams_an_attachment_and_is_audited(school, world, login):
    alice = login("alice")
    resp = alice.get(f"/sessions/{school['lesson_a']}/export.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert len(resp.get_data()) > 100
    assert "export" in audit_actions(world)
    assert alice.get(f"/sessions/{school['lesson_b']}/export.csv").status_code == 404


def test_no_route_answers_500_to_junk(school, login):
    admin = login("admin")
    junk = ["'", "%27%22", "..%2f..%2fetc", "-1", "1e9", "NaN", "9" * 40, "%F0%9F%98%80", "<script>"]
    for j in junk:
        for path in (
            f"/api/sessions/{j}",
            f"/api/sessions?camera_id={j}",
            f"/api/sessions?from={j}",
            f"/api/sessions/{school['lesson_a']}/timeline?bucket={j}",
            f"/api/sessions/{school['lesson_a']}/tracks/1/timeline?bucket={j}",
            f"/sessions?camera_id={j}&from={j}",
        ):
            resp = admin.get(path)
            assert resp.status_code < 500, (path, resp.status_code)


@pytest.mark.parametrize("class_size", [26, None])
def test_session_summary_gives_the_heads_up_share_of_readable_heads_with_its_base(
    world, school, login, class_size
):
    from sqlalchemy import text, update

    from monitor.store.schema import ClassSession

    sid = school["lesson_a"]
    with world.Session.begin() as db:
        db.execute(
            update(ClassSession)
            .where(ClassSession.id == sid)
            .values(attention_basis="readable", class_size=class_size)
        )
        # per frame: 5 heads up, 3 down, 2 away and 4 that could not be read
        db.execute(
            text(
                "UPDATE session_rollups SET up_heads = frames * 5, down_heads = frames * 3, "
                "away_heads = frames * 2, unknown_heads = frames * 4 WHERE session_id = :s"
            ),
            {"s": sid},
        )
    summary = login("alice").get(f"/api/sessions/{sid}").get_json()["summary"]
    text_ = "5 of 10 readable heads up; 4 not readable"
    assert summary["heads_up"] == {
        "up": 0.5, "down": 0.3, "away": 0.2,
        "up_per_frame": 5.0, "readable_per_frame": 10.0, "unknown_per_frame": 4.0,
        "text": text_, "class_size": class_size, "of": text_,
    }  # fmt: skip
    assert summary["attention"] == 0.5  # one meaning of attention: the heads-up share
    assert any(
        line.startswith("Heads up: 50% of the readable heads (on average " + text_)
        for line in summary["lines"]
    )
    buckets = login("alice").get(f"/api/sessions/{sid}/timeline").get_json()["buckets"]
    assert buckets and all(b["heads_up"] == 0.5 and b["attention"] == 0.5 for b in buckets)
    assert all(b["heads"]["unknown_per_frame"] == 4.0 for b in buckets)


def test_a_lesson_whose_heads_could_not_be_read_has_no_heads_up_share_never_0(world, school, login):
    from sqlalchemy import text, update

    from monitor.store.schema import ClassSession

    sid = school["lesson_a"]
    with world.Session.begin() as db:
        db.execute(update(ClassSession).where(ClassSession.id == sid).values(attention_basis="readable"))
        db.execute(
            text(
                "UPDATE session_rollups SET unknown_heads = faces, up_heads = 0, down_heads = 0, "
                "away_heads = 0, heads_up_sum = 0 WHERE session_id = :s"
            ),
            {"s": sid},
        )
    summary = login("alice").get(f"/api/sessions/{sid}").get_json()["summary"]
    assert summary["attention"] is None and summary["heads_up"]["up"] is None
    assert any(line.startswith("Heads up: not readable") for line in summary["lines"])
