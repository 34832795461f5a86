"""``serve --check`` warns when a config asks for more camera-fps than the host's cores hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.serve.capacity import cameras_per_host, capacity_warning
from monitor.serve.config import CameraSpec
from tests.conftest import run_cli


def school(tmp_path: Path, cameras: int, sample_fps: float | None) -> Path:
    """A school config of ``cameras`` always-on cameras, each processing ``sample_fps`` (None: unset)."""
    fps = "" if sample_fps is None else f"sample_fps = {sample_fps}\n"
    text = f'[serve]\nlog_dir = "{tmp_path / "logs"}"\n\n[defaults]\nalways_on = true\n{fps}\n'
    for n in range(cameras):
        text += f'[[cameras]]\nname = "room {n}"\nsource = "rtsp://cam-{n}.school.lan/stream2"\n\n'
    path = tmp_path / "school.toml"
    path.write_text(text)
    return path


def test_many_cameras_at_15_fps_get_one_warning_line_and_exit_0(tmp_path: Path) -> None:
    # 400 cameras at 15 fps need about 166 cores: more than any host running these tests.
    proc = run_cli("serve", "--config", str(school(tmp_path, 400, 15)), "--check", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 400
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, proc.stderr
    assert "400 camera(s) need about 166" in warnings[0] and "lower sample_fps" in warnings[0]


def test_a_small_school_gets_no_warning(tmp_path: Path) -> None:
    proc = run_cli("serve", "--config", str(school(tmp_path, 1, 2)), "--check", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["room 0: rtsp://cam-0.school.lan/stream2 (always on)"]
    assert "warning" not in proc.stderr


@pytest.mark.parametrize(
    ("fps", "stream_fps", "held"), [(2, 30, 15), (5, 30, 9), (15, 30, 4), (2, 5, 23), (5, 5, 12), (15, 15, 4)]
)
def test_a_two_core_host_holds_the_documented_cameras(fps: float, stream_fps: float, held: int) -> None:
    """The capacity table in docs/benchmarks.md: the warning starts one camera past it."""
    assert cameras_per_host(fps, 2, stream_fps) == held
    options = {"source": "0", "sample_fps": fps, **({"stream_fps": stream_fps} if stream_fps != 30 else {})}
    specs = [CameraSpec(f"room {n}", options) for n in range(held + 1)]
    assert capacity_warning(specs[:held], cores=2) is None
    assert capacity_warning(specs, cores=2) is not None


def test_cameras_without_sample_fps_are_counted_at_15_fps() -> None:
    specs = [CameraSpec(f"room {n}", {"source": "0"}) for n in range(5)]
    warning = capacity_warning(specs, cores=2)
    assert warning is not None and "5 without sample_fps counted at 15 fps" in warning
    assert capacity_warning(specs[:4], cores=2) is None


def test_twelve_cameras_at_5_fps_from_5_fps_substreams_fit_two_cores_and_say_why_in_the_config(
    tmp_path: Path,
) -> None:
    """Measured: 12 at 5 fps from substreams used 1.70-1.77 of 2 cores with p95 under 1 s; from 30 fps main
    streams their decoding alone would add about half a core, and the warning says what to do."""
    main = [CameraSpec(f"room {n}", {"source": "0", "sample_fps": 5}) for n in range(12)]
    warning = capacity_warning(main, cores=2)
    assert warning is not None and "substream" in warning and "stream_fps" in warning
    subs = [CameraSpec(s.name, {**s.options, "stream_fps": 5}) for s in main]
    assert capacity_warning(subs, cores=2) is None
    path = school(tmp_path, 12, 5)
    path.write_text(path.read_text().replace("sample_fps = 5\n", "sample_fps = 5\nstream_fps = 5\n"))
    proc = run_cli("serve", "--config", str(path), "--check", timeout=60)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 12, proc.stderr


def test_a_stream_fps_of_zero_is_refused_with_one_line(tmp_path: Path) -> None:
    path = school(tmp_path, 1, 5)
    path.write_text(path.read_text().replace("sample_fps = 5\n", "sample_fps = 5\nstream_fps = 0\n"))
    proc = run_cli("serve", "--config", str(path), "--check", timeout=60)
    assert proc.returncode == 2 and "stream_fps" in proc.stderr and "Traceback" not in proc.stderr


def test_a_worker_waiting_out_sqlites_busy_timeout_is_not_taken_for_hung(tmp_path: Path) -> None:
    """The watchdog's default outlasts a batch's longest wait for the write lock (with one batch interval)."""
    from monitor.config import Settings
    from monitor.serve.config import load_config
    from monitor.store.db import SQLITE_BUSY_TIMEOUT_S

    config = load_config(school(tmp_path, 1, 5))
    assert config.stall_after_s > SQLITE_BUSY_TIMEOUT_S + Settings().batch_interval_s
