"""A camera a ``serve`` runs from its config file (``[[cameras]] source = ...``) also has a source saved on
the admin page: the file's wins. The page, the save and "Test connection" must say what the code does:

- the real serve (its config file, the dashboard's real database, a host name of its own) records which
  cameras its file runs; the admin page says the source is set in that file on that host (masked) and that a
  source saved here is not used; saving is accepted with that warning;
- "Test connection" opens the source in use, the file's, from that serve's host, and the line names it;
- the serve restarted with the camera taken out of its file clears the record, and the page goes back;
- with that serve silent, the dashboard does not test the saved source (not used) in its place;
- a ``database_cameras`` serve on another host does not run the saved source of a camera a file runs.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from monitor.config import Settings
from monitor.serve.config import load_config
from monitor.serve.db_cameras import wanted_cameras
from monitor.store import camera_sources
from monitor.store.config_file_cameras import record_config_cameras
from monitor.store.schema import Camera
from tests.conftest import GROUP, requires_videos, run_cli
from tests.dashboard.helpers import csrf_of
from tests.dashboard.test_source_probes import (
    KEY,
    SERVE_HOST,
    _ask,
    _client,
    _set,
    keyed_app,  # noqa: F401 - a fixture
)
from tests.dashboard.test_toml_serve_loose_ends import _toml_serve
from tests.support.processes import terminate

SAVED = "/nowhere/saved-on-the-page.mp4"  # a saved source no host can open: testing it would fail


def _stop(proc: subprocess.Popen, tmp_path: Path) -> None:
    terminate(proc)
    print((tmp_path / "serve.out").read_text(errors="replace")[-2000:])


def _file_host(world, camera_id: int, serve: subprocess.Popen, wanted: str | None) -> None:
    """Wait until the camera's config-file record reads ``wanted`` (serve's start is not timed)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert serve.poll() is None, "serve ended"
        with world.Session() as db:
            if db.get(Camera, camera_id).file_host == wanted:
                return
        time.sleep(0.5)
    raise AssertionError(f"camera {camera_id}: file_host never became {wanted!r}")


def _source_section(page: str, camera_id: int) -> str:
    start = page.index(f'id="camera-{camera_id}"')
    return page[start : page.index("</section>", start)]


