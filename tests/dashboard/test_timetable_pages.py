"""The timetable page: a week per camera and per class; admins edit periods, changes and holidays."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.store.schema import AuditLog
from monitor.store.timetables import import_timetables, period_rows, timetable_for
from tests.dashboard.helpers import csrf_of

SCHOOL = """
[[holidays]]
from = 2030-01-01
label = "New year"

[[cameras]]
name = "room-a"
timetable = [
  {day = "Mon", start = "09:00", end = "09:50", label = "Maths 7A"},
  {day = "Tue", start = "10:00", end = "10:50", label = "Maths 7A"},
]
changes = [{date = 2026-12-08, cancel = ["10:00"]}]

[[cameras]]
name = "room-b"
timetable = [{day = "Wed", start = "08:00", end = "08:45", label = "Maths 7A"},
             {day = "Wed", start = "09:00", end = "09:45", label = "History 8B"}]
"""


def seed(world) -> None:
    with world.Session.begin() as db:
        import_timetables(db, tomllib.loads(SCHOOL), actor="cli")


def test_a_week_per_camera_and_per_class(app, school, login, world) -> None:
    seed(world)
    admin = login("admin")
    page = admin.get(f"/timetable?camera={school['room_a']}&week=2026-12-07").data.decode()
    assert "09:00–09:50" in page and "Maths 7A" in page
    assert 'data-state="cancelled"' in page  # Tue 8 Dec 10:00 cancelled
    cls = admin.get("/timetable?class=Maths 7A&week=2026-12-07").data.decode()
    assert (
        cls.count('class="period on"') == 2
        and "room-b" in cls
        and "History 8B" not in cls.split("week-view")[1]
    )
    # a teacher sees her own camera only, and no edit forms
    alice = login("alice")
    assert alice.get(f"/timetable?camera={school['room_b']}").status_code == 404
    own = alice.get(f"/timetable?camera={school['room_a']}&week=2026-12-07").data.decode()
    assert "Maths 7A" in own and 'id="add-period"' not in own
    assert (
        alice.post(f"/admin/timetable/{school['room_a']}", data={"csrf_token": csrf_of(alice)}).status_code
        == 403
    )


def test_admin_adds_edits_and_deletes_with_audit_rows(app, school, login, world) -> None:
    seed(world)
    admin = login("admin")
    url = f"/admin/timetable/{school['room_a']}"
    csrf = csrf_of(admin)
    resp = admin.post(
        url,
        data={
            "csrf_token": csrf,
            "action": "add_period",
            "day": "4",
            "start": "11:00",
            "end": "11:45",
            "label": "Art 7A",
        },
    )
    assert resp.status_code == 303
    with world.Session() as db:
        tt = timetable_for(db, school["room_a"])
        assert tt.weekly[4][0].label == "Art 7A"
        period_id = next(p.id for p in period_rows(db, school["room_a"]) if p.label == "Art 7A")
    resp = admin.post(
        url,
        data={
            "csrf_token": csrf,
            "action": "edit_period",
            "period_id": str(period_id),
            "day": "4",
            "start": "12:00",
            "end": "12:45",
            "label": "Art 7A",
        },
    )
    assert resp.status_code == 303
    admin.post(
        url,
        data={
            "csrf_token": csrf,
            "action": "add_holiday",
            "first": "2026-12-24",
            "last": "2026-12-26",
            "label": "Christmas",
        },
    )
    admin.post(
        url,
        data={
            "csrf_token": csrf,
            "action": "add_change",
            "date": "2026-12-14",
            "kind": "cancel",
            "start": "09:00",
        },
    )
    with world.Session() as db:
        tt = timetable_for(db, school["room_a"])
        assert tt.weekly[4][0].start.hour == 12
        assert tt.day_periods(datetime(2026, 12, 25).date()) == []
        assert [s.start.hour for _, s in tt.day_periods(datetime(2026, 12, 14).date())] == []
        actions = db.scalars(select(AuditLog.detail).where(AuditLog.action == "timetable")).all()
    assert len(actions) == 4 and all('"camera": "room-a"' in a for a in actions)
    listed = admin.get("/admin/audit?kind=cameras").data.decode()  # the audit page lists them with cameras
    assert "Art 7A" in listed and "Christmas" in listed
    assert "Art 7A" not in admin.get("/admin/audit?kind=users").data.decode()
    resp = admin.post(url, data={"csrf_token": csrf, "action": "delete_period", "period_id": str(period_id)})
    assert resp.status_code == 303
    with world.Session() as db:
        assert 4 not in timetable_for(db, school["room_a"]).weekly


def test_bad_edits_answer_400_with_the_reason_and_store_nothing(app, school, login, world) -> None:
    seed(world)
    admin = login("admin")
    url = f"/admin/timetable/{school['room_a']}"
    csrf = csrf_of(admin)
    bad = [
        ({"action": "add_period", "day": "0", "start": "09:30", "end": "10:00", "label": "X"}, "overlaps"),
        ({"action": "add_period", "day": "0", "start": "25:00", "end": "26:00", "label": "X"}, "bad time"),
        ({"action": "add_period", "day": "0", "start": "12:00", "end": "11:00", "label": "X"}, "not after"),
        (
            {"action": "add_period", "day": "9", "start": "12:00", "end": "13:00", "label": "X"},
            "choose a day",
        ),
        (
            {"action": "add_period", "day": "1", "start": "12:00", "end": "13:00", "label": " "},
            "label must be",
        ),
        ({"action": "add_holiday", "first": "2026-12-24", "last": "2026-12-01"}, "before"),
        ({"action": "add_holiday", "first": "soon"}, "bad date"),
        (
            {"action": "add_change", "date": "2026-12-14", "kind": "cancel", "start": "11:00"},
            "no period starts",
        ),
        (
            {
                "action": "edit_period",
                "period_id": "999",
                "day": "1",
                "start": "12:00",
                "end": "13:00",
                "label": "X",
            },
            "no period 999",
        ),
    ]
    for form, why in bad:
        resp = admin.post(url, data={"csrf_token": csrf, **form})
        assert resp.status_code == 400, (form, resp.status_code)
        assert why in resp.data.decode(), (form, resp.data.decode()[:300])
    assert (
        admin.post(url, data={"csrf_token": csrf, "action": "delete_period", "period_id": "x"}).status_code
        == 400
    )
    assert admin.post(url, data={"csrf_token": csrf, "action": "nope"}).status_code == 400
    assert (
        admin.post("/admin/timetable/9999", data={"csrf_token": csrf, "action": "add_period"}).status_code
        == 404
    )
    assert admin.get("/timetable?week=someday").status_code == 400
    assert admin.get("/timetable?camera=abc").status_code == 400
    with world.Session() as db:
        assert sum(len(s) for s in timetable_for(db, school["room_a"]).weekly.values()) == 2
        assert db.scalar(select(AuditLog.id).where(AuditLog.action == "timetable")) is None


def test_camera_cards_say_next_period_and_idle_in_the_readers_language(app, school, login, world) -> None:
    world.setting("timezone", "UTC")
    soon = datetime.now(UTC) + timedelta(hours=1)
    if soon.date() != (soon + timedelta(minutes=30)).date():
        soon += timedelta(hours=1)
    day = soon.strftime("%a")
    with world.Session.begin() as db:
        import_timetables(
            db,
            tomllib.loads(
                f'[[cameras]]\nname = "room-a"\ntimetable = [{{day = "{day}", start = "{soon:%H}:00", '
                f'end = "{soon:%H}:30", label = "Maths 7A"}}]\n'
            ),
            actor="cli",
        )
    alice = login("alice")
    cams = alice.get("/api/cameras").get_json()["cameras"]
    tt = cams[0]["timetable"]
    assert tt["timetabled"] and tt["next"] == f"next: {day} period 1 {soon:%H}:00 · Maths 7A"
    page = alice.get("/cameras").data.decode()
    assert "no lesson now (timetabled)" in page and "none running" not in page
    assert f"next: {day} period 1 {soon:%H}:00 · Maths 7A" in page
    zh = alice.get("/api/cameras", headers={"Accept-Language": "zh-CN"}).get_json()["cameras"][0]["timetable"]
    week_zh = "周" + "一二三四五六日"[soon.weekday()]
    assert zh["next"] == f"下一节：{week_zh}第1节 {soon:%H}:00 · Maths 7A"
    assert zh["idle"] == "现在没有课（按课表）"
    live = alice.get(f"/api/cameras/{school['room_a']}/live").get_json()
    assert live["camera"]["timetable"]["next"] == tt["next"]
