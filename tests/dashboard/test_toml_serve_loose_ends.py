"""A real ``serve`` whose cameras are listed in its config file (``database_cameras`` off), on the dashboard's
real database, under a host name of its own (issue 24's loose ends):

- it answers the admin page's "Test connection" itself, from its capture host; before, only a serve with
  ``database_cameras = true`` did, and the dashboard tested from its own host "as no serve host answered";
- on start it closes the open camera-down episode of a camera it ran before and no longer runs (it left the
  config file while serve was stopped), which nothing else would ever close; an episode of a camera another
  host served last stays open, for that host's serve to end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.serve.alerts import CAMERA_DOWN
from monitor.store import notifications
from monitor.store.schema import AlertSent, WorkerStatus, utcnow
from monitor.timetable import DAYS
from tests.conftest import GROUP, REPO, cli_env, requires_videos
from tests.dashboard.test_source_probes import (
    KEY,
    SERVE_HOST,
    _ask,
    _client,
    _set,
    _wait_until_serve_answers,
    keyed_app,  # noqa: F401 - a fixture
)
from tests.support.processes import terminate


def _toml_serve(world, tmp_path: Path, camera: str) -> subprocess.Popen:
    """``serve`` as SERVE_HOST running ``camera`` from its config file, timetabled, with no period today."""
    other_day = DAYS[(utcnow().weekday() + 3) % 7]
    school = tmp_path / "school.toml"
    school.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\nretention_every_s = 0\n'
        '[defaults]\nmode = "attention"\n'
        f'[[cameras]]\nname = "{camera}"\nsource = "{GROUP}"\n'
        f'timetable = [{{day = "{other_day}", start = "08:00", end = "08:45", label = "Maths 7A"}}]\n'
    )
    # serve and its worker both run as SERVE_HOST: the worker holding room-a is on the serve's own host
    host = tmp_path / "as-other-host"
    host.mkdir(exist_ok=True)
    (host / "sitecustomize.py").write_text(f"import socket\nsocket.gethostname = lambda: {SERVE_HOST!r}\n")
    env = cli_env(CLASSROOM_MONITOR_DB_URL=world.url, CLASSROOM_MONITOR_CAMERA_KEY=KEY)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(host), env.get("PYTHONPATH")]))
    out = open(tmp_path / "serve.out", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--config", str(school)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )


@pytest.fixture
def toml_serve(world, school, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start (when the test asks) a TOML serve running room-a; stopped with SIGTERM at the end."""
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        procs.append(_toml_serve(world, tmp_path, "room-a"))
        return procs[-1]

    yield start
    for proc in procs:
        terminate(proc)
    print((tmp_path / "serve.out").read_text(errors="replace")[-3000:])


@requires_videos
def test_a_serve_with_its_cameras_in_toml_answers_the_connection_test(
    school,
    world,
    keyed_app,  # noqa: F811 - the fixture imported above
    toml_serve,
) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    _set(admin, room, str(GROUP))  # the source typed on the admin page, tested from the capture host
    serve = toml_serve()
    _wait_until_serve_answers(world, room, serve)

    state, took = _ask(admin, room)
    assert took < 10, took
    assert state["ok"] and state["host"] == SERVE_HOST, state
    assert f"tested from host {SERVE_HOST}: reachable, 640x360, 30 fps" in state["line"], state
    assert "no serve host answered" not in state["line"]
    print(f"answered by the TOML serve's host {SERVE_HOST} in {took:.2f} s")


def test_a_serve_restarted_without_a_camera_closes_its_open_alert(school, world, login, toml_serve) -> None:
    gym, hall = world.camera("gym"), world.camera("hall")
    opened = utcnow() - timedelta(hours=3)
    with world.Session.begin() as db:
        for camera_id, last_host in ((gym, SERVE_HOST), (hall, "capture-elsewhere")):
            db.add(
                WorkerStatus(
                    camera_id=camera_id,
                    hostname=last_host,
                    pid=4321,
                    state="failed",
                    last_heartbeat=opened,
                    restarts=2,
                    last_error="exited with status 1",
                )
            )
            notifications.start_alert(db, CAMERA_DOWN, camera_id, opened, "worker stopped")
    # serve comes back with room-a only in its config file: gym left it, hall is another host's
    serve = toml_serve()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert serve.poll() is None, "serve ended"
        with world.Session() as db:
            closed = {a.camera_id: a.ended_at for a in db.query(AlertSent)}
        if closed[gym] is not None:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the episode of gym, which no serve runs any more, was never closed")
    assert closed[hall] is None, "another host's camera: its own serve ends its episode"
    shown = {a["camera"]: a["open"] for a in login("admin").get("/api/health").get_json()["alerts"]}
    assert shown == {"gym": False, "hall": True}
