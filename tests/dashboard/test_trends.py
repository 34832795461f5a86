"""Comparing lessons: the sessions list's figures and filters, and /api/trends (real app, real database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from monitor.store.schema import ClassSession, LessonStats
from monitor.store.writer import FrameRecord, ObservationWriter
from tests.dashboard.helpers import World, csrf_of

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def lesson(
    world: World,
    camera_id: int,
    label: str,
    start: datetime,
    *,
    heads_up: float = 0.8,
    engagement: float = 0.6,
    people: int = 3,
    seconds: int = 120,
    mode: str = "attention",
    running: bool = False,
) -> int:
    """A lesson stored through the worker's writer, with a constant heads-up ratio and engagement."""
    with world.Session.begin() as db:
        cs = ClassSession(
            camera_id=camera_id,
            label=label,
            started_at=start,
            ended_at=None if running else start + timedelta(seconds=seconds),
            mode=mode,
            attention_basis="in_view",
        )
        db.add(cs)
        db.flush()
        sid = cs.id
    writer = ObservationWriter(world.engine, sid, camera_id, interval_s=3600)
    rng = np.random.default_rng(sid)
    ids = np.arange(1, people + 1)
    for i in range(seconds * 2):
        writer.add(
            FrameRecord(
                ts=start + timedelta(seconds=i / 2),
                frame_index=i,
                track_ids=ids,
                boxes=np.tile([10, 20, 40, 40], (people, 1)) + ids[:, None] * 50,
                attention=np.full(people, 0.7),
                probs=rng.dirichlet(np.ones(7), people) if mode == "emotion" and people else None,
                engagement=engagement,
                heads_up=heads_up,
                heads_down=1 - heads_up,
            )
        )
    writer.close()
    return sid


@pytest.fixture
def term(world: World) -> dict:
    """Room A: Maths 7B over two weeks (and another class); room B: a lesson alice may not see."""
    room_a, room_b = world.camera("room-a"), world.camera("room-b")
    ids = {
        "w1_mon": lesson(world, room_a, "Maths 7B · Mon period 1", MONDAY, heads_up=0.8, engagement=0.6),
        "w1_wed": lesson(world, room_a, "Maths 7B", MONDAY + timedelta(days=2), heads_up=0.6, engagement=0.4),
        "w2_mon": lesson(world, room_a, "Maths 7B · Mon period 1", MONDAY + timedelta(days=7), heads_up=0.5),
        "other": lesson(world, room_a, "Maths 7BX", MONDAY + timedelta(days=1), heads_up=0.1),
        "empty": lesson(world, room_a, "Maths 7B", MONDAY + timedelta(days=8), people=0),
        "room_b": lesson(world, room_b, "Maths 7B", MONDAY + timedelta(days=3), heads_up=0.9),
    }
    world.user("alice", cameras=(room_a,))
    world.user("admin", admin=True)
    return {"room_a": room_a, "room_b": room_b, **ids}


def test_camera_trend_has_one_point_per_lesson_and_week_over_week_change(term, login) -> None:
    resp = login("alice").get(f"/api/trends?camera={term['room_a']}")
    assert resp.status_code == 200
    body = resp.get_json()
    points = body["points"]
    assert [p["session_id"] for p in points] == [
        term["w1_mon"],
        term["other"],
        term["w1_wed"],
        term["w2_mon"],
        term["empty"],
    ]
    first = points[0]
    assert first["attention"] == pytest.approx(0.8)
    assert first["engagement"] == pytest.approx(0.6)
    assert (first["people_typical"], first["people_peak"]) == (3.0, 3.0)
    assert first["duration_s"] == 120.0
    assert first["started_at"] == "2026-11-02T09:00:00.000Z" and first["camera_id"] == term["room_a"]
    assert first["markers"] == []
    # an empty lesson says why instead of 0%
    empty = points[-1]
    assert empty["attention"] is None and empty["engagement"] is None
    assert empty["note"] == "no faces detected"
    weeks = body["weekly"]
    assert [w["week"] for w in weeks] == ["2026-11-02", "2026-11-09"]
    assert weeks[0]["lessons"] == 3 and weeks[1]["lessons"] == 2
    # frame-weighted: three 2-minute lessons at 0.8, 0.1 and 0.6
    assert weeks[0]["attention"] == pytest.approx(0.5)
    assert weeks[1]["attention"] == pytest.approx(0.5)  # the empty lesson has no attention to weigh
    assert weeks[1]["change_attention"] == pytest.approx(0.0)
    assert weeks[0]["change_attention"] is None and weeks[1]["previous_week"] == "2026-11-02"


