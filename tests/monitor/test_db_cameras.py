"""``serve`` with ``database_cameras = true`` follows the admin page's cameras: hosts honoured, a password
handed to the worker in its environment (never its command line, its log or the camera row), and a changed
source picked up with no restart."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.config import Settings
from monitor.serve.config import load_config
from monitor.serve.db_cameras import SOURCE_ENV, wanted_cameras, worker_env
from monitor.serve.supervisor import Supervisor
from monitor.store import camera_sources, make_engine, session_factory
from monitor.store.cameras import get_or_create_camera
from monitor.store.schema import Camera, ClassSession, Observation, WorkerStatus
from tests.conftest import GROUP, cli_env, process_output, requires_videos, start_cli

KEY = "serve-test-camera-key-0123"
SECRET = "Zq7-never-in-argv"
URL = f"rtsp://viewer:{SECRET}@127.0.0.1:9/stream2"


@pytest.fixture
def key():
    camera_sources.use_settings(Settings(camera_key=KEY))
    yield KEY
    camera_sources.use_settings(Settings(camera_key=None))


def _set(db_url: str, name: str, source: str, hosts: str = "") -> int:
    engine = make_engine(db_url, writer=True)
    with session_factory(engine).begin() as db:
        cam = get_or_create_camera(db, name)
        camera_sources.set_camera_source(db, cam, source, hosts, keep_password=True)
        camera_id = cam.id
    engine.dispose()
    return camera_id


def _school(tmp_path: Path) -> Path:
    path = tmp_path / "school.toml"
    path.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\ndatabase_cameras = true\nretention_every_s = 0\n'
        '[defaults]\nalways_on = true\nmode = "attention"\nloop = true\nrealtime = true\nsample_fps = 5\n'
        '[[cameras]]\nname = "from-file"\nsource = "0"\n'
    )
    return path


def test_hosts_are_honoured_and_a_password_stays_off_the_command_line(db_url, tmp_path, key) -> None:
    _set(db_url, "lab", URL, "")
    _set(db_url, "elsewhere", "rtsp://cam-9.lan/s", "other-host-1, other-host-2")
    _set(db_url, "here", "/videos/here.mp4", f"x-host, {socket.gethostname()}")
    _set(db_url, "from-file", "rtsp://ignored.lan/s")  # the config file's camera: the file wins
    config = load_config(_school(tmp_path))
    engine = make_engine(db_url)
    with session_factory(engine)() as db:
        wanted = wanted_cameras(db, config)
        assert sorted(wanted) == ["here", "lab"]
        assert sorted(wanted_cameras(db, config, hostname="other-host-2.school.lan")) == ["elsewhere", "lab"]
    engine.dispose()
    args = Supervisor(config, db_url, ["classroom-monitor"]).worker_args(wanted["lab"])
    assert SECRET not in " ".join(args) and "--source" not in args and repr(wanted["lab"]).count(SECRET) == 0
    assert worker_env(wanted["lab"]) == {SOURCE_ENV: URL}
    here = Supervisor(config, db_url, ["classroom-monitor"]).worker_args(wanted["here"])
    assert here[here.index("--source") + 1] == "/videos/here.mp4" and worker_env(wanted["here"]) == {}
    # Another key cannot decrypt the password: the camera is left out with a warning, serve goes on.
    camera_sources.use_settings(Settings(camera_key="some-other-key-0123456"))
    warnings: list[str] = []
    with session_factory(make_engine(db_url))() as db:
        assert "lab" not in wanted_cameras(db, config, warn=warnings.append)
    assert any("cannot be decrypted" in w for w in warnings)


@requires_videos
def test_serve_runs_a_password_camera_then_follows_its_new_source(db_url, tmp_path) -> None:
    school = tmp_path / "school.toml"
    school.write_text(
        f'[serve]\nlog_dir = "{tmp_path / "logs"}"\ndatabase_cameras = true\nretention_every_s = 0\n'
        '[defaults]\nalways_on = true\nmode = "attention"\nloop = true\nrealtime = true\nsample_fps = 5\n'
    )
    camera_sources.use_settings(Settings(camera_key=KEY))
    try:
        camera_id = _set(db_url, "lab", URL)
    finally:
        camera_sources.use_settings(Settings(camera_key=None))
    env = cli_env(CLASSROOM_MONITOR_DB_URL=db_url, CLASSROOM_MONITOR_CAMERA_KEY=KEY)
    serve = start_cli("serve", "--config", str(school), env=env, logs=tmp_path / "out")
    engine = make_engine(db_url)
    factory = session_factory(engine)
    try:

        def worker_pid() -> int | None:
            with factory() as db:
                ws = db.get(WorkerStatus, camera_id)
                return ws.pid if ws is not None and ws.pid else None

        deadline = time.monotonic() + 90
        while worker_pid() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        pid = worker_pid()
        assert pid is not None, process_output(serve, timeout=1) if serve.poll() is not None else "no worker"
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        assert SECRET not in cmdline and "--camera\0lab" in cmdline
        assert f"{SOURCE_ENV}={URL}".encode() in Path(f"/proc/{pid}/environ").read_bytes()
        with factory() as db:
            assert db.get(Camera, camera_id).source == "rtsp://***@127.0.0.1:9/stream2"

        # The admin points the camera at a file: within 30 s the old worker is gone and the new one records.
        _set(db_url, "lab", str(GROUP))
        changed = time.monotonic()
        rows = (
            select(func.count())
            .select_from(Observation)
            .join(ClassSession, ClassSession.id == Observation.session_id)
            .where(ClassSession.camera_id == camera_id)
        )
        while time.monotonic() - changed < 90:
            with factory() as db:
                if db.scalar(rows):
                    break
            time.sleep(0.5)
        took = time.monotonic() - changed
        with factory() as db:
            assert db.scalar(rows), "no lesson rows from the new source"
            assert db.get(Camera, camera_id).source == GROUP.name
        assert not os.path.exists(f"/proc/{pid}/cmdline") or worker_pid() != pid
        print(f"new source recording {took:.1f} s after the change")
        assert serve.poll() is None
    finally:
        engine.dispose()
        serve.send_signal(signal.SIGTERM)
        out, err = process_output(serve, timeout=120)
    assert serve.returncode == 0, err[-3000:]
    assert "source or hosts changed" in err
    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log")) + out + err
    assert SECRET not in logs and "viewer" not in logs


def test_a_camera_with_a_timetable_in_the_database_runs_by_it(db_url, tmp_path) -> None:
    from datetime import time as clock

    from monitor.store.timetables import save_period

    camera_id = _set(db_url, "lab", "/videos/lab.mp4")
    path = tmp_path / "school.toml"
    path.write_text('[serve]\ndatabase_cameras = true\n[defaults]\nmode = "attention"\n')
    config = load_config(path)
    assert Supervisor(config, db_url, ["classroom-monitor"]).plan() == []  # neither always on nor timetabled
    engine = make_engine(db_url, writer=True)
    with session_factory(engine).begin() as db:
        save_period(db, camera_id, 0, clock(9, 0), clock(9, 50), "Maths 7B")
    engine.dispose()
    supervisor = Supervisor(config, db_url, ["classroom-monitor"])
    (spec,) = supervisor.plan()
    args = supervisor.worker_args(spec)
    assert args[args.index("--timetable-from") + 1] == str(path.resolve()) and "--session" not in args
