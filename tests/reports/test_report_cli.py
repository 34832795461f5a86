"""``classroom-monitor export``: files, standard output, zips, and one clear error for bad input."""

from __future__ import annotations

import zipfile

import pytest
from click.testing import CliRunner

from monitor.cli import cli

from .helpers import emotion_words


@pytest.fixture
def run(seeded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key in ("CLASSROOM_MONITOR_DB", "CLASSROOM_MONITOR_DB_URL", "CLASSROOM_MONITOR_CONFIG"):
        monkeypatch.delenv(key, raising=False)

    def invoke(*args: str, db: str | None = None):
        return CliRunner().invoke(cli, ["--db", db or seeded.url, "export", *args], catch_exceptions=False)

    return invoke


def test_export_one_session_to_the_current_folder(run, seeded, tmp_path):
    result = run(str(seeded.ended), "--format", "pdf")
    assert result.exit_code == 0, result.output
    [pdf] = tmp_path.glob("session-1-maths-7b-*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_export_csv_to_standard_output(run, seeded):
    result = run(str(seeded.attention), "-f", "csv", "--out", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("timestamp,school_time,frame_index,track_id,attention,posture\n")
    assert not emotion_words(result.stdout)


def test_export_a_camera_as_one_zip(run, seeded, tmp_path):
    result = run("--camera", "Room 101", "-f", "json", "-f", "html", "--out", str(tmp_path / "room.zip"))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "room.zip") as zf:
        assert len(zf.namelist()) == 4


def test_export_a_date_range_as_one_zip(run, tmp_path):
    result = run("--from", "2026-11-20", "--to", "2026-11-20", "-f", "csv")
    assert result.exit_code == 0, result.output
    [archive] = tmp_path.glob("sessions-2026-11-20-to-2026-11-20.zip")
    with zipfile.ZipFile(archive) as zf:
        assert all(name.endswith(".csv") for name in zf.namelist())


def test_a_range_to_the_last_day_a_date_can_hold_exports_everything_since(run, tmp_path):
    result = run(
        "--from", "2026-11-20", "--to", "9999-12-31", "-f", "csv", "--out", str(tmp_path / "all.zip")
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        assert len(zf.namelist()) >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["9999", "-f", "pdf"], "no session with id 9999"),
        (
            ["1", "-f", "csv", "--out", "/nonexistent-folder/x.csv"],
            "cannot write /nonexistent-folder/x.csv: folder /nonexistent-folder does not exist",
        ),
        (["--camera", "Gym"], "no camera named 'Gym'"),
        (["--from", "1999-01-01", "--to", "1999-01-02"], "no sessions match"),
        (["--from", "9999-12-31", "--to", "9999-12-31"], "no sessions match"),
        (["--to", "0001-01-01"], "no sessions match"),
    ],
)
def test_bad_input_is_one_clear_error_without_traceback(run, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert f"Error: {message}" in result.output
    assert "Traceback" not in result.output


def test_bad_usage_exits_2(run):
    assert run().exit_code == 2
    assert run("1", "--camera", "Room 101").exit_code == 2
    assert run("1", "-f", "xml").exit_code == 2
    assert run("1", "-f", "csv", "-f", "pdf", "--out", "-").exit_code == 2


def test_database_without_tables_is_a_clear_error(run, tmp_path):
    result = run("1", db=str(tmp_path / "empty.db"))
    assert result.exit_code == 1
    assert "db upgrade" in result.output and "Traceback" not in result.output