def test_class_label_trend_takes_timetable_periods_and_only_the_users_cameras(term, login) -> None:
    alice = login("alice").get("/api/trends?label=Maths 7B").get_json()
    ids = [p["session_id"] for p in alice["points"]]
    assert ids == [term["w1_mon"], term["w1_wed"], term["w2_mon"], term["empty"]]  # not 7BX, not room B
    admin = login("admin").get("/api/trends?label=Maths 7B").get_json()
    assert term["room_b"] in [p["session_id"] for p in admin["points"]]
    weeks = alice["weekly"]
    assert weeks[1]["change_attention"] == pytest.approx(0.5 - 0.7)


def test_trend_dates_are_school_days(term, world, login) -> None:
    world.setting("timezone", "Pacific/Auckland")  # UTC+13 in November: 09:00 UTC Monday is Monday 22:00
    client = login("alice")
    body = client.get(f"/api/trends?camera={term['room_a']}&from=2026-11-03&to=2026-11-03").get_json()
    # Tue 3rd local = Mon 2nd 11:00 UTC .. Tue 3rd 11:00 UTC: the "other" lesson (Tue 09:00 UTC = Tue 22:00)
    assert [p["session_id"] for p in body["points"]] == [term["other"]]
    assert body["zone"] == "Pacific/Auckland"


def test_a_teacher_cannot_see_another_cameras_trend(term, login) -> None:
    resp = login("alice").get(f"/api/trends?camera={term['room_b']}")
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "give camera=ID or label=TEXT"),
        ("camera=abc", "camera must be a whole number"),
        ("camera=0", "camera must be between"),
        ("label=%20%20", "label must not be empty"),
        ("label=" + "x" * 201, "at most 200 characters"),
        ("label=Maths&from=3/11/2026", "from must be a date like"),
        ("label=Maths&from=2026-11-10&to=2026-11-09", "'to' must not be before 'from'"),
        ("label=Maths&to=9999-12-31", "out of range"),
    ],
)
def test_bad_trend_parameters_answer_400_with_one_clear_message(term, login, query, message) -> None:
    resp = login("alice").get(f"/api/trends?{query}")
    assert resp.status_code == 400
    assert message in resp.get_json()["message"]


def test_no_trend_or_list_request_answers_500_to_junk(term, login) -> None:
    admin = login("admin")
    junk = [
        "'",
        "%27%22",
        "..%2f..%2fetc",
        "-1",
        "1e9",
        "NaN",
        "9" * 40,
        "%F0%9F%98%80",
        "<script>",
        "%00",
        "%25_",
    ]
    for j in junk:
        for path in (
            f"/api/trends?camera={j}",
            f"/api/trends?label={j}",
            f"/api/trends?label=Maths&from={j}&to={j}",
            f"/trends?camera={j}&label={j}&from={j}",
            f"/sessions?camera_id={j}&label={j}&from={j}&to={j}&page={j}",
            f"/api/sessions/{j}/markers",
            f"/api/sessions/{term['w1_mon']}/markers/{j}",
        ):
            resp = admin.get(path)
            assert resp.status_code < 500, (path, resp.status_code)
    assert admin.get("/api/trends?label=%25_").get_json()["points"] == []  # no wildcards
    assert admin.get("/api/trends?label=a%00b").status_code == 400
    assert admin.get("/sessions?page=0").status_code == 400


def test_attention_only_mode_carries_no_emotion_and_withholds_expression_based_engagement(
    world, login
) -> None:
    room = world.camera("room-a")
    with_emotions = lesson(world, room, "Art", MONDAY, mode="emotion", engagement=0.7)
    attention_only = lesson(world, room, "Art", MONDAY + timedelta(days=1), engagement=0.5)
    world.user("admin", admin=True)
    client = login("admin")
    before = client.get("/api/trends?label=Art").get_json()["points"]
    assert before[0]["engagement"] == pytest.approx(0.7)
    world.setting("mode", "attention")
    body = client.get("/api/trends?label=Art")
    text = body.get_data(as_text=True)
    assert "emotion" not in text and "dominant" not in text
    points = {p["session_id"]: p for p in body.get_json()["points"]}
    assert points[with_emotions]["engagement"] is None
    assert "attention-only" in points[with_emotions]["note"]
    assert points[with_emotions]["attention"] == pytest.approx(0.8)
    assert points[attention_only]["engagement"] == pytest.approx(0.5)
    page = client.get("/sessions").get_data(as_text=True)
    assert "hidden in attention-only mode" in page


