"""``serve`` and the timetable in the database: ``serve --check`` lists each camera's next three periods from
the database, ``timetable import|export`` round-trip through the real CLI, bad files exit 2 with one line, and
a camera set up on the admin page runs on the timetable entered in the browser."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from monitor.serve.config import parse_config
from monitor.serve.db_cameras import wanted_cameras
from monitor.store import make_engine, session_factory
from monitor.store.cameras import get_or_create_camera
from monitor.store.timetables import save_period
from tests.conftest import run_cli

SCHOOL = """
[[holidays]]
from = 2026-12-24
to = 2026-12-26
label = "Christmas"

[[cameras]]
name = "room-7"
source = "rtsp://cam7/stream"
timetable = [{day = "Mon", start = "09:00", end = "09:50", label = "Maths 7B"},
             {day = "Wed", start = "13:00", end = "13:45", label = "History 9C"}]
changes = [{date = 2026-12-09, cancel = ["13:00"]}]

[[cameras]]
name = "hall"
source = "0"
always_on = true
"""


def test_import_export_round_trip_and_check_lists_the_databases_next_periods(db_url, tmp_path: Path) -> None:
    school = tmp_path / "school.toml"
    school.write_text(SCHOOL)
    before = run_cli("--db", db_url, "serve", "--config", str(school), "--check", timeout=60)
    assert before.returncode == 0, before.stderr
    assert "(config)" in before.stdout and "(database)" not in before.stdout
    done = run_cli("--db", db_url, "timetable", "import", str(school), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["imported holidays: 1", "imported room-7: 2 periods, 1 day changes"]
    exported = run_cli("--db", db_url, "timetable", "export", "-o", str(tmp_path / "out.toml"), timeout=60)
    assert exported.returncode == 0, exported.stderr
    again = run_cli("--db", db_url, "timetable", "import", str(tmp_path / "out.toml"), timeout=60)
    assert again.returncode == 0 and again.stdout == done.stdout
    assert (
        run_cli("--db", db_url, "timetable", "export", timeout=60).stdout
        == (tmp_path / "out.toml").read_text()
    )

    engine = make_engine(db_url)
    with session_factory(engine).begin() as db:  # an edit, as the browser makes it
        save_period(db, get_or_create_camera(db, "room-7").id, 4, time(11), time(11, 45), "Art 7B")
    engine.dispose()
    check = run_cli("--db", db_url, "serve", "--config", str(school), "--check", timeout=60)
    assert check.returncode == 0, check.stderr
    lines = check.stdout.splitlines()
    assert lines[0] == "room-7: rtsp://cam7/stream (timetable)"
    nexts = lines[1:4]
    assert all(line.startswith("  next: ") and line.endswith("(database)") for line in nexts), lines
    assert any("Fri period 1 11:00-11:45 Art 7B" in line for line in nexts), nexts
    assert lines[4] == "hall: 0 (always on)" and len(lines) == 5


def test_bad_files_exit_2_with_one_line(db_url, tmp_path: Path) -> None:
    cases = {
        "missing.toml": None,
        "not.toml": "[[cameras]\nname =",
        "overlap.toml": '[[cameras]]\nname = "r"\ntimetable = [{day = "Mon", start = "09:00", end = "10:00"},'
        ' {day = "Mon", start = "09:30", end = "10:30"}]',
        "empty.toml": "[serve]\n",
    }
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        proc = run_cli("--db", db_url, "timetable", "import", str(tmp_path / name), timeout=60)
        assert proc.returncode == 2, (name, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    unknown = run_cli("--db", db_url, "timetable", "export", "--camera", "nope", timeout=60)
    assert (
        unknown.returncode == 2 and unknown.stderr.strip() == "Error: no timetable stored for camera 'nope'"
    )


def test_a_database_camera_runs_on_the_timetable_entered_in_the_browser(db_url) -> None:
    config = parse_config({"serve": {"database_cameras": True}, "defaults": {"mode": "attention"}}, Path("s"))
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with factory.begin() as db:
        cam = get_or_create_camera(db, "Room 9")
        cam.configured_source = "rtsp://cam9/stream"
    warnings: list[str] = []
    with factory() as db:
        assert wanted_cameras(db, config, warn=warnings.append) == {}
    assert "no timetable" in warnings[0]  # neither always on nor timetabled: refused, as before
    with factory.begin() as db:
        save_period(db, cam.id, 0, time(9), time(9, 45), "Maths 9A")
    with factory() as db:
        spec = wanted_cameras(db, config, warn=warnings.append)["Room 9"]
    engine.dispose()
    assert spec.options["timetable"] == [
        {"day": "Mon", "start": "09:00", "end": "09:45", "label": "Maths 9A"}
    ]


def test_serve_imports_the_toml_once_and_says_when_the_database_differs(
    db_url, tmp_path: Path, caplog
) -> None:
    from monitor.serve.config import load_config
    from monitor.serve.timetables import import_config_timetables

    school = tmp_path / "school.toml"
    school.write_text(SCHOOL)
    config = load_config(school)
    engine = make_engine(db_url)
    factory = session_factory(engine)
    assert import_config_timetables(factory, config) == [
        "holidays: 1",
        "room-7: 2 periods, 1 day changes",
    ]
    caplog.clear()
    assert import_config_timetables(factory, config) == []  # a restart: nothing again, nothing to say
    assert "differs" not in caplog.text
    with factory.begin() as db:
        save_period(db, get_or_create_camera(db, "room-7").id, 4, time(11), time(11, 45), "Art 7B")
    assert import_config_timetables(factory, config) == []  # the browser's edit stays
    engine.dispose()
    assert "camera room-7: the timetable in" in caplog.text and "differs from the database's" in caplog.text
