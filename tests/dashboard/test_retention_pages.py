"""What people see of retention: health says when it last ran and what it deleted; a purged lesson says its
observations were deleted by the retention policy (page, API, JSON and CSV), never "no faces"."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, datetime, timedelta

import jsonschema

from monitor.reports.json_export import SCHEMA_PATH
from monitor.store import make_engine
from monitor.store.retention import OVERDUE_AFTER_S, run_retention

PURGED = "Observations deleted by the retention policy"
NO_FACES = "No faces were detected"


def text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return html.unescape(resp.get_data(as_text=True))


def csv_rows(client, session_id: int) -> list[list[str]]:
    resp = client.get(f"/sessions/{session_id}/export.csv")
    assert resp.status_code == 200
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


def purge_now(world, days: int = 30) -> None:
    """One scheduled run, as ``serve`` starts it."""
    world.setting("retention_days", days)
    engine = make_engine(world.url, writer=True)
    try:
        run_retention(engine, "serve")
    finally:
        engine.dispose()


def lessons(world) -> dict[str, int]:
    """An old lesson, one that straddles the 30-day cutoff, a recent one and an old one without faces."""
    cam = world.camera("room-a")
    world.user("alice", cameras=(cam,))
    world.user("admin", admin=True)
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "old": world.lesson(cam, "Old", start=now - timedelta(days=40), seconds=30),
        # 10 s before the cutoff, 5 min long: the test may take minutes on a busy machine and still cut it
        "straddles": world.lesson(cam, "Straddles", start=now - timedelta(days=30, seconds=10), seconds=300),
        "recent": world.lesson(cam, "Recent", start=now - timedelta(days=2), seconds=30),
        "faceless": world.lesson(cam, "Faceless", start=now - timedelta(days=1), seconds=0),
    }


def test_health_says_retention_never_ran_then_when_it_ran_and_what_it_deleted(world, login):
    ids = lessons(world)
    world.setting("retention_days", 30)
    admin, alice = login("admin"), login("alice")
    before = admin.get("/api/health").get_json()["retention"]
    assert (before["retention_days"], before["last_run_at"], before["overdue"]) == (30, None, True)
    assert "never run" in before["text"] and "never run" in text(admin.get("/health"))

    purge_now(world)
    for client in (admin, alice):  # site-wide, the same for every role
        r = client.get("/api/health").get_json()["retention"]
        assert r["last_run_at"] is not None and 0 <= r["last_run_age_s"] < 60 and not r["overdue"]
        run = r["last_run"]
        assert (run["trigger"], run["days"], run["error"]) == ("serve", 30, None)
        # all 30 s of the old lesson and the first 10 s (or more, as the clock ran on) of the other
        assert run["sessions"] == 2 and 6 * 40 <= run["observations"] < 6 * 330
        assert "last ran" in r["text"] and f"deleted {run['observations']} observations" in r["text"]
    page = text(admin.get("/health"))
    assert 'id="retention-status"' in page and "last ran" in page and "from 2 lessons" in page
    assert ids


def test_health_flags_a_purge_that_has_not_run_for_two_days(world, login):
    lessons(world)
    purge_now(world)
    later = datetime.now(UTC) + timedelta(seconds=OVERDUE_AFTER_S + 60)
    from monitor.store.retention import retention_status

    with world.Session() as db:
        status = retention_status(db, later)
    assert status["overdue"] and "Overdue" in status["text"]


def test_a_purged_lesson_says_so_on_its_page_and_in_the_api(world, login):
    ids = lessons(world)
    purge_now(world)
    alice = login("alice")
    page = text(alice.get(f"/sessions/{ids['old']}"))
    assert PURGED in page and NO_FACES not in page
    summary = alice.get(f"/api/sessions/{ids['old']}").get_json()["summary"]
    assert summary["lines"][0].startswith(PURGED) and summary["purged"].startswith(PURGED)
    # A lesson that lost only its start keeps its figures and says what went.
    part = alice.get(f"/api/sessions/{ids['straddles']}").get_json()["summary"]
    assert part["faces_seen"] and "part of this lesson" in part["lines"][0]
    assert any(line.startswith("Heads up: ") for line in part["lines"])
    # Lessons the purge did not touch read as before.
    assert PURGED not in text(alice.get(f"/sessions/{ids['recent']}"))
    faceless = text(alice.get(f"/sessions/{ids['faceless']}"))
    assert NO_FACES in faceless and PURGED not in faceless


def test_a_purged_lesson_says_so_in_its_json_and_csv_reports(world, login):
    ids = lessons(world)
    purge_now(world)
    alice = login("alice")
    report = json.loads(alice.get(f"/sessions/{ids['old']}/export.json").get_data())
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(report)
    assert report["session"]["retention_note"].startswith(PURGED)
    assert report["session"]["observations_purged_at"] is not None
    recent = json.loads(alice.get(f"/sessions/{ids['recent']}/export.json").get_data())
    assert (recent["session"]["retention_note"], recent["session"]["observations_purged_at"]) == (None, None)

    rows = csv_rows(alice, ids["old"])
    assert rows[0][0] == "timestamp" and len(rows) == 2 and rows[1][0].startswith(PURGED)
    part = csv_rows(alice, ids["straddles"])
    assert "part of this lesson" in part[1][0] and len(part) > 3 and part[2][0][:4].isdigit()
    untouched = alice.get(f"/sessions/{ids['recent']}/export.csv").get_data(as_text=True)
    assert PURGED not in untouched