@requires_videos
def test_a_config_file_camera_says_so_and_is_tested_with_the_file_source(
    school,
    world,
    keyed_app,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    _set(admin, room, SAVED)  # saved on the page before the file's serve ever ran
    serve = _toml_serve(world, tmp_path, "room-a")
    try:
        _file_host(world, room, serve, SERVE_HOST)

        section = _source_section(admin.get("/admin/cameras").get_data(as_text=True), room)
        assert f"Source set in the serve config file on host {SERVE_HOST}: {GROUP}" in section, section
        assert "a source saved below is not used while the file lists it" in section

        # Saving is accepted, with the warning that it is not used.
        form = {"csrf_token": csrf_of(admin), "source": "rtsp://viewer:Secr3t-x@cam-9.lan/s2", "hosts": ""}
        page = admin.post(f"/admin/cameras/{room}/source", data=form, follow_redirects=True)
        text = page.get_data(as_text=True)
        assert "Saved, but NOT used" in text and f"serve config file on host {SERVE_HOST}" in text, text
        assert "runs it within 30 s" not in text and "Secr3t-x" not in text
        _set(admin, room, SAVED)

        # The test opens the file's source on the serve's host, and says which source it opened.
        state, took = _ask(admin, room)
        assert took < 10, took
        assert state["ok"] and state["host"] == SERVE_HOST, state
        assert state["from_file"] is True and state["tested_source"] == str(GROUP), state
        assert f"(source {GROUP}, set in the serve config file)" in state["line"], state
        assert f"tested from host {SERVE_HOST}: reachable, 640x360, 30 fps" in state["line"], state
    finally:
        _stop(serve, tmp_path)

    # The camera leaves the file; serve restarts: the record goes, the page and the test are the page's again.
    serve = _toml_serve(world, tmp_path, "room-b")
    try:
        _file_host(world, school["room_b"], serve, SERVE_HOST)
        with world.Session() as db:
            assert db.get(Camera, room).file_host is None
        section = _source_section(admin.get("/admin/cameras").get_data(as_text=True), room)
        assert "serve config file" not in section, section
        state, _ = _ask(admin, room)
        assert not state["ok"] and state["from_file"] is False and state["tested_source"] == SAVED, state
        assert f"(source {SAVED}, saved on this page)" in state["line"], state
    finally:
        _stop(serve, tmp_path)


@requires_videos
def test_the_dashboard_never_tests_the_unused_saved_source_in_place_of_a_silent_file_serve(
    school,
    world,
    keyed_app,  # noqa: F811 - the fixture imported above
) -> None:
    admin = _client(keyed_app, "admin")
    room = school["room_a"]
    _set(admin, room, str(GROUP))  # openable from the dashboard's host, but not the source in use
    with world.Session.begin() as db:  # as a serve on SERVE_HOST recorded it; that serve is stopped now
        record_config_cameras(db, {"room-a": "rtsp://admin:Hidden-9@cam-a.lan/main"}, SERVE_HOST)
    state, took = _ask(admin, room)
    assert took < 10, took
    assert not state["ok"] and "reachable, 640x360" not in state["line"], state
    assert f"the serve on host {SERVE_HOST} runs this camera from its config file" in state["line"], state
    assert "rtsp://***@cam-a.lan/main" in state["line"] and "Hidden-9" not in state["line"], state


def test_a_database_serve_elsewhere_leaves_a_config_file_camera_alone(world, tmp_path: Path) -> None:
    room = world.camera("room-a")
    camera_sources.use_settings(Settings(camera_key=KEY))
    try:
        with world.Session.begin() as db:
            camera_sources.set_camera_source(db, db.get(Camera, room), SAVED, "", keep_password=False)
            record_config_cameras(db, {"room-a": "/videos/room-a.mp4"}, "file-host-1")
        school = tmp_path / "school.toml"
        school.write_text(
            f'[serve]\nlog_dir = "{tmp_path}"\ndatabase_cameras = true\n[defaults]\nalways_on = true\n'
        )
        warnings: list[str] = []
        with world.Session() as db:
            elsewhere = wanted_cameras(db, load_config(school), hostname="db-host-2", warn=warnings.append)
            # the file's own host, once the camera left its file: the stale mark does not hold it back
            same_host = wanted_cameras(db, load_config(school), hostname="file-host-1", warn=warnings.append)
        assert "room-a" not in elsewhere, elsewhere
        assert any("serve config file on host file-host-1" in w for w in warnings), warnings
        assert "room-a" in same_host
    finally:
        camera_sources.use_settings(Settings(camera_key=None))


@requires_videos
def test_the_picture_comes_from_the_config_file_source(world, login) -> None:
    room = world.camera("room-a")
    world.user("ada", admin=True)
    with world.Session.begin() as db:
        camera_sources.set_camera_source(db, db.get(Camera, room), SAVED, "", keep_password=False)
        record_config_cameras(db, {"room-a": str(GROUP)}, "file-host-1")
    admin = login("ada")
    shot = admin.post(f"/api/cameras/{room}/snapshot", headers={"X-CSRFToken": csrf_of(admin)})
    assert shot.status_code == 200, shot.get_json()
    assert (shot.get_json()["width"], shot.get_json()["height"]) == (640, 360)
    # A file source with a password: the dashboard holds only the masked one, and says where to go.
    with world.Session.begin() as db:
        record_config_cameras(db, {"room-a": "rtsp://admin:Hidden-9@cam-a.lan/main"}, "file-host-1")
    refused = admin.post(f"/api/cameras/{room}/snapshot", headers={"X-CSRFToken": csrf_of(admin)})
    message = refused.get_json()["message"]
    assert refused.status_code == 409 and "\n" not in message, message
    assert "serve config file on host file-host-1 (rtsp://***@cam-a.lan/main)" in message, message
    assert "Hidden-9" not in message


def test_serve_check_masks_the_file_source_and_notes_the_unused_saved_one(world, tmp_path: Path) -> None:
    room = world.camera("room-a")
    with world.Session.begin() as db:
        camera_sources.set_camera_source(db, db.get(Camera, room), SAVED, "", keep_password=False)
    school = tmp_path / "school.toml"
    school.write_text(
        '[[cameras]]\nname = "room-a"\nsource = "rtsp://admin:Hidden-9@cam-a.lan/main"\nalways_on = true\n'
        '[[cameras]]\nname = "room-b"\nsource = "0"\nalways_on = true\n'
    )
    proc = run_cli("--db", world.url, "serve", "--config", str(school), "--check", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Hidden-9" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    at = lines.index("room-a: rtsp://***@cam-a.lan/main (always on)")
    assert lines[at + 1] == f"  note: the source saved on the admin page ({SAVED}) is not used", lines
    assert "room-b: 0 (always on)" in lines and proc.stdout.count("note:") == 1
