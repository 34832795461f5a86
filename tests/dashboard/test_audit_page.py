"""The audit-log page: admins only, newest first, school time zone, filters by actor and kind, pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from monitor.store.schema import AuditLog
from tests.dashboard.helpers import csrf_of

PAGE = "/admin/audit"


def rows_of(html: bytes) -> list[str]:
    """The text of each row of the audit table, tags stripped."""
    body = html.decode().split('<table class="list" id="audit">', 1)[-1].split("</table>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in body.split("<tr>")[2:]]


def test_teachers_are_refused(app, school, login):
    alice = login("alice")
    assert alice.get(PAGE).status_code == 403
    assert b'href="/admin/audit"' not in alice.get("/cameras").data


def test_admin_sees_real_changes_newest_first_in_school_time(app, school, login, world):
    world.setting("timezone", "Asia/Shanghai")
    with world.Session.begin() as db:
        db.add(
            AuditLog(
                ts=datetime(2026, 3, 10, 2, 5, tzinfo=UTC),
                actor="cli",
                action="camera",
                detail='{"camera": "room-a", "class_size": 30}',
            )
        )
    admin = login("admin")
    csrf = csrf_of(admin)
    admin.post(
        "/admin/users",
        data={
            "action": "passwd",
            "user_id": school["bob"],
            "password": "a new horse 77",
            "password2": "a new horse 77",
            "csrf_token": csrf,
        },
    )
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert b'href="/admin/audit"' in admin.get("/settings").data
    rows = rows_of(page.data)
    assert "user_passwd" in rows[0] and "user=bob" in rows[0] and "admin" in rows[0]  # newest first
    assert "login" in rows[1]
    assert "10:05" in rows[-1] and "2026" in rows[-1] and "room-a" in rows[-1]  # 02:05 UTC in Shanghai


def test_filters_by_actor_and_kind_and_pages(app, school, login, world):
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with world.Session.begin() as db:
        for i in range(60):
            db.add(
                AuditLog(ts=start + timedelta(minutes=i), actor="carol", action="settings", detail=f"n={i}")
            )
        db.add(AuditLog(ts=start, actor="dave", action="camera_add", detail='{"camera": "lab"}'))
    admin = login("admin")
    first = rows_of(admin.get(PAGE, query_string={"actor": "carol"}).data)
    assert len(first) == 50 and "n=59" in first[0] and "n=10" in first[-1]
    second = admin.get(PAGE, query_string={"actor": "carol", "page": 2})
    assert [r.split("n=")[-1] for r in rows_of(second.data)] == [str(i) for i in range(9, -1, -1)]
    assert b"Page 2 of 2 (60 entries)" in second.data
    cams = rows_of(admin.get(PAGE, query_string={"kind": "cameras"}).data)
    assert len(cams) == 1 and "dave" in cams[0] and "lab" in cams[0]
    assert rows_of(admin.get(PAGE, query_string={"kind": "cameras", "actor": "carol"}).data) == []
    logins = rows_of(admin.get(PAGE, query_string={"kind": "logins"}).data)
    assert logins and all("login" in r for r in logins)


def test_bad_filters_answer_400(app, school, login):
    admin = login("admin")
    for query in ({"kind": "nonsense"}, {"page": "0"}, {"page": "x"}, {"page": "99999999999"}):
        resp = admin.get(PAGE, query_string=query)
        assert resp.status_code == 400, query
