"""``classroom-monitor user`` and ``purge``, and the retention library behind purge."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from monitor.cli import cli
from monitor.store.retention import purge_older_than
from monitor.store.schema import ClassSession, Observation, SessionRollup, TrackSummary, User


def run(db_url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--db", db_url, *args], input=input, catch_exceptions=False)


def test_user_add_list_assign(world):
    cam = world.camera("room-a")
    assert (
        run(world.url, "user", "add", "carol", "--password-stdin", input="a long password\n").exit_code == 0
    )
    assert (
        run(
            world.url, "user", "add", "root", "--admin", "--password-stdin", input="another password\n"
        ).exit_code
        == 0
    )
    with world.Session() as db:
        carol = db.scalars(select(User).where(User.username == "carol")).one()
        assert check_password_hash(carol.password_hash, "a long password") and not carol.is_admin
    dup = run(world.url, "user", "add", "carol", "--password-stdin", input="a long password\n")
    assert dup.exit_code != 0 and "exists" in dup.output
    short = run(world.url, "user", "add", "dave", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "10 characters" in short.output
    assert run(world.url, "user", "assign", "carol", "room-a").exit_code == 0
    assert run(world.url, "user", "assign", "carol", "nowhere").exit_code != 0
    listing = run(world.url, "user", "list").output
    assert "carol\tteacher\troom-a" in listing and "root\tadmin\tall cameras" in listing
    assert cam


def test_user_add_prompts_for_the_password_twice(world):
    result = run(world.url, "user", "add", "erin", input="pass word 1\npass word 1\n")
    assert result.exit_code == 0, result.output


def counts(world, session_id: int) -> tuple[int, int, int]:
    with world.Session() as db:
        return (
            db.scalar(
                select(func.count()).select_from(Observation).where(Observation.session_id == session_id)
            ),
            db.scalar(
                select(func.count()).select_from(SessionRollup).where(SessionRollup.session_id == session_id)
            ),
            db.scalar(
                select(func.count()).select_from(TrackSummary).where(TrackSummary.session_id == session_id)
            ),
        )


def test_purge_deletes_old_rows_only(world):
    cam = world.camera("room-a")
    now = datetime.now(UTC).replace(microsecond=0)
    old = world.lesson(cam, "Old", start=now - timedelta(days=40), seconds=10)
    recent = world.lesson(cam, "Recent", start=now - timedelta(days=2), seconds=10)
    assert counts(world, old) == (60, 10, 3)
    result = purge_older_than(world.engine, 30)
    assert (result.observations, result.rollups, result.track_summaries) == (60, 10, 3)
    assert counts(world, old) == (0, 0, 0)
    assert counts(world, recent) == (60, 10, 3)
    with world.Session() as db:  # the lessons themselves stay listed
        assert db.scalar(select(func.count()).select_from(ClassSession)) == 2


def test_zero_days_keeps_everything(world):
    cam = world.camera("room-a")
    sid = world.lesson(cam, start=datetime(2020, 1, 6, 9, tzinfo=UTC), seconds=5)
    assert purge_older_than(world.engine, 0).observations == 0
    assert counts(world, sid) == (30, 5, 3)


def test_purge_command_uses_the_site_setting(world):
    cam = world.camera("room-a")
    now = datetime.now(UTC).replace(microsecond=0)
    old = world.lesson(cam, start=now - timedelta(days=10), seconds=5)
    nothing = run(world.url, "purge")
    assert nothing.exit_code == 0 and "nothing deleted" in nothing.output
    world.setting("retention_days", 7)
    result = run(world.url, "purge")
    assert result.exit_code == 0 and "deleted 30 observations" in result.output
    assert counts(world, old) == (0, 0, 0)
    assert run(world.url, "purge", "--days", "-1").exit_code != 0


def test_web_process_never_loads_the_cnn(world):
    code = (
        "import sys; from dashboard import create_app; "
        f"app = create_app({{'db_url': {world.url!r}, 'secret_key': 'k'}}); "
        "c = app.test_client(); c.get('/login'); "
        "heavy = [m for m in ('tensorflow', 'ai_edge_litert', 'cv2', 'keras') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_command_serves_the_login_page(world):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "monitor", "dashboard", "--port", str(port), "--db", world.url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    assert resp.status == 200 and b"Log in" in resp.read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(10)
