"""``WorkerState`` and the restart policy on ``CameraProcess``: the transitions table, and the real
``Supervisor`` driving real child processes (that crash, stall or finish) through it with a test clock."""

from __future__ import annotations

import sqlite3
import sys
import time
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

import monitor.store.db as store_db
from monitor.serve.config import CameraSpec, ServeConfig, ServeConfigError, parse_config
from monitor.serve.process import TRANSITIONS, CameraProcess, IllegalTransition, WorkerState
from monitor.serve.supervisor import Supervisor
from monitor.store import make_engine, session_factory
from monitor.store.schema import Camera, WorkerStatus

ALLOWED = {
    "backoff": {"starting", "standby", "stopped"},
    "starting": {"running", "standby", "backoff", "finished", "stopped"},
    "running": {"standby", "backoff", "finished", "stopped"},
    "standby": {"standby", "starting", "backoff", "finished", "stopped"},
    "finished": {"stopped"},
    "stopped": {"stopped"},
}
"""Written out by hand, so that a change to the table in monitor.serve.process shows here."""


def record(state: WorkerState = WorkerState.BACKOFF, backoff_max_s: float = 8.0) -> CameraProcess:
    cam = CameraProcess(CameraSpec("room-1", {"source": "rtsp://cam/1"}), Path("room-1.log"), backoff_max_s)
    cam._state = state
    return cam


@pytest.mark.parametrize("start", list(WorkerState))
@pytest.mark.parametrize("to", list(WorkerState))
def test_each_move_is_allowed_exactly_as_the_table_says(start: WorkerState, to: WorkerState) -> None:
    cam = record(start)
    if to.value in ALLOWED[start.value]:
        cam.move(to)
        assert cam.state is to
    else:
        with pytest.raises(IllegalTransition, match=f"room-1: {start} -> {to}"):
            cam.move(to)
        assert cam.state is start


def test_the_table_names_every_state_and_nothing_leaves_stopped() -> None:
    assert set(TRANSITIONS) == set(WorkerState)
    assert TRANSITIONS[WorkerState.STOPPED] == {WorkerState.STOPPED}
    assert record().state is WorkerState.BACKOFF  # until the first start


def test_crashes_back_off_1_2_4_up_to_the_limit_and_a_healthy_minute_resets_it() -> None:
    cam = record(WorkerState.STARTING, backoff_max_s=4.0)
    delays = []
    for _ in range(4):
        delays.append(cam.crashed("exited with status 3", now=10.0))
        assert cam.state is WorkerState.BACKOFF and not cam.due(10.0 + delays[-1] - 0.01)
        assert cam.due(10.0 + delays[-1])
        cam.move(WorkerState.STARTING)
    assert delays == [1.0, 2.0, 4.0, 4.0]
    assert cam.restarts == 4 and cam.last_error == "exited with status 3"
    cam.beat(now=100.0, age=0.5)
    assert cam.state is WorkerState.RUNNING and cam.backoff_s == 4.0
    cam.beat(now=159.0, age=0.5)
    assert cam.backoff_s == 4.0
    cam.beat(now=160.0, age=0.5)
    assert cam.backoff_s == 1.0


def test_a_refused_worker_stands_by_without_counting_a_crash() -> None:
    cam = record(WorkerState.STARTING)
    cam.refused(now=5.0)
    assert cam.state is WorkerState.STANDBY and cam.restarts == 0
    assert cam.next_start == 6.0 and cam.backoff_s == 2.0


