"""``classroom-monitor serve``: real workers on the real clips, supervised, restarted, stopped cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from monitor.store import make_engine, session_factory
from monitor.store.schema import Camera, ClassSession, WorkerStatus
from tests.conftest import GROUP, TALKING_HEAD, process_output, requires_videos, run_cli, start_cli
from tests.support.http import wait_http
from tests.support.mjpeg_server import free_port

LIGHT = 'loop = true\nrealtime = true\nalways_on = true\nmode = "attention"\nsample_fps = 4\n'


def school_config(tmp_path: Path, cameras: dict[str, Path], extra: str = "") -> Path:
    """A school config running ``cameras`` (name -> clip) looped in real time, lightly (4 frames/s)."""
    text = f'[serve]\nlog_dir = "{tmp_path / "logs"}"\n{extra}\n[defaults]\n{LIGHT}\n'
    for name, clip in cameras.items():
        text += f'[[cameras]]\nname = "{name}"\nsource = "{clip}"\n\n'
    path = tmp_path / "school.toml"
    path.write_text(text)
    return path


def workers(db_url: str) -> dict[str, WorkerStatus]:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as db:
            return {name: ws for name, ws in db.execute(select(Camera.name, WorkerStatus).join(WorkerStatus))}
    finally:
        engine.dispose()


def wait_for(what: str, check: Callable[[], object], timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def running(db_url: str, name: str, not_pid: int | None = None) -> WorkerStatus | None:
    ws = workers(db_url).get(name)
    fresh = ws is not None and ws.state == "running" and ws.frames > 0 and ws.pid != not_pid
    return ws if fresh else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def stop(proc: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    return process_output(proc, timeout=timeout)


@requires_videos
@pytest.mark.slow
def test_serve_restarts_dead_and_stalled_workers_and_stops_everything_cleanly(db_url: str, tmp_path) -> None:
    port = free_port()
    config = school_config(
        tmp_path,
        {"room-1": GROUP, "room-2": TALKING_HEAD},
        extra=f'stall_after_s = 6\n[dashboard]\nhost = "127.0.0.1"\nport = {port}\n',
    )
    serve = start_cli("--db", db_url, "serve", "--config", str(config), logs=tmp_path / "out")
    try:
        first = {
            name: wait_for(f"{name} running", lambda n=name: running(db_url, n))
            for name in ("room-1", "room-2")
        }
        wait_http(f"http://127.0.0.1:{port}/login")  # the dashboard, under gunicorn

        os.kill(first["room-1"].pid, signal.SIGKILL)  # a crash
        os.kill(first["room-2"].pid, signal.SIGSTOP)  # a hang: alive, but no heartbeat
        again = {
            name: wait_for(f"{name} restarted", lambda n=name: running(db_url, n, not_pid=first[n].pid))
            for name in ("room-1", "room-2")
        }
        assert again["room-1"].restarts == 1
        assert again["room-1"].last_error == "killed by SIGKILL"
        assert again["room-2"].restarts == 1
        assert again["room-2"].last_error.startswith("heartbeat stalled")
        assert not alive(first["room-2"].pid), "the hung worker was killed"

        status = run_cli("--db", db_url, "status", timeout=60)
        assert status.returncode == 0, status.stderr
        lines = {line.split()[0]: line for line in status.stdout.splitlines()[1:]}
        assert "running" in lines["room-1"] and "killed by SIGKILL" in lines["room-1"]
        os.kill(again["room-1"].pid, signal.SIGKILL)  # dies just before the stop: its session is closed too
    finally:
        out, err = stop(serve)
    assert serve.returncode == 0, err
    assert "serve stopped" in err
    for ws in again.values():
        assert not alive(ws.pid)
    final = workers(db_url)
    assert {ws.state for ws in final.values()} == {"stopped"}
    assert all(ws.lease_owner is None for ws in final.values())
    engine = make_engine(db_url)
    with session_factory(engine)() as db:
        sessions = db.scalars(select(ClassSession)).all()
    engine.dispose()
    assert sessions and all(cs.ended_at is not None for cs in sessions), "every session was closed"
    assert (tmp_path / "logs" / "room-1.log").read_text().count("--- serve: starting worker") == 2
    assert not _listening(port), "the dashboard stopped too"


@requires_videos
@pytest.mark.slow
def test_workers_and_the_dashboard_die_with_a_killed_serve(db_url: str, tmp_path) -> None:
    port = free_port()
    config = school_config(tmp_path, {"room-1": GROUP}, extra=f"[dashboard]\nport = {port}\n")
    serve = start_cli("--db", db_url, "serve", "--config", str(config), logs=tmp_path / "out")
    try:
        ws = wait_for("room-1 running", lambda: running(db_url, "room-1"))
        wait_http(f"http://127.0.0.1:{port}/login")
    finally:
        serve.kill()  # serve alone, not its process group: its children must follow by themselves
        process_output(serve)
    wait_for("the worker to die with serve", lambda: not alive(ws.pid), timeout=10)
    wait_for("the dashboard to stop", lambda: not _listening(port), timeout=30)


def _listening(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
    except requests.RequestException:
        return False
    return True


BAD_CONFIGS = {
    "unknown key": (
        '[[cameras]]\nname = "a"\nsource = "0"\nalways_on = true\nfps = 3\n',
        "unknown key 'fps'",
    ),
    "missing source": ('[[cameras]]\nname = "a"\nalways_on = true\n', "camera 'a': missing 'source'"),
    "bad time": (
        '[[cameras]]\nname = "a"\nsource = "0"\ntimetable = [{day = "Mon", start = "9h", end = "10:00"}]\n',
        "bad time '9h'",
    ),
    "no timetable": ('[[cameras]]\nname = "a"\nsource = "0"\n', "no timetable; give one, or set always_on"),
    "bad class size": (
        '[[cameras]]\nname = "a"\nsource = "0"\nalways_on = true\nclass_size = 0\n',
        "class size",
    ),
    "unknown table": ('[cameras2]\nname = "a"\n', "unknown key 'cameras2'"),
    "bad port": (
        '[dashboard]\nport = 70000\n[[cameras]]\nname = "a"\nsource = "0"\nalways_on = true\n',
        "port",
    ),
    "not toml": ("[[cameras]\nname = a", "is not valid TOML"),
    "twice": (
        '[defaults]\nalways_on = true\n[[cameras]]\nname = "a"\nsource = "0"\n'
        '[[cameras]]\nname = "a"\nsource = "1"\n',
        "camera 'a': listed twice",
    ),
    "no cameras": ("[serve]\n", "no [[cameras]]"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_a_bad_config_is_refused_with_one_line_and_exit_2(case: str, db_url: str, tmp_path) -> None:
    text, message = BAD_CONFIGS[case]
    path = tmp_path / "school.toml"
    path.write_text(text)
    proc = run_cli("--db", db_url, "serve", "--config", str(path), timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: "), proc.stderr
    assert message in proc.stderr
    assert workers(db_url) == {}, "nothing started"


def test_a_missing_config_file_is_refused_with_one_line(db_url: str, tmp_path) -> None:
    proc = run_cli("--db", db_url, "serve", "--config", str(tmp_path / "nope.toml"), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"Error: config file not found: {tmp_path / 'nope.toml'}"


def test_the_documented_example_config_is_valid() -> None:
    proc = run_cli("serve", "--config", "deploy/school.toml", "--check", timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line for line in lines if not line.startswith("  next: ")] == [
        "Room 101: rtsp://cam-101.school.lan:554/stream2 (timetable)",
        "Room 102: rtsp://cam-102.school.lan:554/stream2 (timetable)",
        "Library: http://cam-lib.school.lan/video.mjpg (always on)",
    ]
    assert len(lines) == 3 + 2 * 3  # each timetabled camera's next three periods (issue 24)


def test_cameras_registered_in_the_database_join_with_the_defaults(db_url: str, tmp_path, caplog) -> None:
    from monitor.serve.config import load_config
    from monitor.serve.supervisor import Supervisor

    engine = make_engine(db_url)
    with session_factory(engine).begin() as db:
        db.add(Camera(name="lab", source="rtsp://cam-lab.school.lan/s2"))
        db.add(Camera(name="old", source=None))  # never given a source: nothing to run
        db.add(Camera(name="clip", source="group_3people.mp4"))  # a file's name only: cannot be reopened
    engine.dispose()
    path = tmp_path / "school.toml"
    path.write_text(
        '[serve]\ndatabase_cameras = true\n[defaults]\nalways_on = true\nmode = "attention"\n'
        '[[cameras]]\nname = "room-1"\nsource = "0"\n'
    )
    supervisor = Supervisor(load_config(path), db_url, ["classroom-monitor"])
    specs = {spec.name: spec for spec in supervisor.plan()}
    assert sorted(specs) == ["lab", "room-1"]
    args = supervisor.worker_args(specs["lab"])
    assert args[:3] == ["worker", "--camera", "lab"]
    assert args[args.index("--source") + 1] == "rtsp://cam-lab.school.lan/s2"
    assert "--mode" in args and "attention" in args and args[-2:] == ["--session", "lab"]

    # Neither always on nor timetabled: left out with a warning, never stopping the school's other cameras.
    path.write_text('[serve]\ndatabase_cameras = true\n[defaults]\nmode = "attention"\n')
    with caplog.at_level("WARNING", logger="monitor.serve.db_cameras"):
        assert Supervisor(load_config(path), db_url, ["classroom-monitor"]).plan() == []
    assert "database camera 'lab': no timetable" in caplog.text
