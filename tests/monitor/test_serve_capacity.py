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
    # 400 cameras at 15 fps need about 184 cores: more than any host running these tests.
    proc = run_cli("serve", "--config", str(school(tmp_path, 400, 15)), "--check", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 400
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, proc.stderr
    assert "400 camera(s) need about 18" in warnings[0] and "lower sample_fps" in warnings[0]


def test_a_small_school_gets_no_warning(tmp_path: Path) -> None:
    proc = run_cli("serve", "--config", str(school(tmp_path, 1, 2)), "--check", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["room 0: rtsp://cam-0.school.lan/stream2 (always on)"]
    assert "warning" not in proc.stderr


@pytest.mark.parametrize(("fps", "held"), [(2, 13), (5, 8), (15, 3)])
def test_a_two_core_host_holds_the_documented_cameras(fps: float, held: int) -> None:
    """The capacity table in docs/benchmarks.md: the warning starts one camera past it."""
    assert cameras_per_host(fps, 2) == held
    specs = [CameraSpec(f"room {n}", {"source": "0", "sample_fps": fps}) for n in range(held + 1)]
    assert capacity_warning(specs[:held], cores=2) is None
    assert capacity_warning(specs, cores=2) is not None


def test_cameras_without_sample_fps_are_counted_at_15_fps() -> None:
    specs = [CameraSpec(f"room {n}", {"source": "0"}) for n in range(4)]
    warning = capacity_warning(specs, cores=2)
    assert warning is not None and "4 without sample_fps counted at 15 fps" in warning
    assert capacity_warning(specs[:3], cores=2) is None
