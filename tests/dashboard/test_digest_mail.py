"""``classroom-monitor digest --week``: one mail per teacher through a real SMTP server on loopback, whose
figures are the trends API's, in the teacher's language, with no expression in attention-only mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.labels import EMOTIONS
from monitor.locales import gettext_for
from monitor.serve.alerts import Notifier
from monitor.serve.config import parse_config
from monitor.store.schema import AlertSent, ClassSession, DigestSent, LessonMarker, User, WorkerStatus
from tests.conftest import run_cli
from tests.dashboard.helpers import World
from tests.dashboard.test_trends import lesson
from tests.support.smtp import SmtpServer, html_of, running_smtp, text_of

WEEK = "2026-W46"
MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # the Monday of 2026-W46
BASE = "https://monitor.school.test"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


def mail_to(world: World, name: str, address: str, locale: str | None = None) -> None:
    proc = run_cli("--db", world.url, "user", "email", name, address, timeout=60)
    assert proc.returncode == 0, proc.stderr
    if locale:
        with world.Session.begin() as db:
            db.query(User).filter_by(username=name).one().locale = locale


def configure(world: World, server: SmtpServer, **more) -> None:
    for key, value in {**server.settings(), "base_url": BASE, **more}.items():
        world.setting(key, value)


@pytest.fixture
def school(world: World) -> dict:
    """Maths 7B on room A over three weeks (alice), History 8C on room B (li, who reads Chinese)."""
    room_a, room_b = world.camera("room-a"), world.camera("room-b")
    day = timedelta(days=1)
    ids = {
        "m_w44": lesson(world, room_a, "Maths 7B · Mon period 1", MONDAY - 14 * day, heads_up=0.9),
        "m_w45": lesson(world, room_a, "Maths 7B · Mon period 1", MONDAY - 7 * day, heads_up=0.7),
        "m_mon": lesson(world, room_a, "Maths 7B · Mon period 1", MONDAY, heads_up=0.5),
        "m_wed": lesson(world, room_a, "Maths 7B · Wed period 3", MONDAY + 2 * day, heads_up=0.3),
        "m_fri": lesson(world, room_a, "Maths 7B · Fri period 2", MONDAY + 4 * day, heads_up=0.8),
        "next": lesson(world, room_a, "Maths 7B · Mon period 1", MONDAY + 7 * day, heads_up=0.1),
        "h_w45": lesson(world, room_b, "History 8C · Tue period 1", MONDAY - 6 * day, heads_up=0.6),
        "h_tue": lesson(world, room_b, "History 8C · Tue period 1", MONDAY + day, heads_up=0.4),
    }
    with world.Session.begin() as db:
        db.add(
            LessonMarker(
                session_id=ids["m_wed"], at=MONDAY + 2 * day + timedelta(seconds=30), text="pop quiz"
            )
        )
    world.user("alice", cameras=(room_a,))
    world.user("li", cameras=(room_b,))
    world.user("admin", admin=True)
    mail_to(world, "alice", "alice@school.test")
    mail_to(world, "li", "li@school.test", locale="zh_Hans_CN")
    mail_to(world, "admin", "admin@school.test")
    return ids


def by_recipient(server: SmtpServer) -> dict[str, list]:
    out: dict[str, list] = {}
    for rcpt, message in server.inbox.received():
        for to in rcpt:
            out.setdefault(to, []).append(message)
    return out


def pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def test_digest_week_mails_each_teacher_once_with_the_trends_apis_figures(
    school, world, login, smtp_server
) -> None:
    configure(world, smtp_server)
    proc = run_cli("--db", world.url, "digest", "--week", WEEK, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = by_recipient(smtp_server)
    assert sorted(got) == ["alice@school.test", "li@school.test"], "one per teacher; admins get none"
    assert all(len(messages) == 1 for messages in got.values())

    alice = got["alice@school.test"][0]
    text = text_of(alice)
    api = (
        login("alice")
        .get("/api/trends", query_string={"label": "Maths 7B", "from": "2026-09-14", "to": "2026-11-15"})
        .get_json()
    )
    week = next(w for w in api["weekly"] if w["week"] == "2026-11-09")
    usual = [w["attention"] for w in api["weekly"] if w["week"] < "2026-11-09"]
    assert week["lessons"] == 3
    assert f"heads up {pct(week['attention'])} (usual for this class: {pct(sum(usual) / len(usual))})" in text
    this_week = [p for p in api["points"] if "2026-11-09" <= p["started_at"][:10] <= "2026-11-15"]
    assert [p["session_id"] for p in this_week] == [school["m_mon"], school["m_wed"], school["m_fri"]]
    for p in this_week:
        assert f"{p['label']}: heads up {pct(p['attention'])}" in text
        assert f"{BASE}/sessions/{p['session_id']}" in text
        assert f'href="{BASE}/sessions/{p["session_id"]}"' in html_of(alice)
    lowest = text.split("Lowest periods:")[1].split("Lessons:")[0]
    assert lowest.index("Wed period 3") < lowest.index("Mon period 1") < lowest.index("Fri period 2")
    assert "pop quiz" in text.split("Markers:")[1]
    assert "History" not in text and f"/sessions/{school['next']}" not in text

    li = got["li@school.test"][0]
    zh = gettext_for("zh_Hans_CN")
    assert li["Subject"].startswith(zh("Weekly digest: %(week)s").split("%")[0])
    assert zh("Lessons:") in text_of(li) and zh("Lessons:") != "Lessons:"
    assert "History 8C · Tue period 1" in text_of(li) and "Maths" not in text_of(li)

    again = run_cli("--db", world.url, "digest", "--week", WEEK, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "already sent to alice@school.test" in again.stdout
    assert len(smtp_server.inbox.received()) == 2, "a week reaches a teacher once"
    with world.Session() as db:
        assert db.query(DigestSent).filter_by(week=WEEK).count() == 2


def test_an_attention_only_site_mails_no_expression_word_or_figure(world, login, smtp_server) -> None:
    room = world.camera("room-a")
    lesson(world, room, "Art 9A", MONDAY - timedelta(days=7), mode="emotion", engagement=0.6)
    lesson(world, room, "Art 9A", MONDAY, mode="emotion", engagement=0.6)
    world.user("alice", cameras=(room,))
    mail_to(world, "alice", "alice@school.test")
    configure(world, smtp_server)

    dry = run_cli("--db", world.url, "digest", "--week", WEEK, "--dry-run", timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert "engagement index 60%" in dry.stdout, "with emotions allowed, the index is there"
    assert smtp_server.inbox.received() == [], "a dry run mails nothing"

    world.setting("mode", "attention")
    proc = run_cli("--db", world.url, "digest", "--week", WEEK, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ((rcpt, message),) = smtp_server.inbox.received()
    words = [*EMOTIONS, "emotion", "expression", "engagement"]
    for body in (text_of(message), html_of(message), message["Subject"]):
        assert not any(w in body.lower() for w in words), body
    assert "heads up 80%" in text_of(message)


def test_a_bad_week_or_no_mail_server_is_one_clear_line(world) -> None:
    bad = run_cli("--db", world.url, "digest", "--week", "2026-W60", timeout=60)
    assert bad.returncode == 1 and "bad week '2026-W60'" in bad.stderr and "Traceback" not in bad.stderr
    room = world.camera("room-a")
    lesson(world, room, "Art 9A", MONDAY)
    world.user("alice", cameras=(room,))
    mail_to(world, "alice", "alice@school.test")
    none = run_cli("--db", world.url, "digest", "--week", WEEK, timeout=60)
    assert none.returncode == 1 and "no mail server is set" in none.stderr and "Traceback" not in none.stderr
    for key, value in {"smtp_host": "127.0.0.1", "smtp_port": 1, "smtp_sender": "m@school.test"}.items():
        world.setting(key, value)  # nothing listens on port 1
    away = run_cli("--db", world.url, "digest", "--week", WEEK, timeout=60)
    assert away.returncode == 1 and "cannot reach the mail server 127.0.0.1:1" in away.stderr
    with world.Session() as db:
        assert db.query(DigestSent).count() == 0, "not delivered, not recorded: the next try sends it"


def test_serve_mails_last_weeks_digest_once_from_monday_seven_school_time(school, world, smtp_server) -> None:
    configure(world, smtp_server, timezone="Asia/Shanghai")
    config = parse_config({"serve": {"database_cameras": True}}, Path("school.toml"))
    notifier = Notifier(world.Session, config, list)
    sunday_utc = datetime(2026, 11, 15, tzinfo=UTC)  # Monday 16 November starts at 16:00 UTC the day before
    notifier.check_digest(sunday_utc + timedelta(hours=22, minutes=59))  # Monday 06:59 in Shanghai
    assert smtp_server.inbox.received() == []
    notifier.check_digest(sunday_utc + timedelta(hours=23))  # Monday 07:00
    got = by_recipient(smtp_server)
    assert sorted(got) == ["alice@school.test", "li@school.test"]
    for hours in (23.5, 30, 24 * 3):
        notifier.check_digest(sunday_utc + timedelta(hours=hours))
    assert len(smtp_server.inbox.received()) == 2, "each teacher gets a week once"
    with world.Session() as db:
        assert {(d.week, d.trigger) for d in db.query(DigestSent)} == {(WEEK, "serve")}
    world.setting("weekly_digest", False)
    notifier.check_digest(sunday_utc + timedelta(days=7, hours=23))
    assert len(smtp_server.inbox.received()) == 2, "weekly_digest off: none"


def test_a_class_far_below_its_usual_share_for_ten_minutes_alerts_its_teachers_once(
    world, smtp_server
) -> None:
    room = world.camera("room-a")
    now = datetime.now(UTC).replace(microsecond=0)
    for weeks in (1, 2):
        lesson(world, room, "Maths 7B · Mon period 1", now - timedelta(weeks=weeks), heads_up=0.8)
    running = lesson(
        world,
        room,
        "Maths 7B · Mon period 1",
        now - timedelta(minutes=12),
        heads_up=0.3,
        seconds=720,
        running=True,
    )
    with world.Session.begin() as db:
        db.add(WorkerStatus(camera_id=room, state="running", session_id=running))
    world.user("alice", cameras=(room,))
    world.user("bob")
    world.user("admin", admin=True)
    for name in ("alice", "bob", "admin"):
        mail_to(world, name, f"{name}@school.test")
    configure(world, smtp_server)
    config = parse_config({"serve": {"database_cameras": True}}, Path("school.toml"))
    notifier = Notifier(world.Session, config, list)
    notifier.check_low_heads_up(now)
    assert smtp_server.inbox.received() == [], "off by default"

    world.setting("alert_low_heads_up", True)
    for _ in range(3):
        notifier.check_low_heads_up(now)
    ((rcpt, message),) = smtp_server.inbox.wait_for(1)
    assert rcpt == ["alice@school.test"], "the camera's teacher only"
    assert message["Subject"] == "Heads-up share low in Maths 7B · Mon period 1"
    assert "30% of the readable heads were up; this class usually has 80%" in text_of(message)
    assert f"{BASE}/sessions/{running}" in text_of(message)
    with world.Session.begin() as db:
        db.get(ClassSession, running).ended_at = now
    notifier.check_low_heads_up(now)
    with world.Session() as db:
        (episode,) = db.query(AlertSent).all()
    assert episode.session_id == running and episode.ended_at is not None
    assert len(smtp_server.inbox.received()) == 1
