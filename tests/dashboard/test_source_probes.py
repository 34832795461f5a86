"""The admin page's "Test connection" from the serving host (issue 24): a real ``serve`` with
``database_cameras = true``, under a host name of its own, takes the request, opens the source itself and
answers with metadata only; a bad source gives a masked error; with no serve the dashboard tests from its
own host and says so. Teachers cannot ask, and old requests are purged."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.store.schema import SourceProbe, utcnow
from monitor.store.source_probes import probe_row, request_probe
from tests.conftest import GROUP, REPO, cli_env, requires_videos
from tests.dashboard.conftest import running_app
from tests.dashboard.helpers import csrf_of, log_in
from tests.support.processes import terminate

KEY = "probe-test-camera-key-0123"
USER, PASSWORD = "probe-user", "Pr0be-pass-never-shown"
SERVE_HOST = "probe-host-7"
# serve as a host of another name: socket.gethostname() answers SERVE_HOST in that process only
AS_OTHER_HOST = (
    f"import socket, runpy; socket.gethostname = lambda: {SERVE_HOST!r}; "
    "runpy.run_module('monitor', run_name='__main__')"
)


@pytest.fixture
def keyed_app(world):
    with running_app(world, camera_key=KEY) as app:
        yield app


@pytest.fixture
def other_host_serve(world, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """``serve`` (database_cameras = true, no camera of its own) on the world's database as SERVE_HOST."""
    school = tmp_path / "school.toml"
    school.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\ndatabase_cameras = true\nretention_every_s = 0\n'
        '[defaults]\nalways_on = false\nmode = "attention"\n'
    )
    env = cli_env(CLASSROOM_MONITOR_DB_URL=world.url, CLASSROOM_MONITOR_CAMERA_KEY=KEY)
    out = open(tmp_path / "serve.out", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-c", AS_OTHER_HOST, "serve", "--config", str(school)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )
    try:
        yield proc
    finally:
        terminate(proc)
        out.close()


def _client(app, name: str):
    client = app.test_client()
    assert log_in(client, name).status_code == 302
    return client


def _set(client, camera_id: int, source: str, hosts: str = "") -> None:
    form = {"csrf_token": csrf_of(client), "source": source, "hosts": hosts}
    assert client.post(f"/admin/cameras/{camera_id}/source", data=form).status_code == 302


def _ask(client, camera_id: int) -> tuple[dict, float]:
    """The page's script: POST, then poll twice a second; returns the answer and the seconds it took."""
    started = time.monotonic()
    resp = client.post(
        f"/admin/cameras/{camera_id}/test",
        data={"csrf_token": csrf_of(client)},
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 202, resp.get_data(as_text=True)
    poll = resp.get_json()["poll"]
    while time.monotonic() - started < 20:
        state = client.get(poll, headers={"Accept": "application/json"}).get_json()
        if state["done"]:
            return state, time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError("no answer within 20 s")


def _wait_until_serve_answers(world, camera_id: int, serve: subprocess.Popen) -> None:
    """serve's start (imports, migrations check) is not timed: wait until it answers one request."""
    with world.Session() as db:
        probe_id = request_probe(db, camera_id, "warm-up")
        db.commit()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert serve.poll() is None, "serve ended"
        with world.Session() as db:
            row = probe_row(db, probe_id)
            if row is not None and row.answered:
                assert row.answered_by == SERVE_HOST
                return
            if row is not None and row.claimed_by is None and (utcnow() - row.requested_at).seconds > 8:
                row = None
        if row is None:  # too old to be taken: ask again
            with world.Session() as db:
                probe_id = request_probe(db, camera_id, "warm-up")
                db.commit()
        time.sleep(0.5)
    raise AssertionError("serve never answered a connection test")


@requires_videos
def test_the_serving_host_answers_with_metadata_and_a_masked_error(
    school, world, keyed_app, other_host_serve
) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    _set(admin, room, str(GROUP), SERVE_HOST)
    _wait_until_serve_answers(world, room, other_host_serve)

    state, took = _ask(admin, room)
    assert took < 10, took
    assert state["ok"] and state["host"] == SERVE_HOST, state
    assert f"tested from host {SERVE_HOST}: reachable, 640x360, 30 fps" in state["line"], state
    print(f"answered by {SERVE_HOST} in {took:.2f} s")

    # Without the page's script the form waits for the same answer and flashes it.
    started = time.monotonic()
    admin.post(f"/admin/cameras/{room}/test", data={"csrf_token": csrf_of(admin)})
    assert time.monotonic() - started < 10
    page = admin.get("/admin/cameras").get_data(as_text=True)
    assert f"tested from host {SERVE_HOST}: reachable, 640x360" in page, page

    # A refused RTSP address with a password: the serve host's error, with the credentials masked.
    _set(admin, room, f"rtsp://{USER}:{PASSWORD}@127.0.0.1:9/stream", SERVE_HOST)
    state, took = _ask(admin, room)
    assert took < 10, took
    assert not state["ok"] and state["host"] == SERVE_HOST, state
    assert "not reachable: the source could not be opened" in state["line"], state
    with world.Session() as db:
        stored = [(p.answered_by, p.error, p.width) for p in db.query(SourceProbe).all()]
    assert PASSWORD not in repr(stored) and USER not in repr(stored) + state["line"]
    assert all(width is None or width == 640 for _, _, width in stored)


@requires_videos
def test_without_a_serve_host_the_dashboard_tests_and_says_so(school, keyed_app) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    _set(admin, room, str(GROUP))
    state, took = _ask(admin, room)
    assert took < 10, took
    host = socket.gethostname()
    assert state["ok"] and state["host"] == host, state
    fallback = f"tested from host {host} (the dashboard's host; no serve host answered): reachable, 640x360"
    assert fallback in state["line"], state
    print(f"answered by the dashboard's host in {took:.2f} s")


def test_a_teacher_cannot_ask_for_a_test_and_old_requests_are_purged(school, world, keyed_app) -> None:
    admin, teacher = _client(keyed_app, "admin"), _client(keyed_app, "alice")
    room = school["room_a"]
    _set(admin, room, "rtsp://cam-a.school.lan/stream2")
    asked = teacher.post(f"/admin/cameras/{room}/test", data={"csrf_token": csrf_of(teacher)})
    assert asked.status_code == 403
    with world.Session() as db:
        old = SourceProbe(camera_id=room, requested_at=utcnow() - timedelta(hours=2), requested_by="admin")
        db.add(old)
        db.commit()
        old_id = old.id
    assert teacher.get(f"/admin/cameras/{room}/test/{old_id}").status_code == 403
    resp = admin.post(
        f"/admin/cameras/{room}/test",
        data={"csrf_token": csrf_of(admin)},
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 202
    with world.Session() as db:
        ids = [p.id for p in db.query(SourceProbe).all()]
    assert ids == [resp.get_json()["probe"]], ids
    assert admin.get(f"/admin/cameras/{room}/test/{ids[0] + 100}").status_code == 404
    assert admin.get(f"/admin/cameras/{school['room_b']}/test/{ids[0]}").status_code == 404