def test_a_finished_camera_cannot_be_restarted() -> None:
    cam = record(WorkerState.FINISHED)
    with pytest.raises(IllegalTransition):
        cam.started(proc=None, now=1.0, standby=False)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def supervisor(
    tmp_path: Path, db_url: str, exit_code_file: Path, names: tuple[str, ...] = ("room-1",)
) -> tuple[Supervisor, Clock]:
    """A real supervisor whose 'worker' is a Python child that exits with the code in ``exit_code_file``
    (or sleeps when the file says ``sleep``), without ever beating."""
    child = (
        "import pathlib, sys, time; code = pathlib.Path(sys.argv[-1]).read_text().strip();"
        "print('Error: camera unreachable') if code != '0' else None; sys.stdout.flush();"
        "time.sleep(60) if code == 'sleep' else sys.exit(int(code))"
    )
    specs = tuple(
        CameraSpec(name, {"source": "rtsp://cam/1", "always_on": True, "label": str(exit_code_file)})
        for name in names
    )
    config = ServeConfig(
        path=tmp_path / "school.toml",
        cameras=specs,
        log_dir=tmp_path / "logs",
        start_grace_s=2.0,
        backoff_max_s=4.0,
        retention_every_s=0,
        stop_timeout_s=5.0,
    )
    clock = Clock()
    sup = Supervisor(config, db_url, [sys.executable, "-c", child], clock=clock)
    sup.prepare()
    return sup, clock


def tick_at(sup: Supervisor, clock: Clock, now: float) -> CameraProcess:
    clock.now = now
    sup.tick()
    return sup.cameras["room-1"]


def test_the_supervisor_moves_real_crashing_stalling_and_finishing_workers(
    tmp_path: Path, db_url: str
) -> None:
    code = tmp_path / "exit-code"
    code.write_text("3")
    sup, clock = supervisor(tmp_path, db_url, code)
    try:
        cam = tick_at(sup, clock, 0.0)
        assert cam.state is WorkerState.STARTING
        cam.proc.wait(30)
        cam = tick_at(sup, clock, 0.1)
        assert (cam.state, cam.restarts, cam.next_start) == (WorkerState.BACKOFF, 1, 1.1)
        assert cam.last_error == "exited with status 3: Error: camera unreachable"
        assert tick_at(sup, clock, 0.5).proc is None  # not due yet
        cam = tick_at(sup, clock, 1.2)
        assert cam.state is WorkerState.STARTING
        cam.proc.wait(30)
        assert tick_at(sup, clock, 1.3).next_start == pytest.approx(3.3)  # backed off 2 s this time

        code.write_text("sleep")  # a worker that never beats: killed once its start-up grace is over
        cam = tick_at(sup, clock, 3.4)
        assert tick_at(sup, clock, 5.3).state is WorkerState.STARTING
        cam = tick_at(sup, clock, 5.5)
        assert (cam.state, cam.restarts, cam.proc) == (WorkerState.BACKOFF, 3, None)
        assert cam.last_error == "heartbeat stalled: none for 2 s, worker killed"

        code.write_text("0")
        cam = tick_at(sup, clock, 9.5)
        cam.proc.wait(30)
        assert tick_at(sup, clock, 9.6).state is WorkerState.FINISHED
        assert tick_at(sup, clock, 100.0).proc is None  # never restarted
        engine = make_engine(db_url)
        with session_factory(engine)() as db:
            ws = db.scalars(select(WorkerStatus).join(Camera).where(Camera.name == "room-1")).one()
            assert ws.restarts == 3
        engine.dispose()
    finally:
        sup.stop()
    assert sup.cameras["room-1"].state is WorkerState.STOPPED


def test_an_illegal_move_is_logged_and_the_other_cameras_go_on(tmp_path: Path, db_url: str, caplog) -> None:
    code = tmp_path / "exit-code"
    code.write_text("sleep")
    sup, clock = supervisor(tmp_path, db_url, code, names=("room-1", "room-2"))
    try:
        tick_at(sup, clock, 0.0)
        assert {c.state for c in sup.cameras.values()} == {WorkerState.STARTING}
        sup.cameras["room-1"]._state = WorkerState.FINISHED  # a bug: a finished camera with a live worker
        tick_at(sup, clock, 3.0)  # both silent past their grace: killed; room-1 cannot move to backoff
        assert "camera room-1: state machine refused a move" in caplog.text
        assert "finished -> backoff is not allowed" in caplog.text
        assert sup.cameras["room-2"].state is WorkerState.BACKOFF
    finally:
        sup.stop()


