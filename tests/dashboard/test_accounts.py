"""Accounts and logins: server-side logout, password change and disable end sessions, the idle timeout,
a login throttle that slows guessing without locking out the owner, case-free user names, weak passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from dashboard.security import DEVICE_COOKIE, LoginThrottle
from monitor.cli import cli
from monitor.store import make_engine, session_factory
from monitor.store.migrate import upgrade
from monitor.store.schema import AuditLog, User, UserSession, utcnow
from tests.dashboard.helpers import PASSWORD, csrf_of, log_in

NEW_PASSWORD = "a different horse 7"


def run(db_url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--db", db_url, *args], input=input, catch_exceptions=False)


def copy_of(app, client):
    """A second client carrying the same session cookie, as a thief who copied it would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_logout_ends_the_session_for_a_copied_cookie(app, school, login):
    alice = login("alice")
    thief = copy_of(app, alice)
    assert thief.get("/api/me").status_code == 200
    assert thief.get(f"/sessions/{school['lesson_a']}/export.csv").status_code == 200
    assert alice.post("/logout", data={"csrf_token": csrf_of(alice)}).status_code == 302
    assert thief.get("/api/me").status_code == 401
    export = thief.get(f"/sessions/{school['lesson_a']}/export.csv")
    assert export.status_code == 302 and "/login" in export.headers["Location"]
    assert alice.get("/api/me").status_code == 401


def test_each_login_is_its_own_session(app, school, login, world):
    first, second = login("alice"), login("alice")
    first.post("/logout", data={"csrf_token": csrf_of(first)})
    assert first.get("/api/me").status_code == 401
    assert second.get("/api/me").status_code == 200  # logging out on one computer keeps the other
    with world.Session() as db:
        assert db.scalar(select(UserSession.user_id)) == school["alice"]
        assert len(db.scalars(select(UserSession)).all()) == 1


