"""Logging in and out: hashed passwords, cookie flags, CSRF, the rate limit, and no access without a login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard import create_app
from monitor.store.schema import AuditLog, User
from monitor.store.site_settings import DEFAULTS
from tests.dashboard.helpers import PASSWORD, csrf_of, log_in


@pytest.mark.parametrize(
    "path", ["/api/cameras", "/api/sessions", "/api/sessions/1/timeline", "/api/settings"]
)
def test_api_without_login_is_401_json(app, school, path):
    resp = app.test_client().get(path)
    assert resp.status_code == 401 and resp.get_json()["status"] == 401


@pytest.mark.parametrize(
    "path", ["/", "/cameras", "/sessions", "/sessions/1", "/settings", "/sessions/1/export.csv"]
)
def test_pages_without_login_redirect_to_login(app, school, path):
    resp = app.test_client().get(path)
    assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]


def test_login_sets_a_safe_cookie_and_is_audited(app, school, world):
    client = app.test_client()
    resp = log_in(client, "alice")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/cameras").status_code == 200
    with world.Session() as db:
        assert (
            db.scalars(select(User.password_hash).where(User.username == "alice")).one().startswith("scrypt:")
        )
        assert db.scalars(select(AuditLog).where(AuditLog.action == "login")).one().actor == "alice"


def test_wrong_password_and_unknown_user_are_refused(app, school):
    client = app.test_client()
    assert log_in(client, "alice", "wrong").status_code == 401
    assert log_in(client, "mallory").status_code == 401
    assert client.get("/api/cameras").status_code == 401


def test_login_needs_the_csrf_token(app, school):
    client = app.test_client()
    client.get("/login")
    resp = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert resp.status_code == 400


def test_repeated_failures_are_rate_limited(app, school):
    client = app.test_client()
    for _ in range(app.config["LOGIN_FAILURES_ALLOWED"]):
        assert log_in(client, "alice", "guess").status_code == 401
    blocked = log_in(client, "alice")  # even the right password waits now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_next_only_goes_to_this_site(app, school):
    client = app.test_client()
    client.get("/login")
    for target, expected in (
        ("/sessions", "/sessions"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
    ):
        resp = client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(client), "next": target},
        )
        assert resp.headers["Location"] == expected
        client.post("/logout", data={"csrf_token": csrf_of(client)})
        client.get("/login")


def test_logout_ends_the_session(app, school, login):
    client = login("alice")
    resp = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert resp.status_code == 302
    assert client.get("/api/cameras").status_code == 401


def test_teacher_cannot_open_settings(school, login):
    assert login("alice").get("/settings").status_code == 403


def test_admin_changes_privacy_in_the_settings_page(school, world, login):
    admin = login("admin")
    page = admin.get("/settings")
    assert page.status_code == 200 and b"Attention only" in page.data
    resp = admin.post(
        "/admin/settings",
        data={"csrf_token": csrf_of(admin), "mode": "attention", "retention_days": "14"},
    )
    assert resp.status_code == 302
    # The page only shows the settings: its forms post to the admin endpoints.
    assert (
        admin.post("/settings", data={"csrf_token": csrf_of(admin), "action": "privacy"}).status_code == 405
    )
    assert admin.get("/api/settings").get_json() == {
        **DEFAULTS,  # the mail settings too
        "mode": "attention",
        "class_only": False,
        "retention_days": 14,
        "timezone": "UTC",
        "locale": "en",
    }


def test_secret_key_is_kept_next_to_the_database(world, tmp_path):
    first = create_app({"db_url": world.url})
    second = create_app({"db_url": world.url})
    assert first.secret_key == second.secret_key
    assert (tmp_path / "monitor.db.secret").read_text().strip() == first.secret_key
    assert oct((tmp_path / "monitor.db.secret").stat().st_mode & 0o777) == "0o600"


def test_every_page_renders_for_a_teacher_and_an_admin(school, login):
    for name in ("alice", "admin"):
        client = login(name)
        for path in (
            "/cameras",
            "/sessions",
            f"/sessions/{school['lesson_a']}",
            f"/cameras/{school['room_a']}/live",
        ):
            resp = client.get(path)
            assert resp.status_code == 200, (name, path)