LOADING_WORKER = """
import os, pathlib, sys, time
from sqlalchemy import update
from monitor.store import make_engine, session_factory, sessions
from monitor.store.schema import WorkerStatus, utcnow

camera = sys.argv[sys.argv.index("--camera") + 1]
control = pathlib.Path(sys.argv[-1])
db = session_factory(make_engine(os.environ["CLASSROOM_MONITOR_DB_URL"], writer=True))
camera_id = sessions.take_camera(db, camera_name=camera, source="room.mp4", token="t-" + camera)
(control / ("took-" + camera)).write_text("")
while not (control / "beat").exists():  # start-up: opening the source, the first frames ...
    time.sleep(0.05)
while True:  # then a heartbeat a second, as a running worker writes it
    with db.begin() as s:
        s.execute(update(WorkerStatus).where(WorkerStatus.camera_id == camera_id)
                  .values(state="running", last_heartbeat=utcnow()))
    time.sleep(0.2)
"""
"""A child that takes its camera's lease like a worker (``sessions.take_camera``), then stays silent,
starting up, until ``beat`` appears in its control folder, and beats from then on."""


def loading_supervisor(
    tmp_path: Path, db_url: str, names: tuple[str, ...], **serve: float
) -> tuple[Supervisor, Clock, Path]:
    control = tmp_path / "control"
    control.mkdir()
    specs = tuple(
        CameraSpec(name, {"source": "rtsp://cam/1", "always_on": True, "label": str(control)})
        for name in names
    )
    config = ServeConfig(
        path=tmp_path / "school.toml",
        cameras=specs,
        log_dir=tmp_path / "logs",
        retention_every_s=0,
        stop_timeout_s=5.0,
        **serve,
    )
    clock = Clock()
    sup = Supervisor(config, db_url, [sys.executable, "-c", LOADING_WORKER], clock=clock)
    sup.prepare()
    return sup, clock, control


