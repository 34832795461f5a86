"""``WorkerState`` and the restart policy on ``CameraProcess``: the transitions table, and the real
``Supervisor`` driving real child processes (that crash, stall or finish) through it with a test clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.serve.config import CameraSpec, ServeConfig
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