def test_cli_password_change_ends_every_session(app, school, login, world):
    alice = login("alice")
    thief = copy_of(app, alice)
    result = run(world.url, "user", "passwd", "ALICE", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0 and "1 login(s) ended" in result.output, result.output
    assert alice.get("/api/me").status_code == 401 and thief.get("/api/me").status_code == 401
    assert log_in(app.test_client(), "alice").status_code == 401
    assert log_in(app.test_client(), "alice", NEW_PASSWORD).status_code == 302


def test_cli_disable_ends_sessions_and_refuses_logins_until_enabled(app, school, login, world):
    alice = login("alice")
    result = run(world.url, "user", "disable", "alice")
    assert result.exit_code == 0 and "disabled" in result.output
    assert alice.get("/api/me").status_code == 401
    refused = log_in(app.test_client(), "alice")
    assert refused.status_code == 403 and b"disabled" in refused.data
    assert "alice\tteacher (disabled)" in run(world.url, "user", "list").output
    assert run(world.url, "user", "enable", "alice").exit_code == 0
    assert log_in(app.test_client(), "alice").status_code == 302
    missing = run(world.url, "user", "disable", "nobody")
    assert missing.exit_code != 0 and "no user 'nobody'" in missing.output


def test_admin_page_sets_passwords_and_disables_accounts(app, school, login, world):
    admin, alice = login("admin"), login("alice")

    def post(**form):
        return admin.post("/admin/users", data={"csrf_token": csrf_of(admin), **form}, follow_redirects=True)

    weak = post(action="passwd", user_id=school["alice"], password="alice", password2="alice")
    assert b"Password not changed: weak password" in weak.data
    assert alice.get("/api/me").status_code == 200
    differ = post(action="passwd", user_id=school["alice"], password=NEW_PASSWORD, password2="x")
    assert b"the two passwords differ" in differ.data
    done = post(action="passwd", user_id=school["alice"], password=NEW_PASSWORD, password2=NEW_PASSWORD)
    assert done.status_code == 200 and b"Password of alice changed" in done.data
    assert alice.get("/api/me").status_code == 401
    assert log_in(app.test_client(), "alice", NEW_PASSWORD).status_code == 302

    bob = login("bob")
    assert b"bob disabled" in post(action="disable", user_id=school["bob"]).data
    assert bob.get("/api/me").status_code == 401
    assert b"cannot disable" in post(action="disable", user_id=school["admin"]).data
    assert b"bob enabled" in post(action="enable", user_id=school["bob"]).data
    assert post(action="disable", user_id="²").status_code == 400
    assert post(action="disable", user_id="999").status_code == 404
    # Changing one's own password keeps this login and ends the others.
    other_admin = login("admin")
    post(action="passwd", user_id=school["admin"], password=NEW_PASSWORD, password2=NEW_PASSWORD)
    assert admin.get("/api/me").status_code == 200 and other_admin.get("/api/me").status_code == 401
    with world.Session() as db:
        actions = db.scalars(select(AuditLog.action).where(AuditLog.actor == "admin")).all()
    assert {"user_passwd", "user_disable", "user_enable"} <= set(actions)


def test_a_teacher_cannot_use_the_account_actions(app, school, login):
    alice = login("alice")
    resp = alice.post(
        "/admin/users", data={"csrf_token": csrf_of(alice), "action": "disable", "user_id": school["bob"]}
    )
    assert resp.status_code == 403


def test_idle_sessions_expire_and_last_seen_is_written_at_most_once_a_minute(app, school, login, world):
    alice = login("alice")

    def last_seen():
        with world.Session() as db:
            return db.scalar(select(UserSession.last_seen))

    first = last_seen()
    assert alice.get("/api/me").status_code == 200 and last_seen() == first  # not written on every request
    with world.Session.begin() as db:
        db.execute(update(UserSession).values(last_seen=utcnow() - timedelta(minutes=5)))
    assert alice.get("/api/me").status_code == 200 and last_seen() > first  # refreshed after a minute
    with world.Session.begin() as db:  # the default idle timeout is 10 hours: a school day
        db.execute(update(UserSession).values(last_seen=utcnow() - timedelta(hours=10, minutes=1)))
    assert alice.get("/api/me").status_code == 401
    with world.Session() as db:
        assert db.scalars(select(UserSession)).all() == []


def test_the_idle_timeout_is_a_setting(world, school):
    from dashboard import create_app

    app = create_app({"db_url": world.url, "secret_key": "k", "session_idle_hours": 0.5, "TESTING": True})
    client = app.test_client()
    assert log_in(client, "alice").status_code == 302
    with world.Session.begin() as db:
        db.execute(update(UserSession).values(last_seen=utcnow() - timedelta(minutes=31)))
    assert client.get("/api/me").status_code == 401
    with pytest.raises(ValueError, match="session_idle_hours"):
        create_app({"db_url": world.url, "secret_key": "k", "session_idle_hours": 0})
    app.extensions["monitor_db"].dispose()


def test_an_open_socket_is_refused_once_its_login_has_ended(app, school, login):
    alice = login("alice")
    sio = app.extensions["socketio"].test_client(app, flask_test_client=alice)
    assert sio.is_connected()
    assert sio.emit("watch", {"camera_id": school["room_a"]}, callback=True)["ok"]
    alice.post("/logout", data={"csrf_token": csrf_of(alice)})
    assert sio.emit("watch", {"camera_id": school["room_a"]}, callback=True) == {
        "ok": False,
        "error": "log in first",
    }
    sio.disconnect()


# The case: five wrong passwords for one account from the school's single NAT address.


def test_failures_for_one_account_lock_out_neither_its_owner_nor_colleagues(app, school):
    attacker = app.test_client()
    for _ in range(5):
        assert log_in(attacker, "alice", "guess").status_code == 401
    assert log_in(app.test_client(), "alice").status_code == 302  # the owner, same address, new browser
    assert log_in(app.test_client(), "bob").status_code == 302  # a colleague behind the same address


def test_a_browser_that_logged_in_before_is_never_slowed_by_an_attacker(app, school):
    owner = app.test_client()
    assert log_in(owner, "alice").status_code == 302
    assert owner.get_cookie(DEVICE_COOKIE) is not None
    owner.post("/logout", data={"csrf_token": csrf_of(owner)})
    attacker = app.test_client()
    statuses = [log_in(attacker, "alice", f"guess {i}").status_code for i in range(14)]
    assert statuses[:10] == [401] * 10 and 429 in statuses[10:]  # slowed after the free attempts
    blocked = log_in(attacker, "alice")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert log_in(owner, "alice").status_code == 302  # the owner's own browser still gets in
    assert log_in(app.test_client(), "bob").status_code == 302
    # A device cookie is only good for the account it was issued for.
    other = app.test_client()
    other.set_cookie(DEVICE_COOKIE, owner.get_cookie(DEVICE_COOKIE).value)
    assert log_in(other, "bob").status_code == 302


def test_throttle_delays_double_up_to_the_maximum_and_are_forgotten():
    """The rule in LoginThrottle's docstring, with the clock given explicitly."""
    throttle = LoginThrottle(free=3, window_s=3600, max_delay_s=60)
    keys = throttle.keys("alice", "10.0.0.1", None)
    assert set(keys) == {"pair:alice|10.0.0.1", "account:alice", "address:10.0.0.1"}
    for t in range(3):
        assert throttle.retry_after(keys, now=t) == 0
        throttle.failed(keys, now=t)
    now = 2.0
    assert throttle.retry_after(keys, now=now) == 1
    # Another account from the same address, this account from elsewhere and a device are not slowed.
    assert throttle.retry_after(throttle.keys("bob", "10.0.0.1", None), now=now) == 0
    assert throttle.retry_after(throttle.keys("alice", "10.0.0.2", None), now=now) == 0
    assert throttle.retry_after(throttle.keys("alice", "10.0.0.1", "dev1"), now=now) == 0
    waits = []
    for _ in range(9):
        wait = throttle.retry_after(keys, now=now)
        waits.append(wait)
        now += wait
        assert throttle.retry_after(keys, now=now) == 0
        throttle.failed(keys, now=now)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    # The account-wide ceiling (4 x free) catches guessing spread over many addresses.
    spread = LoginThrottle(free=3, window_s=3600, max_delay_s=60)
    for i in range(12):
        spread.failed(spread.keys("alice", f"10.1.0.{i}", None), now=0)
    assert spread.retry_after(spread.keys("alice", "10.1.0.99", None), now=0) > 0
    later = now + 3601
    throttle.failed(keys, now=later)  # a failure after a quiet hour starts the count again
    assert throttle.retry_after(keys, now=later) == 0


# User names and passwords.


def test_user_names_are_unique_regardless_of_case_in_the_database(any_db_url: str):
    engine = make_engine(any_db_url, writer=True)
    Session = session_factory(engine)
    with Session.begin() as db:
        db.add(User(username="Alice", password_hash="x", is_admin=False))
    with pytest.raises(IntegrityError), Session.begin() as db:
        db.add(User(username="aLICE", password_hash="x", is_admin=False))
    with Session() as db:
        assert db.scalars(select(User.username_key)).all() == ["alice"]
    engine.dispose()


def test_login_and_cli_ignore_the_case_of_user_names(app, school, world):
    assert log_in(app.test_client(), "ALICE").status_code == 302
    dup = run(world.url, "user", "add", "Alice", "--password-stdin", input="yet another password\n")
    assert dup.exit_code != 0 and "exists already" in dup.output
    assert run(world.url, "user", "assign", "BOB", "room-a").exit_code == 0


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaaaaa", "QwertyUiop", "password123", "longername"])
def test_cli_rejects_weak_passwords_with_one_line(world, password):
    result = run(world.url, "user", "add", "longername", "--password-stdin", input=password + "\n")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: weak password: passwords need at least 10 characters, not all the same, "
        "not the user name and not a common password"
    ]
    passwd = run(world.url, "user", "passwd", "nobody", "--password-stdin", input=password + "\n")
    assert passwd.exit_code == 1 and "no user" in passwd.output


def test_upgrade_fills_the_new_columns_of_existing_users(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = make_engine(url, writer=True)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, is_admin, created_at) "
                "VALUES ('Ärger', 'x', 0, '2025-01-01 00:00:00')"
            )
        )
    upgrade(url)
    with session_factory(engine)() as db:
        user = db.scalars(select(User)).one()
        assert (user.username_key, user.is_active) == ("ärger", True)
    engine.dispose()


def test_password_for_log_in_helper_is_strong():
    from dashboard.accounts import password_problem

    assert password_problem(PASSWORD, "alice") is None