def test_ended_lessons_figures_are_kept_and_a_running_lesson_is_computed_fresh(world, login) -> None:
    room = world.camera("room-a")
    ended = lesson(world, room, "Music", MONDAY)
    running = lesson(
        world, room, "Music", datetime.now(UTC) - timedelta(seconds=60), seconds=30, running=True
    )
    world.user("admin", admin=True)
    client = login("admin")
    first = client.get("/api/trends?label=Music").get_json()
    with world.Session() as db:
        kept = db.scalars(select(LessonStats.session_id)).all()
    assert kept == [ended]  # not the running one
    second = client.get("/api/trends?label=Music").get_json()
    assert first["points"][0] == second["points"][0]  # read back from lesson_stats
    live = second["points"][-1]
    assert live["session_id"] == running and live["in_progress"] and live["ended_at"] is None


def test_markers_come_with_the_trend_points(term, login) -> None:
    client = login("alice")
    resp = client.post(
        f"/api/sessions/{term['w1_wed']}/markers",
        json={"text": "quiz", "at": "2026-11-04T09:01:00Z"},
        headers={"X-CSRFToken": csrf_of(client)},
    )
    assert resp.status_code == 201
    points = client.get("/api/trends?label=Maths 7B").get_json()["points"]
    marked = next(p for p in points if p["session_id"] == term["w1_wed"])
    assert [(m["at"], m["text"], m["author"]) for m in marked["markers"]] == [
        ("2026-11-04T09:01:00.000Z", "quiz", "alice")
    ]


# ---- the sessions list --------------------------------------------------------------------------------


def test_sessions_list_compares_lessons(term, login) -> None:
    page = login("alice").get("/sessions").get_data(as_text=True)
    assert "80%" in page and "60%" in page  # heads-up ratios of two lessons
    assert "typical 3, peak 3" in page
    assert "no faces detected" in page
    assert "Faces seen" not in page
    assert page.count('<svg class="spark"') == 4  # the empty lesson has no line
    assert "Mon 02 Nov 2026 09:00" in page and "2 min" in page
    assert "room-b" not in page  # alice's cameras only


def test_sessions_list_filters_by_class_label_and_school_dates(term, world, login) -> None:
    client = login("alice")
    page = client.get("/sessions?label=Maths 7BX").get_data(as_text=True)
    assert page.count('data-session="') == 1 and f'data-session="{term["other"]}"' in page
    world.setting("timezone", "Pacific/Auckland")
    page = client.get("/sessions?from=2026-11-03&to=2026-11-03").get_data(as_text=True)
    assert page.count('data-session="') == 1 and f'data-session="{term["other"]}"' in page
    assert "Tue 03 Nov 2026 22:00" in page
    assert client.get("/sessions?from=yesterday").status_code == 400
    page = client.get("/sessions?label=Nothing").get_data(as_text=True)
    assert "No lessons match these filters." in page


def test_sessions_list_pages_through_many_lessons(world, login) -> None:
    room = world.camera("room-a")
    with world.Session.begin() as db:
        for i in range(55):
            db.add(ClassSession(camera_id=room, label=f"L{i}", started_at=MONDAY + timedelta(hours=i)))
    world.user("admin", admin=True)
    client = login("admin")
    first = client.get("/sessions").get_data(as_text=True)
    assert first.count('data-session="') == 50 and "Older →" in first
    assert "no video stored" in first
    second = client.get("/sessions?page=2").get_data(as_text=True)
    assert second.count('data-session="') == 5 and "← Newer" in second and "Older →" not in second
    with world.Session() as db:
        assert db.scalar(select(func.count()).select_from(LessonStats)) == 0  # still open: never kept


