"""Security headers on every response, pages that need no inline script or style, cookie flags, a private
database file."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard import create_app
from dashboard.security import DEVICE_COOKIE
from monitor.store import make_engine
from tests.dashboard.helpers import PASSWORD, csrf_of, log_in

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def assert_secure_headers(resp) -> None:
    csp = resp.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert "'self'" in directives["connect-src"]
    assert "unsafe" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_every_kind_of_response_carries_the_headers(app, school, login):
    anon = app.test_client()
    alice = login("alice")
    responses = [
        anon.get("/login"),
        anon.get("/api/cameras"),  # 401 JSON
        anon.get("/cameras"),  # redirect
        anon.get("/static/style.css"),
        alice.get("/cameras"),
        alice.get(f"/sessions/{school['lesson_a']}"),
        alice.get(f"/sessions/{school['lesson_a']}/export.csv"),
        alice.get("/api/me"),
        alice.get("/no-such-page"),
        alice.get(f"/sessions/{school['lesson_b']}"),  # another teacher's: 404
    ]
    assert [r.status_code for r in responses] == [200, 401, 302, 200, 200, 200, 200, 200, 404, 404]
    for resp in responses:
        assert_secure_headers(resp)
    assert responses[4].headers["Cache-Control"] == "no-store"  # pages are not kept on shared computers


def test_the_live_socket_host_is_allowed_and_a_strange_host_header_is_not_echoed(app, school):
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "ws://localhost wss://localhost" in csp
    odd = app.test_client().get("/login", headers={"Host": "evil;script-src *"})
    assert "evil" not in odd.headers["Content-Security-Policy"]


def test_templates_have_no_inline_script_handlers_or_styles():
    # A JSON data block (type="application/json") is never executed, so the CSP allows it; code is not.
    inline_script = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    style = re.compile(r"<style\b|\sstyle\s*=", re.I)
    templates = sorted((DASHBOARD / "templates").glob("*.html"))
    assert templates
    for path in templates:
        html = path.read_text()
        for pattern in (inline_script, handler, style, re.compile(r"javascript:", re.I)):
            assert not pattern.search(html), f"{path.name}: {pattern.pattern}"


def test_scripts_set_no_style_attributes_and_run_no_strings():
    for path in sorted((DASHBOARD / "static" / "js").glob("*.js")):
        js = path.read_text()
        for bad in ('setAttribute("style"', "setAttribute('style'", "eval(", "new Function", "style="):
            assert bad not in js, f"{path.name}: {bad}"


def cookie_flags(resp, name: str = "session") -> set[str]:
    for header in resp.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie in {resp.headers.getlist('Set-Cookie')}")


def login_response(app, base_url: str = "http://localhost", headers: dict | None = None):
    client = app.test_client()
    client.get("/login", base_url=base_url, headers=headers)
    return client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(client)},
        base_url=base_url,
        headers=headers,
    )


@pytest.fixture
def make_app(world):
    apps = []

    def _make(**settings):
        app = create_app({"db_url": world.url, "secret_key": "k", "TESTING": True, **settings})
        apps.append(app)
        return app

    yield _make
    for app in apps:
        app.extensions["monitor_db"].dispose()


def test_cookies_are_secure_when_served_over_https(make_app, school):
    app = make_app()
    plain = login_response(app)
    assert plain.status_code == 302
    assert {"httponly", "samesite"} <= cookie_flags(plain) and "secure" not in cookie_flags(plain)
    assert "samesite=lax" in plain.headers["Set-Cookie"].lower()
    tls = login_response(app, base_url="https://localhost")
    assert {"httponly", "secure"} <= cookie_flags(tls)
    assert {"httponly", "secure"} <= cookie_flags(tls, DEVICE_COOKIE)


def test_cookie_secure_setting_and_trusted_proxies(make_app, school):
    assert "secure" in cookie_flags(login_response(make_app(cookie_secure="always")))
    assert "secure" not in cookie_flags(login_response(make_app(cookie_secure="never"), "https://localhost"))
    forwarded = {"X-Forwarded-Proto": "https"}
    # X-Forwarded-Proto counts only from a proxy the settings name (proxy_hops).
    assert "secure" not in cookie_flags(login_response(make_app(), headers=forwarded))
    assert "secure" in cookie_flags(login_response(make_app(proxy_hops=1), headers=forwarded))
    with pytest.raises(ValueError, match="cookie_secure"):
        make_app(cookie_secure="sometimes")


def test_logged_in_requests_keep_the_flags(app, school):
    client = app.test_client()
    log_in(client, "alice")
    resp = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert resp.status_code == 302
    assert_secure_headers(resp)


def test_a_new_sqlite_database_is_private_to_its_owner(tmp_path):
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{path}", writer=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    files = [path, path.with_name("new.db-wal"), path.with_name("new.db-shm")]
    assert all(p.exists() for p in files)  # WAL mode: all three exist while the engine is open
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    engine.dispose()