def wait_for(path: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def test_a_worker_that_took_its_lease_but_has_not_beaten_keeps_its_start_up_grace(
    tmp_path: Path, db_url: str
) -> None:
    """Taking the lease writes the worker's row, but it is no heartbeat: on a loaded host the models,
    the source and the first frames can take longer than ``stall_after_s`` after it (issue 25: three of
    twelve workers killed as 'stalled' while starting)."""
    sup, clock, control = loading_supervisor(
        tmp_path, db_url, ("room-1",), stall_after_s=2.0, start_grace_s=20.0
    )
    try:
        cam = tick_at(sup, clock, 0.0)
        pid = cam.proc.pid
        wait_for(control / "took-room-1")
        assert tick_at(sup, clock, 0.5).state is WorkerState.STARTING
        time.sleep(2.5)  # the lease row is now older than stall_after_s, in wall time too
        cam = tick_at(sup, clock, 3.0)
        assert (cam.state, cam.restarts, cam.proc.pid) == (WorkerState.STARTING, 0, pid)
        assert tick_at(sup, clock, 19.0).state is WorkerState.STARTING  # still within its grace
        (control / "beat").write_text("")
        deadline = time.monotonic() + 30
        while tick_at(sup, clock, 19.5).state is not WorkerState.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert (cam.restarts, cam.proc.pid) == (0, pid)
    finally:
        sup.stop()


def test_a_worker_silent_after_taking_its_lease_is_killed_once_its_grace_is_over(
    tmp_path: Path, db_url: str
) -> None:
    sup, clock, control = loading_supervisor(
        tmp_path, db_url, ("room-1",), stall_after_s=2.0, start_grace_s=5.0
    )
    try:
        tick_at(sup, clock, 0.0)
        wait_for(control / "took-room-1")
        assert tick_at(sup, clock, 4.9).state is WorkerState.STARTING
        cam = tick_at(sup, clock, 5.1)
        assert (cam.state, cam.restarts) == (WorkerState.BACKOFF, 1)
        assert cam.last_error == "heartbeat stalled: none for 5 s, worker killed"
    finally:
        sup.stop()


def test_serve_starts_at_most_max_starting_workers_at_once(tmp_path: Path, db_url: str) -> None:
    """Twelve workers loading together on two cores starve each other; serve lets ``max_starting`` load
    at a time and starts the next as one sends its first heartbeat."""
    names = ("room-1", "room-2", "room-3", "room-4", "room-5")
    sup, clock, control = loading_supervisor(tmp_path, db_url, names, max_starting=2, start_grace_s=60.0)
    try:
        tick_at(sup, clock, 0.0)
        tick_at(sup, clock, 1.0)
        spawned = [c.name for c in sup.cameras.values() if c.proc is not None]
        assert spawned == ["room-1", "room-2"]
        assert {c.state for c in sup.cameras.values() if c.proc is None} == {WorkerState.BACKOFF}
        for name in spawned:
            wait_for(control / f"took-{name}")
        tick_at(sup, clock, 2.0)
        assert [c.name for c in sup.cameras.values() if c.proc is not None] == spawned  # a lease is no beat
        (control / "beat").write_text("")  # room-1 and room-2 are up: the next two load
        deadline = time.monotonic() + 30
        while tick_at(sup, clock, 3.0).state is not WorkerState.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        tick_at(sup, clock, 3.0)
        states = {c.name: (c.state, c.proc is not None) for c in sup.cameras.values()}
        assert states["room-2"] == (WorkerState.RUNNING, True)
        assert sum(1 for s, alive in states.values() if s is WorkerState.STARTING and alive) == 2
        assert states["room-5"] == (WorkerState.BACKOFF, False)
        assert all(c.restarts == 0 for c in sup.cameras.values())
    finally:
        sup.stop()


def test_the_watchdog_reads_heartbeats_while_a_worker_holds_the_write_lock(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Twelve workers writing their batches keep SQLite's write lock busy; the supervisor's once-a-second
    heartbeat read must not queue for it (before: ``BEGIN IMMEDIATE``, a wait up to the busy timeout)."""
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_S", 4.0)
    sup, clock, control = loading_supervisor(tmp_path, db_url, ("room-1",), start_grace_s=60.0)
    try:
        tick_at(sup, clock, 0.0)
        wait_for(control / "took-room-1")
        (control / "beat").write_text("")
        deadline = time.monotonic() + 30
        while tick_at(sup, clock, 1.0).state is not WorkerState.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        other = sqlite3.connect(make_url(db_url).database, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE settings SET value = value WHERE 0")
            started = time.monotonic()
            cam = tick_at(sup, clock, 2.0)
            waited = time.monotonic() - started
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert cam.state is WorkerState.RUNNING
        assert "cannot read worker status" not in caplog.text
        assert waited < 1.0, f"the watchdog's tick waited {waited:.1f} s for the write lock"
    finally:
        sup.stop()


@pytest.mark.parametrize("value", ["0", "1.5", "true", '"2"'])
def test_max_starting_must_be_a_whole_number_of_1_or_more(tmp_path: Path, value: str) -> None:
    cameras = '[[cameras]]\nname = "room-1"\nsource = "rtsp://cam/1"\nalways_on = true\n'
    with pytest.raises(ServeConfigError, match="max_starting"):
        parse_config(tomllib.loads(f"[serve]\nmax_starting = {value}\n{cameras}"), tmp_path / "school.toml")
    config = parse_config(tomllib.loads(f"[serve]\nmax_starting = 3\n{cameras}"), tmp_path / "school.toml")
    assert config.max_starting == 3
    assert parse_config(tomllib.loads(cameras), tmp_path / "school.toml").max_starting == 2