def test_a_lesson_in_progress_stays_out_of_the_weekly_change(world, login) -> None:
    """A 2-minute lesson still running at a low heads-up share must not make this week '▼ -7 pts'."""
    room = world.camera("room-a")
    began = datetime.now(UTC) - timedelta(seconds=150)
    monday = datetime(began.year, began.month, began.day, tzinfo=UTC) - timedelta(days=began.weekday())
    last_week = lesson(world, room, "Maths 7B", monday - timedelta(days=6), heads_up=0.8)
    this_week = lesson(world, room, "Maths 7B", monday, heads_up=0.8)
    running = lesson(world, room, "Maths 7B", began, heads_up=0.1, running=True)
    world.user("admin", admin=True)
    body = login("admin").get("/api/trends?label=Maths 7B").get_json()
    assert [p["session_id"] for p in body["points"]] == [last_week, this_week, running]  # still plotted
    weeks = body["weekly"]
    assert [(w["lessons"], w["in_progress"]) for w in weeks] == [(1, 0), (1, 1)]
    assert weeks[1]["attention"] == pytest.approx(0.8)
    assert weeks[1]["change_attention"] == pytest.approx(0.0)


def test_trends_open_on_the_teachers_own_class_for_the_last_four_weeks(term, world, login) -> None:
    alice = login("alice")
    opened = alice.get("/trends")
    assert opened.status_code == 302
    query = dict(pair.split("=", 1) for pair in opened.headers["Location"].split("?", 1)[1].split("&"))
    # the class of the latest lesson on alice's camera (room B's lessons are not hers)
    assert query["label"] == "Maths+7B"
    four_weeks = (datetime.now(UTC).date() - timedelta(days=27)).isoformat()
    assert query["from"] in (four_weeks, (datetime.now(UTC).date() - timedelta(days=26)).isoformat())
    page = alice.get(opened.headers["Location"])
    assert page.status_code == 200 and b'id="trend"' in page.data
    assert b'<option value="Maths 7B" selected' in page.data


def test_trends_open_on_the_teachers_camera_when_lessons_have_no_label(world, login) -> None:
    room = world.camera("room-c")
    world.user("carol", cameras=(room,))
    carol = login("carol")
    opened = carol.get("/trends")
    assert opened.status_code == 302 and f"camera={room}" in opened.headers["Location"]
    assert carol.get("/trends?camera=" + str(room)).status_code == 200


def test_trends_with_no_camera_still_say_what_to_choose(world, login) -> None:
    world.user("dora")
    page = login("dora").get("/trends")
    assert page.status_code == 200 and b"Choose a camera or a class" in page.data


# ---- up to four classes on one chart ------------------------------------------------------------------


def test_two_classes_overlay_as_one_series_each_equal_to_their_own_trend(term, world, login) -> None:
    physics = lesson(
        world, term["room_a"], "Physics 8A · Thu period 4", MONDAY + timedelta(days=3), heads_up=0.3
    )
    client = login("alice")
    body = client.get("/api/trends?label=Maths 7B&label=Physics 8A&label=Maths 7B").get_json()
    assert body["labels"] == ["Maths 7B", "Physics 8A"]  # each class once, in the order given
    assert [s["label"] for s in body["series"]] == ["Maths 7B", "Physics 8A"]
    assert "points" not in body and body["zone"] == "UTC"
    for series in body["series"]:
        alone = client.get(f"/api/trends?label={series['label']}").get_json()
        assert series["points"] == alone["points"] and series["weekly"] == alone["weekly"]
    maths, phys = body["series"]
    assert term["room_b"] not in [p["camera_id"] for p in maths["points"]]  # alice's cameras only
    assert [p["session_id"] for p in phys["points"]] == [physics]
    assert phys["points"][0]["attention"] == pytest.approx(0.3)
    on_room_b = client.get(f"/api/trends?camera={term['room_b']}&label=Maths 7B&label=Physics 8A")
    assert on_room_b.status_code == 404


def test_a_fifth_class_is_refused_with_one_clear_message(term, login) -> None:
    client = login("alice")
    four = "&".join(f"label=Class {n}" for n in range(4))
    assert client.get(f"/api/trends?{four}").status_code == 200
    resp = client.get(f"/api/trends?{four}&label=Class 4")
    assert resp.status_code == 400
    assert resp.get_json()["message"] == "compare at most 4 classes at once, not 5"
    assert client.get(f"/api/trends?{four}&label=%20").status_code == 400
    page = client.get(f"/trends?{four}&label=Class 4")  # the page shows what the API answers
    assert page.status_code == 200 and b"label=Class+4" in page.data
