"""'Change my password': every user (teacher or admin) changes their own password in the browser, with
the rules and the login revocation of ``user passwd``, CSRF, one message per refusal and an audit row."""

from __future__ import annotations

from sqlalchemy import select

from monitor.store.schema import AuditLog
from tests.dashboard.helpers import PASSWORD, csrf_of, log_in

NEW_PASSWORD = "a different horse 7"
PAGE = "/account/password"


def change(client, current: str, new: str, again: str | None = None, csrf: str | None = None):
    data = {"current_password": current, "password": new, "password2": new if again is None else again}
    data["csrf_token"] = csrf_of(client) if csrf is None else csrf
    return client.post(PAGE, data=data)


def test_teacher_changes_own_password_and_other_logins_end(app, school, login, world):
    alice, elsewhere = login("alice"), login("alice")
    page = alice.get(PAGE)
    assert page.status_code == 200 and b'name="current_password"' in page.data
    assert b'href="/account/password"' in alice.get("/cameras").data  # reachable from every page
    done = change(alice, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302
    assert b"other login(s) ended" in alice.get(PAGE).data
    assert alice.get("/api/me").status_code == 200  # this login stays
    assert elsewhere.get("/api/me").status_code == 401  # the other one ended
    assert log_in(app.test_client(), "alice").status_code == 401
    assert log_in(app.test_client(), "alice", NEW_PASSWORD).status_code == 302
    with world.Session() as db:
        row = db.scalars(select(AuditLog).where(AuditLog.action == "user_passwd")).one()
    assert row.actor == "alice" and "user=alice" in row.detail and "sessions_ended=1" in row.detail


def test_admin_changes_own_password_too(app, school, login):
    admin = login("admin")
    assert change(admin, PASSWORD, NEW_PASSWORD).status_code == 302
    assert log_in(app.test_client(), "admin", NEW_PASSWORD).status_code == 302


def test_each_bad_input_gets_one_message_and_a_4xx(app, school, login, world):
    alice = login("alice")
    cases = [
        (("wrong password 123", NEW_PASSWORD), 403, b"the current password is wrong"),
        ((PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x"), 400, b"the two new passwords differ"),
        ((PASSWORD, "short"), 400, b"weak password"),
        ((PASSWORD, "alice"), 400, b"weak password"),
        ((PASSWORD, PASSWORD), 400, b"same as the current one"),
    ]
    for args, status, message in cases:
        resp = change(alice, *args)
        assert resp.status_code == status, (args, resp.status_code)
        assert resp.data.count(b'class="flash error"') == 1 and message in resp.data, args
    assert change(alice, PASSWORD, NEW_PASSWORD, csrf="forged").status_code in (400, 403)
    assert log_in(app.test_client(), "alice").status_code == 302  # nothing changed
    assert alice.get("/api/me").status_code == 200


def test_anonymous_visitor_is_sent_to_login(app, school):
    resp = app.test_client().get(PAGE)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_guessing_the_current_password_is_slowed_like_logins(app, school, login):
    alice = login("alice")
    for _ in range(10):
        assert change(alice, "a wrong guess 12", NEW_PASSWORD).status_code == 403
    slowed = change(alice, PASSWORD, NEW_PASSWORD)  # even the right one waits its turn
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    assert b"Too many failed attempts" in slowed.data
    assert log_in(app.test_client(), "alice").status_code == 302  # the password did not change
