"""One camera-name rule for every way in: `` c1``, ``C1`` or a full-width ``ｃ1`` is camera ``c1``, never a
look-alike beside it that slips past its lease; an empty or non-printable name is refused before any run."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cameras import CameraConfigError, camera_name_key, clean_camera_name
from monitor.cli import cli
from monitor.store import make_engine, session_factory
from monitor.store.schema import Camera
from monitor.store.sessions import new_lease_token, take_camera
from tests.conftest import cli_env, run_cli


def invoke(*args: str):
    env = {k: None for k in cli_env() if k.startswith("CLASSROOM_MONITOR_")}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    """The worker command installs SIGINT/SIGTERM handlers; give pytest its own back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def camera_names(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as db:
            return list(db.scalars(select(Camera.name).order_by(Camera.id)))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [(" c1", "c1"), ("c1\t", "c1"), ("Room  101", "Room 101"), ("Room\u00a0101", "Room 101")],
)
def test_a_name_is_trimmed_and_its_spaces_made_one(typed: str, stored: str) -> None:
    assert clean_camera_name(typed) == stored


@pytest.mark.parametrize("typed", ["", "   ", "c\x07", "zero\u200bwidth", "x" * 101])
def test_empty_non_printable_or_long_names_are_refused(typed: str) -> None:
    with pytest.raises(CameraConfigError, match="camera names are 1 to 100 printable characters"):
        clean_camera_name(typed)


def test_case_width_and_spacing_do_not_make_another_camera() -> None:
    assert len({camera_name_key(n) for n in ("c1", "C1", " c1 ", "ｃ１", "Ｃ1")}) == 1
    assert camera_name_key("c1") != camera_name_key("c2")


@pytest.mark.timeout(300)
def test_worker_look_alike_names_record_into_the_same_camera(db_url, keep_signal_handlers) -> None:
    run = ["worker", "--source", "sample", "--max-frames", "2", "--mode", "attention"]
    for name in ("c1", " c1", "C1", "ｃ１"):
        result = invoke("--db", db_url, *run, "--camera", name)
        assert result.exit_code == 0, result.output
    assert camera_names(db_url) == ["c1"]


@pytest.mark.parametrize("name", ["", "  ", "c\x07"])
def test_worker_with_an_empty_or_unprintable_name_is_a_usage_error(
    db_url, name, keep_signal_handlers
) -> None:
    result = invoke("--db", db_url, "worker", "--source", "sample", "--max-frames", "2", "--camera", name)
    assert result.exit_code == 2, result.output
    assert "camera names are 1 to 100 printable characters" in result.output
    assert "Traceback" not in result.output
    assert camera_names(db_url) == []


def test_a_look_alike_name_meets_the_lease_of_the_camera_it_names(db_url, keep_signal_handlers) -> None:
    engine = make_engine(db_url, writer=True)
    try:
        take_camera(session_factory(engine), camera_name="c1", source="rtsp://cam", token=new_lease_token())
    finally:
        engine.dispose()
    for name in (" c1", "C1"):
        result = invoke("--db", db_url, "worker", "--source", "sample", "--max-frames", "2", "--camera", name)
        assert result.exit_code == 1, result.output
        assert "camera is already served by worker" in result.output
    assert camera_names(db_url) == ["c1"]


def test_camera_set_and_show_follow_the_same_rule(db_url) -> None:
    assert invoke("--db", db_url, "camera", "set", "Room 101", "--class-size", "20").exit_code == 0
    result = invoke("--db", db_url, "camera", "set", " room  101 ", "--class-size", "25")
    assert result.exit_code == 0, result.output
    assert camera_names(db_url) == ["Room 101"]
    shown = invoke("--db", db_url, "camera", "show", "ROOM 101", "--json")
    assert shown.exit_code == 0 and '"class_size": 25' in shown.output, shown.output
    empty = invoke("--db", db_url, "camera", "set", " ", "--class-size", "25")
    assert empty.exit_code == 2 and "printable characters" in empty.output


def test_export_finds_a_camera_by_a_look_alike_name(db_url, keep_signal_handlers, tmp_path) -> None:
    assert (
        invoke(
            "--db", db_url, "worker", "--source", "sample", "--max-frames", "2", "--camera", "Room 7"
        ).exit_code
        == 0
    )
    out = tmp_path / "r.zip"
    result = invoke("--db", db_url, "export", "--camera", "room 7", "-f", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_serve_config_follows_the_same_rule(db_url, tmp_path) -> None:
    from monitor.serve.config import load_config

    path = tmp_path / "school.toml"
    camera = '[[cameras]]\nname = "{}"\nsource = "0"\nalways_on = true\n'
    path.write_text(camera.format(" Room  1 "))
    assert [c.name for c in load_config(path).cameras] == ["Room 1"]
    path.write_text(camera.format("c1") + camera.format("C1"))
    proc = run_cli("--db", db_url, "serve", "--config", str(path), "--check", timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "camera 'C1': listed twice" in proc.stderr and "Traceback" not in proc.stderr
