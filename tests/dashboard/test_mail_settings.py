"""Mail settings on the settings page (admins), a test message through a real SMTP server, and each user's own
e-mail address: good values are stored and audited, bad ones get one clear message, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor.store.schema import AuditLog, User
from tests.dashboard.helpers import World, csrf_of
from tests.support.smtp import SmtpServer, running_smtp, text_of


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def people(world: World) -> None:
    world.user("alice")
    world.user("admin", admin=True)


def form(client, **values) -> dict:
    return {"csrf_token": csrf_of(client), **values}


GOOD = {
    "smtp_host": "mail.school.test",
    "smtp_port": "587",
    "smtp_starttls": "on",
    "smtp_sender": "monitor@school.test",
    "smtp_username": "monitor",
    "alert_after_min": "10",
    "weekly_digest": "on",
    "base_url": "https://monitor.school.test/",
}


def test_admins_save_the_mail_settings_and_bad_values_get_one_message(people, world, login) -> None:
    admin = login("admin")
    page = admin.get("/settings").get_data(as_text=True)
    assert 'id="mail-form"' in page and "CLASSROOM_MONITOR_SMTP_PASSWORD" in page
    resp = admin.post("/admin/settings/mail", data=form(admin, **GOOD))
    assert resp.status_code == 302
    site = admin.get("/api/settings").get_json()
    assert site["smtp_host"] == "mail.school.test" and site["smtp_port"] == 587 and site["smtp_starttls"]
    assert site["base_url"] == "https://monitor.school.test" and site["alert_after_min"] == 10
    assert site["weekly_digest"] and not site["alert_low_heads_up"]
    with world.Session() as db:
        assert db.query(AuditLog).filter_by(action="settings").count() == 1
    for field, bad, why in [
        ("smtp_port", "0", "smtp_port must be a whole number from 1 to 65535"),
        ("smtp_sender", "monitor@school.test\r\nBcc: all@x.test", "smtp_sender must be an e-mail address"),
        ("smtp_host", "mail server", "smtp_host must be a host name"),
        ("alert_after_min", "-5", "alert_after_min must be a whole number of minutes"),
        ("base_url", "javascript:alert(1)", "base_url must be the dashboard"),
    ]:
        resp = admin.post(
            "/admin/settings/mail", data=form(admin, **{**GOOD, field: bad}), follow_redirects=True
        )
        assert resp.status_code == 200 and why in resp.get_data(as_text=True), field
    assert admin.get("/api/settings").get_json() == site, "nothing refused was stored"
    alice = login("alice")
    assert alice.post("/admin/settings/mail", data=form(alice, **GOOD)).status_code == 403


def test_everyone_sets_their_own_address_and_admins_send_themselves_a_test(
    people, world, login, smtp_server
) -> None:
    alice = login("alice")
    bad = alice.post("/account/email", data=form(alice, email="alice at school"))
    assert bad.status_code == 400 and "must look like name@school.example" in bad.get_data(as_text=True)
    ok = alice.post("/account/email", data=form(alice, email="alice@school.test"), follow_redirects=True)
    assert ok.status_code == 200 and "alice@school.test" in ok.get_data(as_text=True)
    with world.Session() as db:
        assert db.query(User).filter_by(username="alice").one().email == "alice@school.test"

    admin = login("admin")
    none = admin.post("/admin/settings/mail/test", data=form(admin), follow_redirects=True)
    assert "set the mail server and the sender first" in none.get_data(as_text=True)
    for key, value in smtp_server.settings().items():
        world.setting(key, value)
    no_address = admin.post("/admin/settings/mail/test", data=form(admin), follow_redirects=True)
    assert "set your own e-mail address first" in no_address.get_data(as_text=True)
    admin.post("/account/email", data=form(admin, email="head@school.test"))
    sent = admin.post("/admin/settings/mail/test", data=form(admin), follow_redirects=True)
    assert "Test message sent to head@school.test" in sent.get_data(as_text=True)
    ((rcpt, message),) = smtp_server.inbox.wait_for(1)
    assert rcpt == ["head@school.test"] and "test message" in text_of(message)
    world.setting("smtp_port", 1)  # nothing listens there
    failed = admin.post("/admin/settings/mail/test", data=form(admin), follow_redirects=True)
    assert failed.status_code == 200 and "cannot reach the mail server 127.0.0.1:1" in failed.get_data(
        as_text=True
    )


def test_admins_set_a_teachers_address_on_the_users_page(people, world, login) -> None:
    admin = login("admin")
    with world.Session() as db:
        alice_id = db.query(User).filter_by(username="alice").one().id
    assert 'class="stack email-form"' in admin.get("/admin/users").get_data(as_text=True)
    ok = admin.post(
        f"/admin/users/{alice_id}/email", data=form(admin, email="alice@school.test"), follow_redirects=True
    )
    assert "Mail for alice now goes to alice@school.test" in ok.get_data(as_text=True)
    assert 'value="alice@school.test"' in ok.get_data(as_text=True)
    bad = admin.post(f"/admin/users/{alice_id}/email", data=form(admin, email="a@b c"), follow_redirects=True)
    assert "must look like name@school.example" in bad.get_data(as_text=True)
    assert admin.post("/admin/users/99999/email", data=form(admin, email="x@y.test")).status_code == 404
    alice = login("alice")
    assert alice.post(f"/admin/users/{alice_id}/email", data=form(alice, email="x@y.test")).status_code == 403
    with world.Session() as db:
        assert db.query(User).filter_by(username="alice").one().email == "alice@school.test"
        assert db.query(AuditLog).filter_by(action="user_email").count() == 1
